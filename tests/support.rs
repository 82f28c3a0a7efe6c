//! Helpers shared by the end-to-end tests that run the real
//! `burgee-sidecar serve` (`serve.rs`, `bad_input.rs`): capturing its output,
//! an HTTP agent, and the answer a test inspects.

// Each test binary uses its own subset of these helpers; a failed unwrap in a
// test helper is a failed test.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

/// Read a child's stderr into a shared string.
pub fn capture(stream: impl Read + Send + 'static) -> (Arc<Mutex<String>>, JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let handle = std::thread::spawn(move || {
        let mut lines = BufReader::new(stream);
        let mut line = String::new();
        while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
            sink.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    (text, handle)
}

/// An HTTP agent that returns 4xx and 5xx as answers, not errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// An HTTP answer, read whole.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: ureq::http::HeaderMap,
    /// The body as text.
    pub text: String,
}

impl From<Result<ureq::http::Response<ureq::Body>, ureq::Error>> for Reply {
    fn from(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Self {
        let mut r = r.unwrap();
        let text = r.body_mut().with_config().limit(64 * 1024 * 1024).read_to_string().unwrap();
        Reply { status: r.status().as_u16(), headers: r.headers().clone(), text }
    }
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    /// Assert the status and the whole JSON body.
    pub fn expect(&self, status: u16, body: &Value) {
        assert_eq!((self.status, &self.json()), (status, body), "{}", self.text);
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}
