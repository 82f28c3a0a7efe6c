//! The operator's endpoints: `/healthz` (the process serves), `/readyz` (a
//! file is in service, and whether the newest one on disk was rejected),
//! `/v1/status` (what is served, since when, the reload history) and
//! `/metrics`. [`handle_health`] is the health listener (`--health-listen`):
//! these three but `/v1/status`, with no token and no `Host` check.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use serde_json::json;

use super::app::{App, ResponseBody, full, json_bytes, json_response, nosniff};
use super::error::{RequestError, only_get};
use crate::metrics::Route;

/// Handle one request on the health listener: only `/healthz`, `/readyz`
/// and `/metrics`, for orchestrators probing from outside the pod's loopback.
pub async fn handle_health<B>(app: Arc<App>, req: Request<B>) -> Response<ResponseBody> {
    let started = Instant::now();
    let method = req.method();
    let answer = match req.uri().path() {
        "/healthz" => only_get(method).map(|()| healthz()),
        "/readyz" => only_get(method).map(|()| readyz(&app)),
        "/metrics" => only_get(method).map(|()| metrics(&app)),
        path => Err(RequestError::NotOnHealthListener(path.to_owned())),
    };
    let mut response = answer.unwrap_or_else(|e| e.into_response(""));
    nosniff(&mut response);
    app.metrics.observe(Route::operations, started.elapsed());
    response
}

/// `/healthz`: 200 while the process serves.
pub fn healthz() -> Response<ResponseBody> {
    json_bytes(StatusCode::OK, &b"{\"status\":\"ok\"}"[..])
}

/// `/metrics`: the Prometheus text.
pub fn metrics(app: &App) -> Response<ResponseBody> {
    let mut r = Response::new(full(app.metrics.encode()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// `/readyz`: 503 until a file is accepted; then 200, `degraded` with the
/// errors while the newest file on disk is rejected.
pub fn readyz(app: &App) -> Response<ResponseBody> {
    let Some(snapshot) = app.store.current() else {
        let status = app.store.status();
        let mut body = json!({"status": "starting", "details": "no valid flags file has been loaded yet"});
        if let Some(r) = status.rejection {
            body["errors"] = json!(r.errors);
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

/// `/v1/status`: the file, the environment, the version in service, when it
/// was loaded, its counts, and the reload history.
pub fn status(app: &App) -> Response<ResponseBody> {
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
