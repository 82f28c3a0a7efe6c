//! Helpers shared by the sidecar's tests: for the real `burgee-sidecar
//! serve` (`serve.rs`, `bad_input.rs`, `hostile.rs`, `soak.rs`) starting and
//! stopping it, capturing its output, bounded waits, an HTTP agent, requests
//! written byte for byte on a connection of their own, and its resident
//! memory; for tests without a socket (`bad_input.rs`, `conformance.rs`) the
//! request handler called as a value ([`Service`]); and the answer either
//! kind of test inspects ([`Reply`]).

// Each test binary uses its own subset of these helpers; a failed unwrap in a
// test helper is a failed test.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// What the server prints, once, on start, before its address.
pub const LISTENING: &str = "burgee-sidecar listening on http://";

/// Poll `check` every `every` until it gives a value; fail the test after `within`.
pub fn poll_until<T>(what: &str, within: Duration, every: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(t) = check() {
            return t;
        }
        assert!(Instant::now() < deadline, "gave up after {within:?} waiting for {what}");
        std::thread::sleep(every);
    }
}

/// `burgee-sidecar serve --file FILE --listen 127.0.0.1:0 ARGS`, without the
/// caller's `RUST_LOG` and `BURGEE_TOKEN` (they must not change the server's
/// settings).
pub fn serve_command(file: &Path, args: &[&str]) -> Command {
    serve_command_on(file, "127.0.0.1:0", args)
}

/// [`serve_command`], listening on `listen` instead of a free loopback port.
pub fn serve_command_on(file: &Path, listen: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_burgee-sidecar"));
    cmd.arg("serve").arg("--file").arg(file).args(["--listen", listen]).args(args);
    cmd.env_remove("RUST_LOG").env_remove("BURGEE_TOKEN");
    cmd
}

/// A running `burgee-sidecar serve` that has printed its address; SIGTERM
/// and a bounded wait ([`STOP_WAIT`]) on drop.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its stderr so far (see [`capture`]).
    pub stderr: Arc<Mutex<String>>,
}

/// How long a dropped [`Server`] has to exit after SIGTERM before it is killed.
pub const STOP_WAIT: Duration = Duration::from_secs(10);

/// How often a [`Server`]'s exit is polled for.
const EXIT_POLL: Duration = Duration::from_millis(15);

impl Server {
    /// Spawn `cmd` (a [`serve_command`]) with stdout and stderr piped and
    /// wait up to `within` for the one line it prints with its address; if
    /// none comes, kill it and fail the test with its stderr.
    pub fn spawn(mut cmd: Command, within: Duration) -> Server {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (stderr, stderr_thread) = capture(child.stderr.take().unwrap());
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let _ = tx.send(line);
            // Nothing else is printed; keep the pipe drained anyway.
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        let line = rx.recv_timeout(within).unwrap_or_default();
        let Some(addr) = line.trim_end().strip_prefix(LISTENING).map(str::to_owned) else {
            let _ = child.kill();
            let status = child.wait().unwrap();
            stderr_thread.join().unwrap();
            panic!("no `{LISTENING}…` line (got {line:?}, {status}); stderr:\n{}", stderr.lock().unwrap());
        };
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        Server { child, addr, stderr }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Its stderr so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Its resident memory (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Send it `signal` (`TERM`, `INT`, …) with `kill`; fail the test if `kill` fails.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id();
        let status = Command::new("kill").args([format!("-{signal}"), pid.to_string()]).status().unwrap();
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Its exit status, waiting up to `within` for it to exit; `None` if it
    /// still runs then.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(EXIT_POLL);
        }
    }

    /// Send it `signal` and wait up to `within` for its exit status; fail the
    /// test, with its stderr, if it still runs then.
    pub fn stop(&mut self, signal: &str, within: Duration) -> ExitStatus {
        self.signal(signal);
        self.wait_exit(within)
            .unwrap_or_else(|| panic!("still running {within:?} after SIG{signal}; stderr:\n{}", self.log()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
            let deadline = Instant::now() + STOP_WAIT;
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(EXIT_POLL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

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

/// Write `request` as it is on a new connection and read the whole answer,
/// until the server closes the connection (the request should say
/// `Connection: close`), waiting at most `within` for each read; the answer
/// as text, and how long it took from the first byte sent.
pub fn exchange(addr: &str, request: &[u8], within: Duration) -> std::io::Result<(String, Duration)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(within))?;
    let started = Instant::now();
    s.write_all(request)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok((String::from_utf8_lossy(&out).into_owned(), started.elapsed()))
}

/// An answer's status code, from its status line (`HTTP/1.1 404 Not Found`).
pub fn status_of(answer: &str) -> Option<u16> {
    answer.get(9..12)?.parse().ok()
}

/// An answer split into its head (status line and headers) and its body.
pub fn head_and_body(answer: &str) -> (&str, &str) {
    answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no end of head: {answer:?}"))
}

/// The sidecar's request handler serving one flags file, called as a value
/// without a socket (`serve::routes::handle`), on a runtime of its own.
pub struct Service {
    app: Arc<burgee_sidecar::serve::app::App>,
    runtime: tokio::runtime::Runtime,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

impl Service {
    /// Serve `file` (which must be valid) with the default settings, after
    /// `configure` has changed what it wants (a token, CORS origins, …).
    pub fn serving(file: &Path, configure: impl FnOnce(&mut burgee_sidecar::serve::app::App)) -> Service {
        use burgee_sidecar::reload::store::{Outcome, Store};
        let metrics = Arc::new(burgee_sidecar::metrics::Metrics::new());
        let store = Arc::new(Store::new(file.to_path_buf(), None, metrics.clone()));
        assert_eq!(store.reload(), Outcome::Accepted, "{} is served", file.display());
        let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
        let mut app = burgee_sidecar::serve::app::App::new(store, metrics, shutdown);
        configure(&mut app);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Service { app: Arc::new(app), runtime, _shutdown: shutdown_tx }
    }

    /// Send one request (with `Host: localhost:8016` unless `headers` give
    /// one) and read the whole answer.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        use http_body_util::{BodyExt, Full};
        let mut req = http::Request::builder().method(method).uri(path);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req = req.header("host", "localhost:8016");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(bytes::Bytes::copy_from_slice(body))).unwrap();
        self.runtime.block_on(async {
            let response = burgee_sidecar::serve::routes::handle(self.app.clone(), req).await;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            Reply { status, headers, text: String::from_utf8(body.to_vec()).unwrap() }
        })
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], b"")
    }

    /// `POST path` with `body` and these headers.
    pub fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        self.send("POST", path, headers, body)
    }

    /// `POST path` with `body`.
    pub fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.post_with(path, &[], body)
    }
}
