//! Scale: load (parse + validate + compile) and all-flags evaluation of a big
//! generated file. Run by `bench/scale.sh`, which generates the file with
//! `bench/generate.py` and passes its path in `BURGEE_SCALE_FILE`; without
//! it this bench does nothing. It runs with the sidecar's allocator
//! (jemalloc), so the figures are what the sidecar's engine does.

#![allow(clippy::unwrap_used)] // a bench that cannot load its file has nothing to measure

use std::hint::black_box;
use std::time::Duration;

use burgee_rules::{Context, load};

/// As in `burgee-sidecar`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use criterion::{Criterion, criterion_group, criterion_main};

fn scale(c: &mut Criterion) {
    let Ok(path) = std::env::var("BURGEE_SCALE_FILE") else {
        eprintln!("BURGEE_SCALE_FILE is not set: nothing to measure (run bench/scale.sh)");
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let mut group = c.benchmark_group("scale");
    group.sample_size(10).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(1));
    group.bench_function("load_10000_flags", |b| b.iter(|| black_box(load(black_box(&text)).unwrap())));

    let compiled = load(&text).unwrap().compiled;
    let env = compiled.environment("production").unwrap();
    let context = Context::from_json(serde_json::json!({
        "targetingKey": "user-4711", "email": "ana@example.com", "country": "DE",
        "app": {"version": "4.2.0"}, "company": {"id": "acme", "plan": "enterprise", "seats": 800}
    }))
    .unwrap();
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    group.bench_function("evaluate_all_10000_flags", |b| {
        b.iter(|| {
            for (key, result) in compiled.evaluate_all(env, black_box(&context)) {
                black_box((key, result.ok()));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
