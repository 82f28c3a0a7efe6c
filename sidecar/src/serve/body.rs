//! Reading a request body and turning it into an evaluation context, in
//! bounded time and memory whatever the body's shape.
//!
//! - Time: the body must arrive by the request's deadline (the header
//!   timeout plus [`BODY_TIME`]); otherwise the answer is `408` and the
//!   connection closes.
//! - Size: a body over [`BODY_LIMIT`] gets `413`.
//! - Shape: more than [`MAX_VALUES`] values or deeper than [`MAX_DEPTH`] is
//!   a `400`, so a megabyte of `[[[[1]]]]` or of `[1,1,1,…]` never becomes
//!   a tree of hundreds of megabytes. The context is read with a pull
//!   parser (`jiter`) that counts as it goes and stops at the limits; a body
//!   it stops on, and any body over 16 KiB before it is read, is scanned
//!   for its values and nesting ([`shape`]); a body the parser stops on is
//!   then read by `serde_json`, for the precise error.
//! - All requests together: every body in flight holds a reservation from a
//!   [`Budget`] for what it may cost (its bytes, and the tree built from
//!   them) until its answer is written; when the budget is spent, requests
//!   wait for it (until their deadline, then `503` with `Retry-After`).
//!   Small bodies draw from a pool of their own, so large ones cannot
//!   starve them.

use std::sync::Arc;
use std::time::Duration;

use burgee_rules::context::{Allowance, Unread, read_context, skip_value};
use burgee_rules::{Context, ContextError};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Request bodies larger than this get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// How long the body may take after the headers (the contract: the whole
/// request within the header timeout plus this).
pub const BODY_TIME: Duration = Duration::from_secs(10);

/// The most JSON values (scalars, arrays and objects, counted from the text)
/// a body may hold. A context is a few dozen; ten thousand leaves room for
/// long lists while bounding the tree to a few megabytes.
pub const MAX_VALUES: usize = 10_000;

/// The deepest a body may nest arrays and objects.
pub const MAX_DEPTH: usize = 64;

/// The most a body's tree costs per value, in bytes: a `serde_json::Value`,
/// its share of the array or map that holds it (up to twice its size while
/// growing), and a map entry's key and index. Measured by a unit test below.
const BYTES_PER_VALUE: usize = 256;

/// Reservations at or under this many bytes come from the small pool.
const SMALL: usize = 256 * 1024;

/// How much memory the bodies in flight may cost together, by default:
/// small ones, then large ones.
pub const BUDGET_SMALL: usize = 8 * 1024 * 1024;
/// See [`BUDGET_SMALL`].
pub const BUDGET_LARGE: usize = 16 * 1024 * 1024;

/// What reading a body can end in, besides a body.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Over [`BODY_LIMIT`].
    #[error("the request body is larger than {BODY_LIMIT} bytes")]
    TooLarge,
    /// Not all there by the deadline.
    #[error("the request body did not arrive in time")]
    TooSlow,
    /// The memory budget stayed spent until the deadline.
    #[error("the server is busy with other large requests; try again")]
    Busy,
    /// The connection failed while the body was read.
    #[error("cannot read the request body: {0}")]
    Read(String),
    /// More values or deeper nesting than allowed.
    #[error("{0}")]
    Shape(String),
    /// Not JSON.
    #[error("the body is not JSON: {0}")]
    Syntax(serde_json::Error),
}

/// The memory all bodies in flight may cost together (see the module docs).
pub struct Budget {
    small: Arc<Semaphore>,
    large: Arc<Semaphore>,
}

impl Budget {
    /// A budget of `small` bytes for small bodies and `large` for the rest.
    pub fn new(small: usize, large: usize) -> Self {
        Budget { small: Arc::new(Semaphore::new(kib(small))), large: Arc::new(Semaphore::new(kib(large))) }
    }

    /// Grow `held` to cover `bytes`, waiting until `deadline` at most.
    async fn reserve(&self, held: &mut Option<Reservation>, bytes: usize, deadline: Instant) -> Result<(), BodyError> {
        let want = kib(bytes) as u32;
        if held.as_ref().is_some_and(|r| r.kib >= want) {
            return Ok(());
        }
        let large = bytes > SMALL;
        let pool = if large { &self.large } else { &self.small };
        let have = match held.take() {
            // Moving from the small pool to the large one: the small share goes back.
            Some(r) if r.large == large => Some(r),
            _ => None,
        };
        let extra = want - have.as_ref().map_or(0, |r| r.kib);
        let permit = tokio::time::timeout_at(deadline, pool.clone().acquire_many_owned(extra))
            .await
            .map_err(|_| BodyError::Busy)?
            .map_err(|_| BodyError::Busy)?;
        let permit = match have {
            Some(mut r) => {
                r.permit.merge(permit);
                r.permit
            }
            None => permit,
        };
        *held = Some(Reservation { permit, kib: want, large });
        Ok(())
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(BUDGET_SMALL, BUDGET_LARGE)
    }
}

/// A body's share of the [`Budget`], given back when dropped.
pub struct Reservation {
    permit: OwnedSemaphorePermit,
    kib: u32,
    large: bool,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reservation({} KiB, {})", self.kib, if self.large { "large" } else { "small" })
    }
}

fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024).clamp(1, u32::MAX as usize)
}

/// What a body of `len` bytes may cost once parsed: its bytes (read into a
/// growing buffer), a copy of its strings, and the tree.
fn cost(len: usize) -> usize {
    3 * len + BYTES_PER_VALUE * MAX_VALUES.min(len / 2 + 1)
}

/// How much of a body over [`BODY_LIMIT`] is read and thrown away, and for
/// how long at most, so that a client still sending it gets its `413`
/// rather than a reset connection. Nothing past the limit is kept.
const DRAIN_LIMIT: usize = 16 * BODY_LIMIT;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// A body read and checked, and the budget it holds until dropped.
#[derive(Debug)]
pub struct Parsed {
    /// The JSON text (`None` for an empty or all-whitespace body);
    /// [`context_of`] checks its shape and reads a context from it.
    pub text: Option<Vec<u8>>,
    /// Keep this until the answer is built.
    pub reservation: Option<Reservation>,
}

/// What an OFREP body (`{"context": {...}}`) holds.
#[derive(Debug)]
pub enum Found {
    /// The context (empty when the body has none, or `null`).
    Context(Context),
    /// The body is JSON but not an object: its kind.
    NotAnObject(&'static str),
    /// `context` is there but is no context.
    Invalid(ContextError),
}

/// Read the context of an OFREP body's JSON text, within the shape limits.
/// An object is read straight into the context with a pull parser (the
/// other members are walked, unbuilt); a body that parser stops on (not an
/// object, not JSON, over the limits) is checked with [`shape`] and read
/// the way `serde_json` reads it, so the answers and their messages are the
/// same either way.
pub fn context_of(text: &[u8]) -> Result<Found, BodyError> {
    // The pull parser builds as it counts: a large body is scanned first, so
    // one over the limits builds nothing (a context is a few hundred bytes).
    let scanned = text.len() > SCAN_FIRST;
    if scanned {
        shape(text)?;
    }
    if let Ok(found) = pulled(text) {
        return Ok(found);
    }
    if !scanned {
        shape(text)?;
    }
    read_by_serde(text)
}

/// Bodies larger than this are scanned for their shape before the pull
/// parser reads them.
const SCAN_FIRST: usize = 16 * 1024;

/// [`context_of`] with `serde_json` alone, for a body whose shape is checked
/// (the pull parser stopped on it: this says why, in `serde_json`'s words).
fn read_by_serde(text: &[u8]) -> Result<Found, BodyError> {
    let value: Value = serde_json::from_slice(text).map_err(BodyError::Syntax)?;
    Ok(match value {
        Value::Object(mut body) => match body.remove("context") {
            None | Some(Value::Null) => Found::Context(Context::new()),
            Some(context) => match Context::from_json(context) {
                Ok(context) => Found::Context(context),
                Err(e) => Found::Invalid(e),
            },
        },
        other => Found::NotAnObject(burgee_rules::diagnostic::kind_of(&other)),
    })
}

/// An OFREP body read with a pull parser: its `context` (the last one, if
/// the key is there twice, as a JSON map would keep it), every value counted
/// against the shape limits.
fn pulled(text: &[u8]) -> Result<Found, Unread> {
    let mut jiter = jiter::Jiter::new(text);
    let mut allowance = Allowance::new(MAX_VALUES, MAX_DEPTH);
    if jiter.peek()? != jiter::Peek::Object {
        return Err(Unread);
    }
    allowance.enter()?;
    let mut found = Found::Context(Context::new());
    let mut key = jiter.known_object()?.map(|k| k == "context");
    let mut first = true;
    while let Some(is_context) = key {
        if !std::mem::take(&mut first) {
            allowance.count()?;
        }
        if is_context {
            found = match read_context(&mut jiter, &mut allowance)? {
                Ok(context) => Found::Context(context.unwrap_or_default()),
                Err(e) => Found::Invalid(e),
            };
        } else {
            skip_value(&mut jiter, &mut allowance)?;
        }
        key = jiter.next_key()?.map(|k| k == "context");
    }
    jiter.finish()?;
    Ok(found)
}

/// How a request announced its body.
#[derive(Clone, Copy, Debug, Default)]
pub struct Declared {
    /// `Content-Length`, when given.
    pub length: Option<u64>,
    /// `Expect: 100-continue`: the client sends nothing until told to go on.
    pub waits_for_continue: bool,
}

/// Read the whole body by `deadline`, within the budget and the shape
/// limits. A client waiting for `100 Continue` gets it
/// when the body is first polled, here.
pub async fn read_json<B>(body: B, declared: Declared, budget: &Budget, deadline: Instant) -> Result<Parsed, BodyError>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    // Refused before a byte is read: a length no drain would reach, or any
    // length over the limit from a client still waiting for the go-ahead.
    let limit = if declared.waits_for_continue { BODY_LIMIT } else { DRAIN_LIMIT };
    if declared.length.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut reservation = None;
    // A declared length is reserved up front; a chunked body as it grows.
    let expected = declared.length.map_or(0, |n| (n as usize).min(BODY_LIMIT));
    if declared.length.is_some() {
        budget.reserve(&mut reservation, cost(expected), deadline).await?;
    }
    let mut body = std::pin::pin!(body);
    let mut kept: Vec<u8> = Vec::with_capacity(expected);
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(frame) => frame,
            Err(_) => return Err(BodyError::TooSlow),
        };
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        if kept.len() + data.len() > BODY_LIMIT {
            let seen = kept.len() + data.len();
            drop(kept);
            drain(body.as_mut(), seen, deadline).await;
            return Err(BodyError::TooLarge);
        }
        budget.reserve(&mut reservation, cost(kept.len() + data.len()), deadline).await?;
        kept.extend_from_slice(&data);
    }
    if kept.iter().all(u8::is_ascii_whitespace) {
        return Ok(Parsed { text: None, reservation });
    }
    Ok(Parsed { text: Some(kept), reservation })
}

/// Read and throw away the rest of a body that is over the limit, within
/// [`DRAIN_LIMIT`] and [`DRAIN_TIME`] (and the request's deadline).
async fn drain<B>(mut body: std::pin::Pin<&mut B>, mut seen: usize, deadline: Instant)
where
    B: Body<Data = Bytes>,
{
    let until = deadline.min(Instant::now() + DRAIN_TIME);
    while seen <= DRAIN_LIMIT {
        match tokio::time::timeout_at(until, body.frame()).await {
            Ok(Some(Ok(frame))) => seen += frame.data_ref().map_or(0, Bytes::len),
            _ => return,
        }
    }
}

/// Check a JSON text's shape before parsing it: at most [`MAX_VALUES`]
/// values and [`MAX_DEPTH`] levels. It counts from the text alone (every
/// value but the first follows a `,` or opens an array or object), so it
/// costs no memory; the text's syntax is left to the parser.
pub fn shape(text: &[u8]) -> Result<(), BodyError> {
    let (mut depth, mut values) = (0usize, 1usize);
    let mut at = 0;
    while let Some(&b) = text.get(at) {
        match b {
            b'"' => {
                // Jump to the string's end: its text counts for nothing.
                let mut i = at + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &text[i.min(text.len())..]) {
                        Some(j) if text[i + j] == b'\\' => i += j + 2,
                        Some(j) => {
                            i += j;
                            break;
                        }
                        None => return Ok(()), // unterminated: the parser says so
                    }
                }
                at = i;
            }
            b'[' | b'{' => {
                depth += 1;
                values += 1;
                if depth > MAX_DEPTH {
                    return Err(BodyError::Shape(format!(
                        "the body nests arrays and objects deeper than {MAX_DEPTH} levels (at byte {at})"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > MAX_VALUES {
            return Err(BodyError::Shape(format!("the body holds more than {MAX_VALUES} values (at byte {at})")));
        }
        at += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn shape_counts_values_and_depth_outside_strings() {
        assert!(shape(br#"{"a": [1, 2, {"b": "x,[{"}]}"#).is_ok());
        let deep = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(shape(deep.as_bytes()).is_ok());
        let deeper = format!("{}1{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = shape(deeper.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("the body nests arrays and objects deeper than {MAX_DEPTH} levels (at byte {MAX_DEPTH})")
        );
        let wide = format!("[{}]", vec!["1"; MAX_VALUES - 1].join(","));
        assert!(shape(wide.as_bytes()).is_ok());
        let wider = format!("[{}]", vec!["1"; MAX_VALUES].join(","));
        assert!(shape(wider.as_bytes()).unwrap_err().to_string().starts_with("the body holds more than 10000 values"));
        // Commas and brackets inside strings, escaped quotes included, are text.
        let text = format!(r#"{{"s": "{}\"{}"}}"#, ",".repeat(MAX_VALUES * 2), "[".repeat(MAX_DEPTH * 2));
        assert!(shape(text.as_bytes()).is_ok());
    }

    #[test]
    fn the_cost_per_value_covers_what_serde_json_builds() {
        // A value in an array: the Value and up to twice its size while the Vec grows.
        assert!(2 * std::mem::size_of::<Value>() <= BYTES_PER_VALUE);
        // An object entry: its key, its value and the index map's share, doubled while growing.
        let entry = std::mem::size_of::<String>() + std::mem::size_of::<Value>() + 2 * std::mem::size_of::<usize>();
        assert!(2 * entry <= BYTES_PER_VALUE, "{entry}");
    }

    #[tokio::test]
    async fn bodies_are_read_within_the_limits() {
        let budget = Budget::default();
        let none = Declared::default();
        let ok = read_json(Full::new(Bytes::from(r#"{"context": {"a": [1]}}"#)), none, &budget, far()).await.unwrap();
        let Ok(Found::Context(context)) = context_of(&ok.text.unwrap()) else { panic!("no context") };
        assert_eq!(context.lookup("a"), Some(&serde_json::json!([1])));
        let two = Declared { length: Some(2), waits_for_continue: false };
        let empty = read_json(Full::new(Bytes::from(" \n")), two, &budget, far()).await.unwrap();
        assert!(empty.text.is_none());
        let big = read_json(Full::new(Bytes::from(vec![b' '; BODY_LIMIT + 1])), none, &budget, far()).await;
        assert!(matches!(big, Err(BodyError::TooLarge)));
        let over = Declared { length: Some(BODY_LIMIT as u64 + 1), waits_for_continue: true };
        let declared = read_json(Full::new(Bytes::new()), over, &budget, far()).await;
        assert!(matches!(declared, Err(BodyError::TooLarge)));
    }

    #[test]
    fn the_context_is_read_as_a_whole_json_value_would_be() {
        let read = |text: &str| context_of(text.as_bytes());
        let context = |text: &str| match read(text) {
            Ok(Found::Context(c)) => c,
            other => panic!("{text}: {other:?}"),
        };
        let c = context(r#"{"flagKey": ["x", {"y": 1}], "context": {"targetingKey": "u", "n": 1.50}, "z": null}"#);
        assert_eq!((c.targeting_key(), c.lookup("n").map(ToString::to_string)), (Some("u"), Some("1.50".into())));
        assert_eq!(context(r#"{"context": {"a": 1}, "context": {"b": 2}}"#).lookup("a"), None, "the last one counts");
        assert_eq!(context(r#"{"context": null}"#), Context::new());
        assert_eq!(context(" {} "), Context::new());
        assert!(matches!(read("[1]"), Ok(Found::NotAnObject("a list"))));
        assert!(matches!(read("7"), Ok(Found::NotAnObject("a number"))));
        assert!(matches!(read(r#"{"context": [1]}"#), Ok(Found::Invalid(ContextError::NotAnObject("a list")))));
        assert!(matches!(
            read(r#"{"context": {"targetingKey": 1}}"#),
            Ok(Found::Invalid(ContextError::TargetingKeyNotString("a number")))
        ));
        // Syntax errors carry serde_json's message for the whole text.
        let Err(BodyError::Syntax(e)) = read(r#"{"context": {"a": 1,}}"#) else { panic!("no syntax error") };
        let whole = serde_json::from_str::<Value>(r#"{"context": {"a": 1,}}"#).unwrap_err();
        assert_eq!(e.to_string(), whole.to_string());
    }

    #[test]
    fn the_pull_reader_answers_as_serde_json_does_or_leaves_the_body_to_it() {
        let deep = |n: usize| format!(r#"{{"context": {{"a": {}1{}}}}}"#, "[".repeat(n), "]".repeat(n));
        let wide = |n: usize| format!(r#"{{"context": {{"a": [{}]}}}}"#, vec!["1"; n].join(","));
        let junk_wide = |n: usize| format!(r#"{{"context": {{}}, "x": [{}]}}"#, vec!["1"; n].join(","));
        let mut bodies: Vec<String> = [
            r#"{"context": {"targetingKey": "u", "company": {"plan": "pro"}, "n": 1.50, "e": 2E3}}"#,
            r#"{"flagKey": ["x", {"y": 1}], "context": {"targetingKey": "u"}, "z": null}"#,
            r#"{"context": {"a": 1}, "context": {"b": 2}}"#,
            r#"{"cont\u0065xt": {"a": 1}}"#,
            r#"{"context": null}"#,
            r#"{"context": [1]}"#,
            r#"{"context": "x"}"#,
            r#"{"context": {"targetingKey": 1}}"#,
            r#"{"context": {"a": 1,}}"#,
            r#"{"context": {"a": 01}}"#,
            r#"{"context": {}} trailing"#,
            r#"{"x": tru, "context": {}}"#,
            " {} ",
            "[1]",
            "7",
        ]
        .map(String::from)
        .into();
        // Around the limits: depth (the body's object, the context's, then the lists) and values.
        bodies.extend([deep(MAX_DEPTH - 2), deep(MAX_DEPTH - 1), wide(MAX_VALUES - 3), wide(MAX_VALUES - 2)]);
        bodies.extend([junk_wide(MAX_VALUES - 4), junk_wide(MAX_VALUES - 3)]);
        for body in &bodies {
            let text = body.as_bytes();
            let serde = shape(text).and_then(|()| read_by_serde(text));
            let shown = &body[..body.len().min(80)];
            match pulled(text) {
                Ok(found) => assert_eq!(format!("{found:?}"), format!("{:?}", serde.unwrap()), "{shown}"),
                // Left to serde_json: then it is an error, or no object.
                Err(Unread) => {
                    assert!(serde.as_ref().is_err() || matches!(serde, Ok(Found::NotAnObject(_))), "{shown}: {serde:?}")
                }
            }
        }
        // The limits hold in the pull reader exactly where the scan puts them.
        assert!(pulled(deep(MAX_DEPTH - 2).as_bytes()).is_ok());
        assert!(pulled(deep(MAX_DEPTH - 1).as_bytes()).is_err());
        assert!(shape(deep(MAX_DEPTH - 1).as_bytes()).is_err());
        assert!(pulled(wide(MAX_VALUES - 3).as_bytes()).is_ok());
        assert!(shape(wide(MAX_VALUES - 3).as_bytes()).is_ok());
        assert!(pulled(wide(MAX_VALUES - 2).as_bytes()).is_err());
        assert!(shape(wide(MAX_VALUES - 2).as_bytes()).is_err());
        assert!(pulled(junk_wide(MAX_VALUES - 4).as_bytes()).is_ok());
        assert!(pulled(junk_wide(MAX_VALUES - 3).as_bytes()).is_err(), "members other than the context count too");
        assert!(shape(junk_wide(MAX_VALUES - 3).as_bytes()).is_err());
    }

    #[tokio::test]
    async fn a_body_that_stops_coming_ends_at_the_deadline() {
        let budget = Budget::default();
        let never = StreamBody::new(futures_util::stream::pending::<Result<hyper::body::Frame<Bytes>, String>>());
        let deadline = Instant::now() + Duration::from_millis(50);
        let ten = Declared { length: Some(10), waits_for_continue: true };
        let r = read_json(never, ten, &budget, deadline).await;
        assert!(matches!(r, Err(BodyError::TooSlow)), "{r:?}");
    }

    #[tokio::test]
    async fn the_budget_makes_large_bodies_wait_and_keeps_room_for_small_ones() {
        // Room for one large body at a time.
        let budget = Budget::new(BUDGET_SMALL, cost(BODY_LIMIT));
        let body = || Full::new(Bytes::from(format!("[\"{}\"]", "x".repeat(BODY_LIMIT - 8))));
        let none = Declared::default();
        let first = read_json(body(), none, &budget, far()).await.unwrap();
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(matches!(read_json(body(), none, &budget, soon).await, Err(BodyError::Busy)));
        // A small body still goes through.
        assert!(read_json(Full::new(Bytes::from("{}")), none, &budget, soon).await.is_ok());
        drop(first);
        assert!(read_json(body(), none, &budget, far()).await.is_ok());
    }
}
