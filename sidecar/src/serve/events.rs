//! `/v1/events`: Server-Sent Events. One `configuration_change` event per
//! accepted reload (with the new version), one `reload_failed` event per
//! rejected file (with its first 100 errors and their count), and a comment
//! every 15 s to keep proxies from closing the stream. Streams end when the
//! server shuts down.
//!
//! Bounded: at most `--max-streams` streams are open at once (past that,
//! `503` with `Retry-After`); each event is encoded once and shared by every
//! stream; a stream more than [`EVENT_BACKLOG`](crate::reload::store::EVENT_BACKLOG) events behind (its client
//! does not read) is ended instead of buffering for it.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http::header::{self, HeaderValue};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::json;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};

use super::app::{App, ResponseBody};
use super::error::RequestError;
use crate::reload::store::{Event, Published};

/// How often a keep-alive comment is sent.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The SSE text of one event.
pub fn encode(event: &Event) -> String {
    let (name, data) = match event {
        Event::ConfigurationChange { version } => ("configuration_change", json!({"version": version})),
        Event::ReloadFailed { errors, count } => ("reload_failed", json!({"errors": errors, "count": count})),
    };
    format!("event: {name}\ndata: {data}\n\n")
}

/// The SSE bytes of a published event, encoded by the first stream that
/// sends it.
fn wire(published: &Published) -> Bytes {
    published.encoded.get_or_init(|| Bytes::from(encode(&published.event))).clone()
}

/// The event stream response, or [`RequestError::TooManyStreams`] when every
/// stream slot is taken.
pub fn stream(app: &App) -> Result<Response<ResponseBody>, RequestError> {
    let slot = app.streams.clone().try_acquire_owned().map_err(|_| RequestError::TooManyStreams)?;
    // A subscriber that lags (its client stopped reading, so this stream was
    // not polled while events came) ends the stream: its client reconnects
    // and learns the current version, and nothing piles up for it.
    let events = BroadcastStream::new(app.store.subscribe())
        .take_while(|e| std::future::ready(e.is_ok()))
        .filter_map(|e| std::future::ready(e.ok().map(|p| wire(&p))));
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    keep_alive.reset();
    let pings = IntervalStream::new(keep_alive).map(|_| Bytes::from_static(b": keep-alive\n\n"));
    let mut shutdown = app.shutdown.clone();
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let hello = futures_util::stream::once(async { Bytes::from_static(b"retry: 1000\n\n") });
    // `select` would keep the pings going after the events end; the stream
    // ends with whichever of the two ends first.
    let merged = futures_util::stream::select_with_strategy(
        events.map(Some).chain(futures_util::stream::once(async { None })),
        pings.map(Some),
        |_: &mut ()| futures_util::stream::PollNext::Left,
    )
    .take_while(|b| std::future::ready(b.is_some()))
    .filter_map(std::future::ready);
    let body = hello.chain(merged).take_until(Box::pin(stop)).map(move |b| {
        let _slot = &slot;
        Ok::<_, Infallible>(Frame::data(b))
    });
    let mut r = Response::new(StreamBody::new(body).boxed_unsync());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}
