//! The evaluation endpoints: OFREP single (`POST
//! /ofrep/v1/evaluate/flags/{key}`) and bulk (`POST /ofrep/v1/evaluate/flags`,
//! with its `ETag` and `304`), and the plain `GET /v1/flags[/{key}]` that
//! take the context from the query string. Each takes the snapshot in
//! service once, so a request sees one version.

use std::sync::Arc;

use burgee_rules::{Context, EnvId, EvalError, EvalResult};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Body;
use serde_json::{Map, Value, json};

use super::app::{App, ResponseBody, echo, empty, json_response};
use super::body::{self, Reservation};
use super::error::RequestError;
use crate::ofrep;
use crate::reload::store::Snapshot;

/// `POST /ofrep/v1/evaluate/flags/{key}`.
pub async fn ofrep_flag<B>(app: &App, key: &str, req: Request<B>) -> Result<Response<ResponseBody>, RequestError>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    let (snapshot, env) = snapshot_and_env(app, req.headers())?;
    let (context, _, _reservation) = read_context(app, req).await?;
    Ok(evaluation_response(app, &snapshot, key, env, &context))
}

/// `POST /ofrep/v1/evaluate/flags`: every flag, with an `ETag` over the file
/// version, the environment and the context; `If-None-Match` with it is a `304`.
pub async fn ofrep_bulk<B>(app: &App, req: Request<B>) -> Result<Response<ResponseBody>, RequestError>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    let (snapshot, env) = snapshot_and_env(app, req.headers())?;
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let (context, context_hash, _reservation) = read_context(app, req).await?;
    let etag = etag(&snapshot.version, snapshot.compiled.environment_key(env), context_hash);
    if let Some(tags) = if_none_match.as_ref().and_then(|v| v.to_str().ok())
        && tags.split(',').map(str::trim).any(|t| t == etag || t == "*" || t.strip_prefix("W/") == Some(&etag))
    {
        let mut r = Response::new(empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r.headers_mut().insert(header::ETAG, header_value(&etag));
        return Ok(r);
    }
    let mut r = json_response(StatusCode::OK, &all_flags_json(app, &snapshot, env, &context));
    r.headers_mut().insert(header::ETAG, header_value(&etag));
    Ok(r)
}

/// `GET /v1/flags/{key}` (`key` given) or `GET /v1/flags`: the context is
/// the query string, every value a string.
pub fn plain_flags<B>(app: &App, key: Option<&str>, req: &Request<B>) -> Result<Response<ResponseBody>, RequestError> {
    let (snapshot, env) = snapshot_and_env(app, req.headers())?;
    let mut attributes = Map::new();
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        attributes.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    let context = Context::from_map(attributes)?;
    Ok(match key {
        Some(key) => evaluation_response(app, &snapshot, key, env, &context),
        None => json_response(StatusCode::OK, &all_flags_json(app, &snapshot, env, &context)),
    })
}

/// The snapshot in service and the environment a request asks for
/// (`X-Burgee-Environment`, else `--environment`, else the file's first).
fn snapshot_and_env(app: &App, headers: &HeaderMap) -> Result<(Arc<Snapshot>, EnvId), RequestError> {
    let snapshot = app.store.current().ok_or(RequestError::NotReady)?;
    let requested = match headers.get("x-burgee-environment") {
        Some(v) => Some(v.to_str().map_err(|_| RequestError::EnvironmentNotText)?.to_owned()),
        None => app.store.configured_environment().map(str::to_owned),
    };
    let env = match requested {
        None => snapshot.compiled.first_environment(),
        Some(name) => match snapshot.compiled.environment(&name) {
            Some(id) => id,
            None => {
                let known = snapshot.compiled.environment_keys().map(str::to_owned).collect();
                return Err(RequestError::UnknownEnvironment { name, known });
            }
        },
    };
    Ok((snapshot, env))
}

/// Read an OFREP request body into a context, with the hash of the context's
/// JSON (for the bulk ETag) and the body's memory reservation (keep it until
/// the answer is built). A missing or empty body is an empty context.
async fn read_context<B>(app: &App, req: Request<B>) -> Result<(Context, u64, Option<Reservation>), RequestError>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    // The Content-Type is not checked: OFREP providers send
    // `application/json`, but some send it with a charset or not at all, and
    // curl sends a form type by default; the body is parsed as JSON whatever
    // the header says, and one that is not JSON gets PARSE_ERROR.
    let headers = req.headers();
    let declared = body::Declared {
        length: headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()),
        waits_for_continue: headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue")),
    };
    // The headers are in (hyper's header timeout saw to that): the body has
    // its own time from here.
    let deadline = tokio::time::Instant::now() + app.body_read_timeout;
    let parsed = body::read_json(req.into_body(), declared, &app.budget, deadline).await?;
    let context_json = match parsed.value {
        None => Value::Object(Map::new()),
        Some(Value::Object(mut o)) => match o.remove("context") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(c) => c,
        },
        Some(other) => return Err(RequestError::BodyNotAnObject(burgee_rules::diagnostic::kind_of(&other))),
    };
    let hash = context_hash(&context_json);
    Ok((Context::from_json(context_json)?, hash, parsed.reservation))
}

/// One flag's answer: `200`, `404 FLAG_NOT_FOUND` (the key echoed
/// shortened) or `400 TARGETING_KEY_MISSING`, counted in `/metrics`.
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
