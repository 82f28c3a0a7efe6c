//! The router: a function from request to response that tests call without
//! a socket. It checks the `Host` (against DNS rebinding), the token and
//! CORS, then sends each path to its endpoint — evaluations
//! ([`super::evaluate`]), events ([`super::events`]), and the operator's
//! endpoints ([`super::health`]) — and turns a [`RequestError`] into its
//! answer.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Body;

use super::app::{App, ResponseBody, empty, nosniff};
use super::error::{RequestError, only_get};
use super::{evaluate, events, health};
use crate::metrics::Route;

/// Handle one request.
pub async fn handle<B>(app: Arc<App>, req: Request<B>) -> Response<ResponseBody>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    let started = Instant::now();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let has_body = has_body(req.headers());
    // A clone shares the path's bytes; the path is borrowed from it below.
    let uri = req.uri().clone();
    let (route, key, answer) = route(&app, uri.path(), req).await;
    let mut response = answer.unwrap_or_else(|e| {
        // Refused before its body was read (a wrong token, an unknown
        // path…): the unread rest would be taken for the next request, so
        // the client is told this connection ends (hyper closes it).
        let unread = has_body && !e.after_the_body();
        let mut r = e.into_response(key);
        if unread {
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        r
    });
    if let Some(origin) = origin {
        cors(&app, &origin, response.headers_mut());
    }
    nosniff(&mut response);
    app.metrics.observe(route, started.elapsed());
    response
}

/// Whether the request says a body follows (a non-zero `Content-Length`, or
/// a `Transfer-Encoding`).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0")
}

/// The route (for the latency histogram), the flag key the path names (for
/// error bodies; empty when none), and the answer.
async fn route<'p, B>(
    app: &App,
    path: &'p str,
    req: Request<B>,
) -> (Route, &'p str, Result<Response<ResponseBody>, RequestError>)
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    let method = req.method();
    if let Err(e) = check_host(app, req.headers()) {
        return (Route::other, "", Err(e));
    }
    if path == "/healthz" && method != Method::OPTIONS {
        return (Route::operations, "", only_get(method).map(|()| health::healthz()));
    }
    if let Err(e) = authorize(app, req.headers()) {
        return (Route::other, "", Err(e));
    }
    if method == Method::OPTIONS {
        return (Route::other, "", Ok(preflight(app, req.headers())));
    }

    let is_post = method == Method::POST;
    let get = only_get(method);
    let rest = path.trim_start_matches('/');
    // `{key}`: one path segment after `prefix` (possibly empty).
    let key_after = |prefix: &str| rest.strip_prefix(prefix).filter(|key| !key.contains('/'));
    if rest == "ofrep/v1/evaluate/flags" {
        let r =
            if is_post { evaluate::ofrep_bulk(app, req).await } else { Err(RequestError::MethodNotAllowed("POST")) };
        return (Route::ofrep_bulk, "", r);
    }
    if let Some(key) = key_after("ofrep/v1/evaluate/flags/") {
        let r = if is_post {
            evaluate::ofrep_flag(app, key, req).await
        } else {
            Err(RequestError::MethodNotAllowed("POST"))
        };
        return (Route::ofrep_flag, key, r);
    }
    if let Some(key) = key_after("v1/flags/") {
        return (Route::flag, key, get.and_then(|()| evaluate::plain_flags(app, Some(key), &req)));
    }
    match rest {
        "v1/flags" => (Route::flags, "", get.and_then(|()| evaluate::plain_flags(app, None, &req))),
        "v1/events" => (Route::events, "", get.and_then(|()| events::stream(app))),
        "readyz" => (Route::operations, "", get.map(|()| health::readyz(app))),
        "v1/status" => (Route::operations, "", get.map(|()| health::status(app))),
        "metrics" => (Route::operations, "", get.map(|()| health::metrics(app))),
        _ => (Route::other, "", Err(RequestError::NoEndpoint(path.to_owned()))),
    }
}

/// `Ok` when the request's `Host` may be served: a `400` without one; a
/// `421` when there is no token and it names neither a loopback name
/// (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`) nor an
/// `--allowed-host`, whatever the port. So a web page whose DNS name was
/// rebound to 127.0.0.1 cannot read what the sidecar serves.
fn check_host(app: &App, headers: &HeaderMap) -> Result<(), RequestError> {
    let host = headers.get(header::HOST).ok_or(RequestError::NoHost)?;
    if app.token.is_some() {
        return Ok(());
    }
    let host = host.to_str().unwrap_or("");
    let name = host_name(host);
    let name = name.strip_suffix('.').unwrap_or(name);
    let is = |expected: &str| name.eq_ignore_ascii_case(expected);
    let under_localhost = name.len() > ".localhost".len()
        && name.as_bytes()[name.len() - ".localhost".len()..].eq_ignore_ascii_case(b".localhost");
    let loopback = is("localhost") || under_localhost || is("127.0.0.1") || is("[::1]");
    if loopback || app.allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return Ok(());
    }
    Err(RequestError::MisdirectedHost(host.to_owned()))
}

/// The name in a `Host` value, without its port (`[::1]:8016` → `[::1]`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// `Ok` when the request may go on; a 401 otherwise. The scheme is matched
/// without regard to case (`bearer` works too).
fn authorize(app: &App, headers: &HeaderMap) -> Result<(), RequestError> {
    let Some(token) = app.token.as_deref() else { return Ok(()) };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return Ok(());
    }
    Err(RequestError::Unauthorized)
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

#[cfg(test)]
mod tests {
    //! The handler called directly, without a socket (the end-to-end tests in
    //! /tests run the real binary).
    use super::*;
    use crate::metrics::Metrics;
    use crate::reload::store::{Outcome, Store};
    use crate::serve::body::BODY_LIMIT;
    use crate::serve::health::handle_health;
    use http_body_util::{BodyExt, Full};

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
