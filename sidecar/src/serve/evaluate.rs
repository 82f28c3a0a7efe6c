//! The evaluation endpoints: OFREP single (`POST
//! /ofrep/v1/evaluate/flags/{key}`) and bulk (`POST /ofrep/v1/evaluate/flags`,
//! with its `ETag` and `304`), and the plain `GET /v1/flags[/{key}]` that
//! take the context from the query string. Each takes the snapshot in
//! service once, so a request sees one version.

use std::hash::Hash;
use std::sync::Arc;

use burgee_rules::{Context, EnvId, EvalError, EvalResult, FlagId};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Body;
use serde_json::{Map, Value};

use super::app::{App, ResponseBody, echo, empty, json_bytes};
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
    let (context, _reservation) = read_context(app, req).await?;
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
    let (context, _reservation) = read_context(app, req).await?;
    let etag = etag(&snapshot.version, snapshot.compiled.environment_key(env), context_hash(&context));
    if let Some(tags) = if_none_match.as_ref().and_then(|v| v.to_str().ok())
        && tags.split(',').map(str::trim).any(|t| t == etag || t == "*" || t.strip_prefix("W/") == Some(&etag))
    {
        let mut r = Response::new(empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r.headers_mut().insert(header::ETAG, header_value(&etag));
        return Ok(r);
    }
    let mut r = json_bytes(StatusCode::OK, all_flags(&snapshot, env, &context));
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
        None => json_bytes(StatusCode::OK, all_flags(&snapshot, env, &context)),
    })
}

/// The snapshot in service and the environment a request asks for
/// (`X-Burgee-Environment`, else `--environment`, else the file's first).
fn snapshot_and_env(app: &App, headers: &HeaderMap) -> Result<(Arc<Snapshot>, EnvId), RequestError> {
    let snapshot = app.store.current().ok_or(RequestError::NotReady)?;
    let requested = match headers.get("x-burgee-environment") {
        Some(v) => Some(v.to_str().map_err(|_| RequestError::EnvironmentNotText)?),
        None => app.store.configured_environment(),
    };
    let env = match requested {
        None => snapshot.compiled.first_environment(),
        Some(name) => match snapshot.compiled.environment(name) {
            Some(id) => id,
            None => {
                let known = snapshot.compiled.environment_keys().map(str::to_owned).collect();
                return Err(RequestError::UnknownEnvironment { name: name.to_owned(), known });
            }
        },
    };
    Ok((snapshot, env))
}

/// Read an OFREP request body into a context, with the body's memory
/// reservation (keep it until the answer is built). A missing or empty body
/// is an empty context.
async fn read_context<B>(app: &App, req: Request<B>) -> Result<(Context, Option<Reservation>), RequestError>
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
    let Some(text) = parsed.text else { return Ok((Context::new(), parsed.reservation)) };
    match body::context_of(&text)? {
        body::Found::Context(context) => Ok((context, parsed.reservation)),
        body::Found::NotAnObject(kind) => Err(RequestError::BodyNotAnObject(kind)),
        body::Found::Invalid(e) => Err(e.into()),
    }
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
    let mut body = Vec::with_capacity(256);
    let Some(id) = snapshot.compiled.flag(key) else {
        // An unknown key comes from the request: echo it shortened.
        app.metrics.count_unknown_flag();
        let shown = echo(key);
        let details = EvalError::FlagNotFound(shown.clone().into_owned()).to_string();
        ofrep::write_error(&mut body, &shown, "FLAG_NOT_FOUND", &details);
        return json_bytes(StatusCode::NOT_FOUND, body);
    };
    let result = snapshot.compiled.evaluate_id(id, env, context);
    count(snapshot, id, &result);
    let status = match &result {
        Ok(_) => StatusCode::OK,
        Err(EvalError::FlagNotFound(_)) => StatusCode::NOT_FOUND,
        Err(EvalError::TargetingKeyMissing { .. }) => StatusCode::BAD_REQUEST,
    };
    ofrep::write_result(&mut body, key, &result);
    json_bytes(status, body)
}

fn count(snapshot: &Snapshot, id: FlagId, result: &EvalResult<'_>) {
    if let Some(c) = snapshot.counters.get(id.index()) {
        c.count(result.as_ref().ok().map(|e| e.reason));
    }
}

/// `{"flags": [...]}`: every flag for one context, each counted, errors
/// inline, written as it is evaluated (the answer is the only memory it takes).
fn all_flags(snapshot: &Snapshot, env: EnvId, context: &Context) -> Vec<u8> {
    // About a hundred bytes a flag; the Vec grows past that if it must.
    let mut body = Vec::with_capacity(16 + 100 * snapshot.compiled.flag_count());
    let results =
        snapshot.compiled.evaluate_all(env, context).zip(snapshot.compiled.flag_ids()).map(|((key, result), id)| {
            count(snapshot, id, &result);
            (key, result)
        });
    ofrep::write_all(&mut body, results);
    body
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

/// A hash of a context's attributes (see [`Context`]'s `Hash`).
fn context_hash(context: &Context) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    context.hash(&mut h);
    h.digest()
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}
