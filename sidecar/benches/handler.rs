//! The request handler called without a socket ([`routes::handle`]): what
//! Burgee adds to each answer on top of hyper, per endpoint. It explains the
//! end-to-end figures of `bench/ofrep.sh` (it does not replace them).
//!
//!   cargo bench -p burgee-sidecar --bench handler
//!   BURGEE_BULK_FILES=big.json,small.json cargo bench -p burgee-sidecar --bench handler -- bulk_file
//!
//! With `BURGEE_BULK_FILES`, also the bulk answer (every flag) for each of
//! those files (`bench/scale.sh` passes a 10,000-flag and a 100-flag file).
//! It runs with the sidecar's allocator (jemalloc).
//!
//! The file is `examples/flags.json` with a prerequisite and individual
//! targets added to `new-checkout` in production, as `bench/ofrep.sh` does;
//! the context has six attributes.

#![allow(clippy::unwrap_used)] // a panic fails the benchmark, as it should

/// As in `burgee-sidecar`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::hint::black_box;
use std::sync::Arc;

use burgee_sidecar::metrics::Metrics;
use burgee_sidecar::reload::store::{Outcome, Store};
use burgee_sidecar::serve::app::App;
use burgee_sidecar::serve::routes::handle;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use serde_json::json;

const CONTEXT: &str = r#"{"context":{"targetingKey":"user-4711","email":"ana@corp.example.org","country":"DE","beta_opt_in":false,"app":{"version":"4.2.0"},"company":{"id":"acme","plan":"pro","seats":42}}}"#;

/// An app serving `text`, in `production`.
fn serving(dir: &tempfile::TempDir, text: &str) -> Arc<App> {
    let path = dir.path().join("flags.json");
    std::fs::write(&path, text).unwrap();
    let metrics = Arc::new(Metrics::new());
    let store = Arc::new(Store::new(path, Some("production".into()), metrics.clone()));
    assert_eq!(store.reload(), Outcome::Accepted);
    let (_, shutdown) = tokio::sync::watch::channel(false);
    Arc::new(App::new(store, metrics, shutdown))
}

/// `examples/flags.json` with `new-checkout` behind a prerequisite and with
/// individual targets in production.
fn bench_file() -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let production = &mut doc["flags"]["new-checkout"]["environments"]["production"];
    production["prerequisites"] = json!([{"flag": "accept-payments", "variants": ["on"]}]);
    let on: Vec<String> = (100..140).map(|i| format!("user-{i}")).collect();
    let off: Vec<String> = (900..920).map(|i| format!("user-{i}")).collect();
    production["targets"] = json!({"on": on, "off": off});
    doc.to_string()
}

fn request(method: Method, path: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:8016")
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

/// One request through the handler, its body collected as hyper would write it.
fn answer(rt: &tokio::runtime::Runtime, app: &Arc<App>, req: Request<Full<Bytes>>) -> usize {
    rt.block_on(async {
        let response = handle(app.clone(), req).await;
        assert!(response.status().is_success(), "{}", response.status());
        response.into_body().collect().await.unwrap().to_bytes().len()
    })
}

fn handler(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = rt.block_on(async { serving(&dir, &bench_file()) });
    let mut group = c.benchmark_group("handler");
    group.bench_function("single_flag", |b| {
        b.iter(|| answer(&rt, &app, request(Method::POST, "/ofrep/v1/evaluate/flags/new-checkout", black_box(CONTEXT))))
    });
    group.bench_function("healthz", |b| b.iter(|| answer(&rt, &app, request(Method::GET, "/healthz", ""))));
    group.bench_function("bulk_14_flags", |b| {
        b.iter(|| answer(&rt, &app, request(Method::POST, "/ofrep/v1/evaluate/flags", black_box(CONTEXT))))
    });
    group.finish();

    for path in std::env::var("BURGEE_BULK_FILES").unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
        let dir = tempfile::tempdir().unwrap();
        let app = rt.block_on(async { serving(&dir, &std::fs::read_to_string(path).unwrap()) });
        let flags = app.store.current().unwrap().compiled.flag_count();
        let mut group = c.benchmark_group("handler/bulk_file");
        group.sample_size(if flags > 1000 { 20 } else { 100 });
        group.bench_function(format!("{flags}_flags"), |b| {
            b.iter(|| answer(&rt, &app, request(Method::POST, "/ofrep/v1/evaluate/flags", black_box(CONTEXT))))
        });
        group.finish();
    }
}

criterion_group!(benches, handler);
criterion_main!(benches);
