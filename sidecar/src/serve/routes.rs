//! The HTTP interface, as a function from request to response that tests call
//! without a socket: OFREP (single and bulk), the plain GET endpoints,
//! events, health, status and metrics; the `Host` check against DNS
//! rebinding, authorization and CORS. Bodies are read by [`super::body`].
//! [`handle_health`] is the health listener's smaller interface.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use burgee_rules::{Context, EnvId, EvalError, EvalResult};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use serde_json::{Map, Value, json};

use super::body::{self, BodyError, Budget, Reservation};
use super::events;
use super::metrics::Route;
use crate::ofrep;
use crate::reload::store::{Snapshot, Store};

/// The response body type: a whole body, or a stream for events.
pub type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

pub use super::body::BODY_LIMIT;

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
    pub metrics: Arc<super::metrics::Metrics>,
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
    pub body_read_timeout: std::time::Duration,
}

impl App {
    /// An app with no token, no CORS origin, no extra host, the default
    /// body budget and [`events::MAX_STREAMS`] stream slots.
    pub fn new(
        store: Arc<Store>,
        metrics: Arc<super::metrics::Metrics>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        App {
            store,
            token: None,
            cors_origins: Vec::new(),
            metrics,
            shutdown,
            allowed_hosts: Vec::new(),
            budget: Budget::default(),
            streams: Arc::new(tokio::sync::Semaphore::new(events::MAX_STREAMS)),
            body_read_timeout: body::BODY_TIME,
        }
    }
}

/// Handle one request.
pub async fn handle<B>(app: Arc<App>, req: Request<B>) -> Response<ResponseBody>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let started = Instant::now();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let (route, mut response) = route(&app, req).await;
    if let Some(origin) = origin {
        cors(&app, &origin, response.headers_mut());
    }
    nosniff(&mut response);
    app.metrics.observe(route, started.elapsed());
    response
}

/// Every answer says its `Content-Type` is meant (`X-Content-Type-Options: nosniff`).
fn nosniff(response: &mut Response<ResponseBody>) {
    response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
}

/// Handle one request on the health listener (`--health-listen`): only
/// `/healthz`, `/readyz` and `/metrics`, with no token and no `Host` check,
/// for orchestrators probing from outside the pod's loopback.
pub async fn handle_health<B>(app: Arc<App>, req: Request<B>) -> Response<ResponseBody> {
    let started = Instant::now();
    let method = req.method();
    let mut response = match req.uri().path() {
        "/healthz" => only_get(method).unwrap_or_else(healthz),
        "/readyz" => only_get(method).unwrap_or_else(|| readyz(&app)),
        "/metrics" => only_get(method).unwrap_or_else(|| metrics(&app)),
        path => json_response(
            StatusCode::NOT_FOUND,
            &json!({"errorCode": "GENERAL", "errorDetails": format!("the health listener serves only /healthz, /readyz and /metrics, not {}", echo(path))}),
        ),
    };
    nosniff(&mut response);
    app.metrics.observe(Route::operations, started.elapsed());
    response
}

fn healthz() -> Response<ResponseBody> {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

fn metrics(app: &App) -> Response<ResponseBody> {
    let mut r = Response::new(full(app.metrics.encode()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

async fn route<B>(app: &App, req: Request<B>) -> (Route, Response<ResponseBody>)
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().to_owned();
    let method = req.method().clone();

    if let Some(refused) = check_host(app, req.headers()) {
        return (Route::other, refused);
    }
    if path == "/healthz" && method != Method::OPTIONS {
        return (Route::operations, only_get(&method).unwrap_or_else(healthz));
    }
    if let Some(denied) = authorize(app, req.headers()) {
        return (Route::other, denied);
    }
    if method == Method::OPTIONS {
        return (Route::other, preflight(app, req.headers()));
    }

    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["ofrep", "v1", "evaluate", "flags"] => {
            let r = if method == Method::POST { ofrep_bulk(app, req).await } else { not_allowed("POST") };
            (Route::ofrep_bulk, r)
        }
        ["ofrep", "v1", "evaluate", "flags", key] => {
            let key = (*key).to_owned();
            let r = if method == Method::POST { ofrep_flag(app, &key, req).await } else { not_allowed("POST") };
            (Route::ofrep_flag, r)
        }
        ["v1", "flags"] => (Route::flags, only_get(&method).unwrap_or_else(|| plain_flags(app, None, &req))),
        ["v1", "flags", key] => {
            let key = (*key).to_owned();
            (Route::flag, only_get(&method).unwrap_or_else(|| plain_flags(app, Some(&key), &req)))
        }
        ["v1", "events"] => (Route::events, only_get(&method).unwrap_or_else(|| events::stream(app))),
        ["readyz"] => (Route::operations, only_get(&method).unwrap_or_else(|| readyz(app))),
        ["v1", "status"] => (Route::operations, only_get(&method).unwrap_or_else(|| status(app))),
        ["metrics"] => (Route::operations, only_get(&method).unwrap_or_else(|| metrics(app))),
        _ => (
            Route::other,
            json_response(
                StatusCode::NOT_FOUND,
                &json!({"errorCode": "GENERAL", "errorDetails": format!("no endpoint {}", echo(&path))}),
            ),
        ),
    }
}

fn only_get(method: &Method) -> Option<Response<ResponseBody>> {
    (method != Method::GET && method != Method::HEAD).then(|| not_allowed("GET"))
}

fn not_allowed(allow: &'static str) -> Response<ResponseBody> {
    let mut r = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({"errorCode": "GENERAL", "errorDetails": format!("use {allow}")}),
    );
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// `None` when the request's `Host` may be served: a `400` without one; a
/// `421` when there is no token and it names neither a loopback name
/// (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`) nor an
/// `--allowed-host`, whatever the port. So a web page whose DNS name was
/// rebound to 127.0.0.1 cannot read what the sidecar serves.
fn check_host(app: &App, headers: &HeaderMap) -> Option<Response<ResponseBody>> {
    let Some(host) = headers.get(header::HOST) else {
        return Some(json_response(
            StatusCode::BAD_REQUEST,
            &json!({"errorCode": "GENERAL", "errorDetails": "the request has no Host header"}),
        ));
    };
    if app.token.is_some() {
        return None;
    }
    let host = host.to_str().unwrap_or("");
    let name = host_name(host).to_ascii_lowercase();
    let name = name.strip_suffix('.').unwrap_or(&name);
    let loopback = name == "localhost" || name.ends_with(".localhost") || name == "127.0.0.1" || name == "[::1]";
    if loopback || app.allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return None;
    }
    let details = format!(
        "Host `{}` is not a loopback name or an --allowed-host; the sidecar answers only requests meant for it",
        echo(host)
    );
    Some(json_response(StatusCode::MISDIRECTED_REQUEST, &json!({"errorCode": "GENERAL", "errorDetails": details})))
}

/// The name in a `Host` value, without its port (`[::1]:8016` → `[::1]`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// `None` when the request may go on; a 401 otherwise. The scheme is
/// matched without regard to case (`bearer` works too).
fn authorize(app: &App, headers: &HeaderMap) -> Option<Response<ResponseBody>> {
    let token = app.token.as_deref()?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return None;
    }
    let mut r = json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"errorCode": "GENERAL", "errorDetails": "missing or wrong bearer token"}),
    );
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(r)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cors(app: &App, origin: &HeaderValue, headers: &mut HeaderMap) {
    let allowed = origin.to_str().is_ok_and(|o| app.cors_origins.iter().any(|a| a == o || a == "*"));
    if allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("ETag"));
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

fn preflight(app: &App, headers: &HeaderMap) -> Response<ResponseBody> {
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    let allowed = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| app.cors_origins.iter().any(|a| a == o || a == "*"));
    if allowed {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, Authorization, If-None-Match, X-Burgee-Environment"),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    r
}

/// The snapshot and environment for a request, or the error response.
#[allow(clippy::result_large_err)]
fn snapshot_and_env(
    app: &App,
    headers: &HeaderMap,
    key: &str,
) -> Result<(Arc<Snapshot>, EnvId), Response<ResponseBody>> {
    let Some(snapshot) = app.store.current() else {
        return Err(json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"key": key, "errorCode": "PROVIDER_NOT_READY", "errorDetails": "no valid flags file has been loaded yet"}),
        ));
    };
    let requested = match headers.get("x-burgee-environment") {
        Some(v) => match v.to_str() {
            Ok(s) => Some(s.to_owned()),
            Err(_) => return Err(bad_request(key, "GENERAL", "X-Burgee-Environment is not text")),
        },
        None => app.store.configured_environment().map(str::to_owned),
    };
    let env = match requested {
        None => snapshot.compiled.first_environment(),
        Some(name) => match snapshot.compiled.environment(&name) {
            Some(id) => id,
            None => {
                let known: Vec<&str> = snapshot.compiled.environment_keys().collect();
                let details = format!("unknown environment `{}`; this file has: {}", echo(&name), known.join(", "));
                return Err(bad_request(key, "GENERAL", &details));
            }
        },
    };
    Ok((snapshot, env))
}

/// `s` as echoed in an error body: its first [`ECHO_LIMIT`] characters, and
/// `…` when there were more.
fn echo(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(ECHO_LIMIT) {
        Some((i, _)) => format!("{}…", &s[..i]).into(),
        None => s.into(),
    }
}

/// Read an OFREP request body into a context, with the hash of the context's
/// JSON (for the bulk ETag) and the body's memory reservation (keep it until
/// the answer is built). A missing or empty body is an empty context.
#[allow(clippy::result_large_err)]
async fn read_context<B>(
    app: &App,
    req: Request<B>,
    key: &str,
) -> Result<(Context, u64, Option<Reservation>), Response<ResponseBody>>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    // The Content-Type is not checked: OFREP providers send
    // `application/json`, but some send it with a charset or not at all, and
    // curl sends a form type by default; the body is parsed as JSON whatever
    // the header says, and one that is not JSON gets PARSE_ERROR.
    let declared = body::Declared {
        length: req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok()),
        waits_for_continue: req
            .headers()
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue")),
    };
    // The headers are in (hyper's header timeout saw to that): the body has
    // BODY_TIME more.
    let deadline = tokio::time::Instant::now() + app.body_read_timeout;
    let parsed = match body::read_json(req.into_body(), declared, &app.budget, deadline).await {
        Ok(parsed) => parsed,
        Err(e) => return Err(body_error(key, &e)),
    };
    let reservation = parsed.reservation;
    let context_json = match parsed.value {
        None => Value::Object(Map::new()),
        Some(Value::Object(mut o)) => match o.remove("context") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(c) => c,
        },
        Some(other) => {
            let details = format!(
                "the body must be a JSON object like {{\"context\": {{...}}}}, found {}",
                burgee_rules::parse::kind_of(&other)
            );
            return Err(bad_request(key, "INVALID_CONTEXT", &details));
        }
    };
    let hash = context_hash(&context_json);
    match Context::from_json(context_json) {
        Ok(c) => Ok((c, hash, reservation)),
        Err(e) => Err(bad_request(key, "INVALID_CONTEXT", &e.to_string())),
    }
}

async fn ofrep_flag<B>(app: &App, key: &str, req: Request<B>) -> Response<ResponseBody>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (snapshot, env) = match snapshot_and_env(app, req.headers(), key) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (context, _, _reservation) = match read_context(app, req, key).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    evaluation_response(app, &snapshot, key, env, &context)
}

fn evaluation_response(
    app: &App,
    snapshot: &Snapshot,
    key: &str,
    env: EnvId,
    context: &Context,
) -> Response<ResponseBody> {
    let result = snapshot.compiled.evaluate(key, env, context);
    count(app, snapshot, key, &result);
    let status = match &result {
        Ok(_) => StatusCode::OK,
        Err(EvalError::FlagNotFound(_)) => StatusCode::NOT_FOUND,
        Err(EvalError::TargetingKeyMissing { .. }) => StatusCode::BAD_REQUEST,
    };
    let body = match &result {
        // An unknown key comes from the request: echo it shortened.
        Err(EvalError::FlagNotFound(_)) => {
            let shown = echo(key);
            let details = EvalError::FlagNotFound(shown.clone().into_owned()).to_string();
            ofrep::error_json(&shown, "FLAG_NOT_FOUND", &details)
        }
        _ => ofrep::result_json(key, &result),
    };
    json_response(status, &body)
}

fn count(app: &App, snapshot: &Snapshot, key: &str, result: &EvalResult<'_>) {
    match snapshot.compiled.flag(key).and_then(|id| snapshot.counters.get(id.index())) {
        Some(c) => c.count(result.as_ref().ok().map(|e| e.reason)),
        None => app.metrics.count_unknown_flag(),
    }
}

async fn ofrep_bulk<B>(app: &App, req: Request<B>) -> Response<ResponseBody>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (snapshot, env) = match snapshot_and_env(app, req.headers(), "") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let (context, context_hash, _reservation) = match read_context(app, req, "").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let etag = etag(&snapshot.version, snapshot.compiled.environment_key(env), context_hash);
    if let Some(tags) = if_none_match.as_ref().and_then(|v| v.to_str().ok())
        && tags.split(',').map(str::trim).any(|t| t == etag || t == "*" || t.strip_prefix("W/") == Some(&etag))
    {
        let mut r = Response::new(empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r.headers_mut().insert(header::ETAG, header_value(&etag));
        return r;
    }
    let mut r = json_response(StatusCode::OK, &all_flags_json(app, &snapshot, env, &context));
    r.headers_mut().insert(header::ETAG, header_value(&etag));
    r
}

/// `{"flags": [...]}`: every flag for one context, each counted, errors inline.
fn all_flags_json(app: &App, snapshot: &Snapshot, env: EnvId, context: &Context) -> Value {
    let flags: Vec<Value> = snapshot
        .compiled
        .evaluate_all(env, context)
        .map(|(key, result)| {
            count(app, snapshot, key, &result);
            ofrep::result_json(key, &result)
        })
        .collect();
    json!({"flags": flags})
}

/// The bulk ETag: the file version, the environment and the context.
fn etag(version: &str, env: &str, context_hash: u64) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(version.as_bytes());
    h.update(&[0]);
    h.update(env.as_bytes());
    h.update(&[0]);
    h.update(&context_hash.to_le_bytes());
    format!("\"{:016x}\"", h.digest())
}

/// A hash of a context's JSON text, written straight into the hasher (no
/// copy of the text).
fn context_hash(context: &Value) -> u64 {
    struct Hashing(xxhash_rust::xxh3::Xxh3);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Hashing(xxhash_rust::xxh3::Xxh3::new());
    let _ = serde_json::to_writer(&mut h, context);
    h.0.digest()
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

fn plain_flags<B>(app: &App, key: Option<&str>, req: &Request<B>) -> Response<ResponseBody> {
    let (snapshot, env) = match snapshot_and_env(app, req.headers(), key.unwrap_or("")) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut attributes = Map::new();
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        attributes.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    let context = match Context::from_map(attributes) {
        Ok(c) => c,
        Err(e) => return bad_request(key.unwrap_or(""), "INVALID_CONTEXT", &e.to_string()),
    };
    match key {
        Some(key) => evaluation_response(app, &snapshot, key, env, &context),
        None => json_response(StatusCode::OK, &all_flags_json(app, &snapshot, env, &context)),
    }
}

fn readyz(app: &App) -> Response<ResponseBody> {
    let Some(snapshot) = app.store.current() else {
        let status = app.store.status();
        let mut body = json!({"status": "starting", "details": "no valid flags file has been loaded yet"});
        if let Some(r) = status.rejection {
            body["errors"] = r.errors;
        }
        return json_response(StatusCode::SERVICE_UNAVAILABLE, &body);
    };
    let status = app.store.status();
    let body = match status.rejection {
        None => json!({"status": "ready", "version": snapshot.version}),
        Some(r) => json!({
            "status": "degraded",
            "version": snapshot.version,
            "details": "the newest flags file on disk was rejected; the last accepted one is still served",
            "errors": r.errors,
        }),
    };
    json_response(StatusCode::OK, &body)
}

fn status(app: &App) -> Response<ResponseBody> {
    let current = app.store.current();
    let reloads = app.store.status();
    let environment = current.as_ref().map(|s| match app.store.configured_environment() {
        Some(e) => e.to_owned(),
        None => s.compiled.environment_key(s.compiled.first_environment()).to_owned(),
    });
    let body = json!({
        "file": app.store.path().display().to_string(),
        "environment": environment,
        "environments": current.as_ref().map(|s| s.compiled.environment_keys().collect::<Vec<_>>()),
        "version": current.as_ref().map(|s| s.version.clone()),
        "loadedAt": current.as_ref().map(|s| rfc3339(s.loaded_at)),
        "flags": current.as_ref().map(|s| s.compiled.flag_count()),
        "segments": current.as_ref().map(|s| s.compiled.segment_count()),
        "reloads": {"accepted": reloads.accepted, "rejected": reloads.rejected},
        "lastReloadError": reloads.rejection.map(|r| json!({"at": rfc3339(r.at), "errors": r.errors})),
    });
    json_response(StatusCode::OK, &body)
}

/// A time as RFC 3339 text.
pub fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn bad_request(key: &str, code: &str, details: &str) -> Response<ResponseBody> {
    json_response(StatusCode::BAD_REQUEST, &error_body(key, code, details))
}

/// The answer to a body that could not be read: `413` (too large) and
/// `408` (too slow) close the connection, since part of the body may be
/// unread; `503` (busy) says when to try again; the rest are `400`.
fn body_error(key: &str, e: &BodyError) -> Response<ResponseBody> {
    let (status, code, close) = match e {
        BodyError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "GENERAL", true),
        BodyError::TooSlow => (StatusCode::REQUEST_TIMEOUT, "GENERAL", true),
        BodyError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "GENERAL", false),
        BodyError::Read(_) | BodyError::Shape(_) | BodyError::Syntax(_) => {
            (StatusCode::BAD_REQUEST, "PARSE_ERROR", false)
        }
    };
    let mut r = json_response(status, &error_body(key, code, &e.to_string()));
    if close {
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if matches!(e, BodyError::Busy) {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

fn error_body(key: &str, code: &str, details: &str) -> Value {
    if key.is_empty() {
        json!({"errorCode": code, "errorDetails": details})
    } else {
        ofrep::error_json(&echo(key), code, details)
    }
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response<ResponseBody> {
    let mut r = Response::new(full(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// A whole body.
pub fn full(body: impl Into<Bytes>) -> ResponseBody {
    Full::new(body.into()).map_err(|never| match never {}).boxed_unsync()
}

fn empty() -> ResponseBody {
    full(Bytes::new())
}

#[cfg(test)]
mod tests {
    //! The handler called directly, without a socket (the end-to-end tests in
    //! /tests run the real binary).
    use super::*;
    use crate::reload::store::Outcome;
    use crate::serve::metrics::Metrics;

    const FILE: &str = r#"{"version": 1, "environments": ["dev", "prod"], "flags": {
      "ratio": {"variants": {"low": 1.0, "high": 2.5}, "off": "low",
        "environments": {"dev": {"enabled": true, "default": {"variant": "high"}},
                         "prod": {"enabled": true, "default": {"variant": "low"}}}}}}"#;

    fn app(dir: &tempfile::TempDir) -> Arc<App> {
        let path = dir.path().join("flags.json");
        std::fs::write(&path, FILE).unwrap();
        let metrics = Arc::new(Metrics::new());
        let store = Arc::new(Store::new(path, None, metrics.clone()));
        assert_eq!(store.reload(), Outcome::Accepted);
        let (_, shutdown) = tokio::sync::watch::channel(false);
        Arc::new(App::new(store, metrics, shutdown))
    }

    async fn call(app: &Arc<App>, req: Request<Full<Bytes>>) -> (StatusCode, String) {
        let response = handle(app.clone(), req).await;
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn post(path: &str) -> http::request::Builder {
        Request::builder().method(Method::POST).uri(path).header("host", "127.0.0.1:8016")
    }

    #[tokio::test]
    async fn evaluates_keeping_the_number_form_and_picks_environments() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(&dir);
        let body = r#"{"context": {"targetingKey": "u"}}"#;
        let req = post("/ofrep/v1/evaluate/flags/ratio").body(Full::from(body)).unwrap();
        let (status, text) = call(&app, req).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text, r#"{"key":"ratio","value":2.5,"variant":"high","reason":"STATIC","metadata":{}}"#);

        let req =
            post("/ofrep/v1/evaluate/flags/ratio").header("X-Burgee-Environment", "prod").body(Full::from("")).unwrap();
        let (status, text) = call(&app, req).await;
        assert_eq!(status, StatusCode::OK);
        assert!(text.contains(r#""value":1.0"#), "{text}");

        let req =
            post("/ofrep/v1/evaluate/flags/ratio").header("X-Burgee-Environment", "qa").body(Full::from("")).unwrap();
        let (status, text) = call(&app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.contains("unknown environment `qa`; this file has: dev, prod"), "{text}");
    }

    #[tokio::test]
    async fn bad_bodies_get_the_contracts_errors() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(&dir);
        let req = post("/ofrep/v1/evaluate/flags/ratio").body(Full::from("{oops")).unwrap();
        let (status, text) = call(&app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.contains(r#""errorCode":"PARSE_ERROR""#), "{text}");

        let req = post("/ofrep/v1/evaluate/flags/ratio").body(Full::from(r#"{"context": 3}"#)).unwrap();
        let (status, text) = call(&app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.contains(r#""errorCode":"INVALID_CONTEXT""#), "{text}");

        let big = vec![b' '; BODY_LIMIT + 1];
        let req = post("/ofrep/v1/evaluate/flags/ratio").body(Full::from(big)).unwrap();
        let (status, _) = call(&app, req).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

        let req = post("/ofrep/v1/evaluate/flags/nope").body(Full::from("")).unwrap();
        let (status, text) = call(&app, req).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(text.contains(r#""errorCode":"FLAG_NOT_FOUND""#), "{text}");
    }

    #[tokio::test]
    async fn a_token_guards_everything_but_healthz() {
        let dir = tempfile::tempdir().unwrap();
        let open = app(&dir);
        let mut app = App::new(open.store.clone(), open.metrics.clone(), open.shutdown.clone());
        app.token = Some("s3cret".into());
        let app = Arc::new(app);
        let get = |path: &str| Request::builder().uri(path).header("host", "h").body(Full::from("")).unwrap();
        assert_eq!(call(&app, get("/healthz")).await.0, StatusCode::OK);
        assert_eq!(call(&app, get("/readyz")).await.0, StatusCode::UNAUTHORIZED);
        let with = |path: &str, method: Method, auth: &str| {
            Request::builder().method(method).uri(path).header("host", "h").header("Authorization", auth)
        };
        let authorized = with("/readyz", Method::GET, "Bearer s3cret").body(Full::from("")).unwrap();
        assert_eq!(call(&app, authorized).await.0, StatusCode::OK);
        // The scheme in any case; a preflight needs the token too.
        let lower = with("/readyz", Method::GET, "bearer s3cret").body(Full::from("")).unwrap();
        assert_eq!(call(&app, lower).await.0, StatusCode::OK);
        let wrong = with("/readyz", Method::GET, "Basic s3cret").body(Full::from("")).unwrap();
        assert_eq!(call(&app, wrong).await.0, StatusCode::UNAUTHORIZED);
        let options = Request::builder().method(Method::OPTIONS).uri("/v1/flags").header("host", "h");
        assert_eq!(call(&app, options.body(Full::from("")).unwrap()).await.0, StatusCode::UNAUTHORIZED);
        let options = with("/v1/flags", Method::OPTIONS, "Bearer s3cret").body(Full::from("")).unwrap();
        assert_eq!(call(&app, options).await.0, StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn without_a_token_only_loopback_names_and_allowed_hosts_are_served() {
        let dir = tempfile::tempdir().unwrap();
        let open = app(&dir);
        let mut allowing = App::new(open.store.clone(), open.metrics.clone(), open.shutdown.clone());
        allowing.allowed_hosts = vec!["flags.internal".into()];
        let allowing = Arc::new(allowing);
        let get = |host: Option<&str>| {
            let mut r = Request::builder().uri("/v1/status");
            if let Some(h) = host {
                r = r.header("host", h);
            }
            r.body(Full::from("")).unwrap()
        };
        for host in ["localhost", "LOCALHOST:8016", "app.localhost:1", "127.0.0.1:8016", "[::1]:8016", "localhost."] {
            assert_eq!(call(&open, get(Some(host))).await.0, StatusCode::OK, "{host}");
        }
        for host in ["evil.example", "evil.example:8016", "127.0.0.1.evil.example", "localhost.evil.example", "[::2]"] {
            let (status, text) = call(&open, get(Some(host))).await;
            assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
            assert!(text.contains("is not a loopback name or an --allowed-host"), "{text}");
        }
        assert_eq!(call(&open, get(None)).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(call(&allowing, get(Some("Flags.Internal:80"))).await.0, StatusCode::OK);
        assert_eq!(call(&allowing, get(Some("other.internal"))).await.0, StatusCode::MISDIRECTED_REQUEST);
        // Answers say their type is meant.
        let response = handle(open.clone(), get(Some("localhost"))).await;
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }

    #[tokio::test]
    async fn the_health_interface_serves_only_health_readiness_and_metrics() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(&dir);
        let get = |path: &str| {
            Request::builder().uri(path).header("host", "10.0.0.7:8014").body(Full::<Bytes>::from("")).unwrap()
        };
        for (path, status) in [
            ("/healthz", StatusCode::OK),
            ("/readyz", StatusCode::OK),
            ("/metrics", StatusCode::OK),
            ("/v1/status", StatusCode::NOT_FOUND),
            ("/v1/flags/ratio", StatusCode::NOT_FOUND),
        ] {
            let response = handle_health(app.clone(), get(path)).await;
            assert_eq!(response.status(), status, "{path}");
        }
    }
}
