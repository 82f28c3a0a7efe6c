//! What every request handler shares: the [`App`] (the store in service and
//! the server's settings), the response body type, and the small helpers
//! that make JSON answers.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use super::body::{self, Budget};
use crate::metrics::Metrics;
use crate::reload::store::Store;

/// The response body type: a whole body, or a stream for events.
pub type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// The default `--max-streams`: how many event streams may be open at once.
pub const MAX_STREAMS: usize = 1024;

/// At most this many characters of a flag key, environment name or path are
/// echoed in an error body (a valid flag key has at most 128), so a request
/// cannot make its answer as big as itself.
pub const ECHO_LIMIT: usize = 128;

/// What the request handler needs: the store, and the server's settings.
pub struct App {
    /// The file in service.
    pub store: Arc<Store>,
    /// Required as `Authorization: Bearer <token>` on every request but `/healthz`.
    pub token: Option<String>,
    /// Origins that get CORS headers.
    pub cors_origins: Vec<String>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Ends event streams on shutdown.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Names besides loopback ones that a request's `Host` may give
    /// (checked only when there is no token).
    pub allowed_hosts: Vec<String>,
    /// The memory request bodies in flight may cost together.
    pub budget: Budget,
    /// Slots for open event streams (`--max-streams`).
    pub streams: Arc<tokio::sync::Semaphore>,
    /// How long a body may take once the headers are in.
    pub body_read_timeout: Duration,
}

impl App {
    /// An app with no token, no CORS origin, no extra host, the default
    /// body budget and [`MAX_STREAMS`] stream slots.
    pub fn new(store: Arc<Store>, metrics: Arc<Metrics>, shutdown: tokio::sync::watch::Receiver<bool>) -> Self {
        App {
            store,
            token: None,
            cors_origins: Vec::new(),
            metrics,
            shutdown,
            allowed_hosts: Vec::new(),
            budget: Budget::default(),
            streams: Arc::new(tokio::sync::Semaphore::new(MAX_STREAMS)),
            body_read_timeout: body::BODY_TIME,
        }
    }
}

/// `s` as echoed in an error body: its first [`ECHO_LIMIT`] characters, and
/// `…` when there were more.
pub fn echo(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(ECHO_LIMIT) {
        Some((i, _)) => format!("{}…", &s[..i]).into(),
        None => s.into(),
    }
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response<ResponseBody> {
    json_bytes(status, body.to_string())
}

/// A JSON response from its text.
pub fn json_bytes(status: StatusCode, body: impl Into<Bytes>) -> Response<ResponseBody> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// A whole body.
pub fn full(body: impl Into<Bytes>) -> ResponseBody {
    Full::new(body.into()).map_err(|never| match never {}).boxed_unsync()
}

/// An empty body.
pub fn empty() -> ResponseBody {
    full(Bytes::new())
}

/// Every answer says its `Content-Type` is meant (`X-Content-Type-Options: nosniff`).
pub fn nosniff(response: &mut Response<ResponseBody>) {
    response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
}
