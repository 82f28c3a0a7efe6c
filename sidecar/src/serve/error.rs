//! Why a request could not be answered as asked, as one type that turns
//! itself into the answer: the status, the OFREP `errorCode`, the details,
//! and the headers that go with them (`Connection: close`, `Retry-After`,
//! `Allow`, `WWW-Authenticate`). Handlers return `Result<_, RequestError>`;
//! the router makes the response.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use serde_json::json;

use super::app::{ResponseBody, echo, json_response};
use super::body::BodyError;

/// Why a request could not be answered as asked.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No valid file has been accepted yet (`--wait-for-file`).
    #[error("no valid flags file has been loaded yet")]
    NotReady,
    /// `X-Burgee-Environment` is not text.
    #[error("X-Burgee-Environment is not text")]
    EnvironmentNotText,
    /// `X-Burgee-Environment` names an environment the file does not have.
    #[error("unknown environment `{}`; this file has: {}", echo(.name), .known.join(", "))]
    UnknownEnvironment {
        /// The name asked for.
        name: String,
        /// The file's environments.
        known: Vec<String>,
    },
    /// The body could not be read or parsed.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The body is JSON but not an object.
    #[error("the body must be a JSON object like {{\"context\": {{...}}}}, found {0}")]
    BodyNotAnObject(&'static str),
    /// The context is not one (`targetingKey` not a string, not an object).
    #[error(transparent)]
    Context(#[from] burgee_rules::ContextError),
    /// No endpoint at this path.
    #[error("no endpoint {}", echo(.0))]
    NoEndpoint(String),
    /// The health listener's paths are only these three.
    #[error("the health listener serves only /healthz, /readyz and /metrics, not {}", echo(.0))]
    NotOnHealthListener(String),
    /// The wrong method; the one to use.
    #[error("use {0}")]
    MethodNotAllowed(&'static str),
    /// A token is required and was not given, or not this one.
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// No `Host` header.
    #[error("the request has no Host header")]
    NoHost,
    /// A `Host` that is neither a loopback name nor an `--allowed-host`.
    #[error("Host `{}` is not a loopback name or an --allowed-host; the sidecar answers only requests meant for it", echo(.0))]
    MisdirectedHost(String),
    /// Every event stream slot is taken.
    #[error("too many event streams are open; try again later")]
    TooManyStreams,
}

impl RequestError {
    /// Whether the request's whole body had been read when this error was
    /// found (it is about the body's content). When not, and the request
    /// has a body, the rest of it is still on the connection.
    pub fn after_the_body(&self) -> bool {
        matches!(
            self,
            RequestError::Body(BodyError::Shape(_) | BodyError::Syntax(_))
                | RequestError::BodyNotAnObject(_)
                | RequestError::Context(_)
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::NotReady | RequestError::TooManyStreams => StatusCode::SERVICE_UNAVAILABLE,
            RequestError::EnvironmentNotText
            | RequestError::UnknownEnvironment { .. }
            | RequestError::BodyNotAnObject(_)
            | RequestError::Context(_)
            | RequestError::NoHost => StatusCode::BAD_REQUEST,
            RequestError::Body(BodyError::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::Body(BodyError::TooSlow) => StatusCode::REQUEST_TIMEOUT,
            RequestError::Body(BodyError::Busy) => StatusCode::SERVICE_UNAVAILABLE,
            RequestError::Body(_) => StatusCode::BAD_REQUEST,
            RequestError::NoEndpoint(_) | RequestError::NotOnHealthListener(_) => StatusCode::NOT_FOUND,
            RequestError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            RequestError::Unauthorized => StatusCode::UNAUTHORIZED,
            RequestError::MisdirectedHost(_) => StatusCode::MISDIRECTED_REQUEST,
        }
    }

    /// The OFREP `errorCode`.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::NotReady => "PROVIDER_NOT_READY",
            RequestError::Body(BodyError::Read(_) | BodyError::Shape(_) | BodyError::Syntax(_)) => "PARSE_ERROR",
            RequestError::BodyNotAnObject(_) | RequestError::Context(_) => "INVALID_CONTEXT",
            _ => "GENERAL",
        }
    }

    /// The answer: `{"key", "errorCode", "errorDetails"}` (no `key` when
    /// `key` is empty, as for the bulk and plain endpoints), with the
    /// headers this error needs.
    pub fn into_response(self, key: &str) -> Response<ResponseBody> {
        let details = self.to_string();
        let body = if key.is_empty() {
            json!({"errorCode": self.code(), "errorDetails": details})
        } else {
            crate::ofrep::error_json(&echo(key), self.code(), &details)
        };
        let mut r = json_response(self.status(), &body);
        let h = r.headers_mut();
        match self {
            // Part of the body may be unread: this connection cannot carry another request.
            RequestError::Body(BodyError::TooLarge | BodyError::TooSlow) => {
                h.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            RequestError::Body(BodyError::Busy) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            RequestError::TooManyStreams => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            RequestError::MethodNotAllowed(allow) => {
                h.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            RequestError::Unauthorized => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        r
    }
}

/// `Ok` for GET and HEAD; `405` with `Allow: GET` otherwise.
pub fn only_get(method: &http::Method) -> Result<(), RequestError> {
    if method == http::Method::GET || method == http::Method::HEAD {
        Ok(())
    } else {
        Err(RequestError::MethodNotAllowed("GET"))
    }
}
