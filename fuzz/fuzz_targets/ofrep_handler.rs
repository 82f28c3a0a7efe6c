//! The sidecar's real request handler, `burgee_sidecar::serve::routes::handle`
//! (public; the body parser `read_context` it calls is private), serving the
//! example file. Input: byte 0 picks the route and a few headers, bytes
//! 1..=n (n = byte 1 % 64) are a flag key when the route takes one, the rest
//! is the body. A body starting with `#` is a shape instead: the next two
//! bytes are a depth and a width, and the body is a context holding arrays
//! and objects nested that deep around an array that wide (so the fuzzer
//! explores the shape limits, not only the bytes). Never panics, never a
//! 5xx but 503 (busy), and every answer but 304 has a JSON body. Run with
//! `-malloc_limit_mb=16` (fuzz/run.sh): no request allocates more at once.
#![no_main]

use std::sync::{Arc, OnceLock};

use burgee_sidecar::metrics::Metrics;
use burgee_sidecar::reload::store::{Outcome, Store};
use burgee_sidecar::serve::app::App;
use burgee_sidecar::serve::routes::handle;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};

static EXAMPLE: &str = include_str!("../../examples/flags.json");
const FLAGS: [&str; 4] = ["new-checkout", "checkout-upsell", "no-such-flag", "search-config"];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: Arc<App>,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("flags.json");
        std::fs::write(&path, EXAMPLE).expect("write the example file");
        let metrics = Arc::new(Metrics::new());
        let store = Arc::new(Store::new(path, None, metrics.clone()));
        assert_eq!(store.reload(), Outcome::Accepted);
        let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
        let mut app = App::new(store, metrics, shutdown);
        app.cors_origins = vec!["https://a.example".into()];
        let app = Arc::new(app);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        Fixture { runtime, app, _dir: dir, _shutdown: shutdown_tx }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let (&selector, rest) = data.split_first().unwrap_or((&0, &[]));
    let (key_len, rest) = rest.split_first().map_or((0, rest), |(n, r)| (*n as usize % 64, r));
    let (key_bytes, body) = rest.split_at(key_len.min(rest.len()));

    let key = match selector & 3 {
        0 => FLAGS[(selector as usize >> 2) % FLAGS.len()].to_owned(),
        // Arbitrary text, percent-encoded so the URI is always valid.
        _ => key_bytes.iter().map(|b| format!("%{b:02X}")).collect(),
    };
    let path = if selector & 0x40 != 0 {
        "/ofrep/v1/evaluate/flags".to_owned()
    } else {
        format!("/ofrep/v1/evaluate/flags/{key}")
    };
    let mut req = Request::builder().method(Method::POST).uri(path).header("host", "127.0.0.1:8016");
    if selector & 0x80 != 0 {
        req = req.header("content-type", "application/json");
    }
    if selector & 0x20 != 0 {
        req = req.header("x-burgee-environment", if selector & 0x10 != 0 { "production" } else { "nowhere" });
    }
    if selector & 0x08 != 0 {
        req = req.header("origin", "https://a.example").header("if-none-match", "*");
    }
    let body = match body {
        [b'#', depth, width, rest @ ..] => Bytes::from(shaped(*depth as usize, *width as usize * 64, rest)),
        _ => Bytes::copy_from_slice(body),
    };
    let Ok(req) = req.body(Full::new(body)) else { return };

    let (status, bytes) = fixture.runtime.block_on(async {
        let response = handle(fixture.app.clone(), req).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("a full body is infallible").to_bytes();
        (status, bytes)
    });
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status != StatusCode::NOT_MODIFIED {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
            "{status}: the body is not JSON: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
});

/// `{"context": {"targetingKey": "u", "x": SHAPE}}`: `depth` levels of
/// arrays and objects (alternating, by the bits of `pattern`) around an
/// array of `width` copies of a small value.
fn shaped(depth: usize, width: usize, pattern: &[u8]) -> Vec<u8> {
    let mut out = br#"{"context": {"targetingKey": "u", "x": "#.to_vec();
    let object = |level: usize| pattern.get(level / 8).is_some_and(|b| b >> (level % 8) & 1 == 1);
    for level in 0..depth {
        out.extend_from_slice(if object(level) { br#"{"k": "# } else { b"[" });
    }
    out.push(b'[');
    for i in 0..width {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{}");
    }
    out.push(b']');
    for level in (0..depth).rev() {
        out.push(if object(level) { b'}' } else { b']' });
    }
    out.extend_from_slice(b"}}");
    out
}
