//! `/v1/events`: Server-Sent Events. One `configuration_change` event per
//! accepted reload (with the new version), one `reload_failed` event per
//! rejected file (with the errors), and a comment every 15 s to keep proxies
//! from closing the stream. Streams end when the server shuts down.

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

use super::routes::{App, ResponseBody};
use crate::reload::store::Event;

/// How often a keep-alive comment is sent.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The SSE text of one event.
pub fn encode(event: &Event) -> String {
    let (name, data) = match event {
        Event::ConfigurationChange { version } => ("configuration_change", json!({"version": version})),
        Event::ReloadFailed { errors } => ("reload_failed", json!({"errors": errors})),
    };
    format!("event: {name}\ndata: {data}\n\n")
}

/// The event stream response.
pub fn stream(app: &App) -> Response<ResponseBody> {
    let events = BroadcastStream::new(app.store.subscribe()).filter_map(|e| async move {
        // A lagging subscriber skips what it missed; the next event still tells the current version.
        e.ok().map(|e| Bytes::from(encode(&e)))
    });
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    keep_alive.reset();
    let pings = IntervalStream::new(keep_alive).map(|_| Bytes::from_static(b": keep-alive\n\n"));
    let mut shutdown = app.shutdown.clone();
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let hello = futures_util::stream::once(async { Bytes::from_static(b"retry: 1000\n\n") });
    let body = hello
        .chain(futures_util::stream::select(events, pings))
        .take_until(Box::pin(stop))
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let mut r = Response::new(StreamBody::new(body).boxed_unsync());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
