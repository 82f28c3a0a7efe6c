//! Criterion benchmarks of the editor's previews over 100,000 generated
//! users: change impact for one flag (target: under 50 ms in release mode on
//! a 2-core machine) on users cut down to the attributes the flag reads (as
//! the worker does) and on whole users, the distribution of one flag, segment
//! counts, the per-edit path against a cached baseline of the saved file, a
//! typical lighter flag, a whole worker computation with its caches warm,
//! and building the population, the baseline and the slim users.
//!
//! Run from the repo root with `cargo bench -p burgee-editor --bench preview`;
//! criterion writes each median to
//! `target/criterion/<name>/new/estimates.json` (`median.point_estimate`, ns).

// A panic here fails a benchmark, which is what we want (as clippy.toml says
// for tests); `allow-unwrap-in-tests` does not reach benches.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use burgee_editor::preview::{
    Baseline, FlagOutline, PopulationSpec, PreviewCache, PreviewRequest, attribute_paths, compute, distribution,
    distribution_and_impact, generate, impact, impact_against, project, segment_attribute_paths, segment_counts,
    segment_keys,
};
use burgee_rules::{Loaded, load};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

const USERS: usize = 100_000;
const FLAG: &str = "new-checkout";
const ENV: &str = "production";

/// A realistic file: four segments (key lists, e-mail suffix, company ids,
/// a 27-country list, plan or seats) and one flag with individual targets,
/// three rules (two segments; EU mobile users on app 4.2 or later, half of
/// them) and a default rollout giving `on` to `default_on` percent. `heavy`
/// adds two more rules that most users pass through (enterprise companies
/// by company id; recent sign-ups, a timestamp comparison).
fn file(default_on: u32, heavy: bool) -> Loaded {
    let eu = [
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
        "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    ];
    let segments = json!({
        "staff": {
            "included": ["user-1001", "user-1002"],
            "excluded": ["user-1999"],
            "match": {"any": [
                {"attribute": "email", "op": "ends_with", "values": ["@example.com"]},
                {"attribute": "company.id", "op": "in", "values": ["company-1", "company-2"]}
            ]}
        },
        "beta-testers": {
            "included": ["user-2001", "user-2002", "user-2003"],
            "match": {"attribute": "beta_opt_in", "op": "in", "values": [true]}
        },
        "enterprise-companies": {
            "match": {"any": [
                {"attribute": "company.plan", "op": "in", "values": ["enterprise"]},
                {"attribute": "company.seats", "op": "gte", "values": [500]}
            ]}
        },
        "eu-users": {"match": {"attribute": "country", "op": "in", "values": eu}}
    });
    let targets: Vec<String> = (0..20).map(|i| format!("user-{}", 50_000 + i)).collect();
    let mut production = json!({
        "enabled": true,
        "targets": {"on": targets, "off": ["user-13"]},
        "rules": [
            {"id": "staff", "segment": "staff", "serve": {"variant": "on"}},
            {"id": "beta-testers", "segment": "beta-testers", "serve": {"variant": "on"}},
            {"id": "eu-mobile", "segment": "eu-users",
             "match": {"all": [
                 {"attribute": "platform", "op": "in", "values": ["ios", "android"]},
                 {"attribute": "app.version", "op": "semver_gte", "values": ["4.2.0"]}
             ]},
             "serve": {"rollout": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}},
        ],
        "default": {"rollout": [{"variant": "on", "weight": default_on}, {"variant": "off", "weight": 100 - default_on}]}
    });
    if heavy {
        let extra = json!([
            {"id": "enterprise", "segment": "enterprise-companies",
             "serve": {"rollout": [{"variant": "on", "weight": 25}, {"variant": "off", "weight": 75}],
                       "bucket_by": "company.id"}},
            {"id": "recent", "match": {"attribute": "signed_up_at", "op": "after", "values": ["2026-03-01T00:00:00Z"]},
             "serve": {"variant": "off"}}
        ]);
        production["rules"].as_array_mut().unwrap().extend(extra.as_array().unwrap().iter().cloned());
    }
    let flags = json!({
        FLAG: {
            "variants": {"on": true, "off": false},
            "off": "off",
            "environments": {"development": {"enabled": true, "default": {"variant": "on"}}, "production": production}
        }
    });
    let text: Value = json!({"version": 1, "environments": ["development", "staging", "production"], "segments": segments, "flags": flags});
    load(&text.to_string()).unwrap()
}

fn previews(c: &mut Criterion) {
    let saved = file(10, false);
    let edited = file(20, false);
    let (heavy_saved, heavy_edited) = (file(10, true), file(20, true));
    let population = generate(&PopulationSpec { size: USERS, ..PopulationSpec::default() });
    let outline = FlagOutline::of(&edited.file, FLAG, ENV);
    let segments = segment_keys(&edited.file);
    // What the worker evaluates: users cut down to the attributes read.
    let mut paths = attribute_paths(&edited.file, FLAG, ENV);
    paths.extend(attribute_paths(&saved.file, FLAG, ENV));
    let slim = project(&population, &paths);
    let slim_segments = project(&population, &segment_attribute_paths(&edited.file));

    // The change must be visible: raising 10% → 20% moves users off → on.
    let check = impact(&saved.compiled, Some(FLAG), &edited.compiled, FLAG, ENV, &population);
    assert!(check.changed > USERS / 50, "{check:?}");
    assert_eq!(check, impact(&saved.compiled, Some(FLAG), &edited.compiled, FLAG, ENV, &slim));

    let mut group = c.benchmark_group("preview");
    group.sample_size(20).measurement_time(Duration::from_secs(5)).throughput(Throughput::Elements(USERS as u64));
    // Change impact, both files evaluated per user: the headline figure.
    group.bench_function("impact_100k", |b| {
        b.iter(|| impact(&saved.compiled, Some(FLAG), &edited.compiled, FLAG, ENV, black_box(&slim)))
    });
    let mut heavy_paths = attribute_paths(&heavy_edited.file, FLAG, ENV);
    heavy_paths.extend(attribute_paths(&heavy_saved.file, FLAG, ENV));
    let heavy_slim = project(&population, &heavy_paths);
    group.bench_function("impact_100k_heavy_flag", |b| {
        b.iter(|| impact(&heavy_saved.compiled, Some(FLAG), &heavy_edited.compiled, FLAG, ENV, black_box(&heavy_slim)))
    });
    drop(heavy_slim);
    group.bench_function("impact_100k_whole_users", |b| {
        b.iter(|| impact(&saved.compiled, Some(FLAG), &edited.compiled, FLAG, ENV, black_box(&population)))
    });
    // What each edit costs once the saved side is known: one evaluation a user.
    let baseline = Baseline::new(&saved.compiled, Some(FLAG), ENV, &slim);
    group.bench_function("impact_against_baseline_100k", |b| {
        b.iter(|| impact_against(&baseline, &edited.compiled, FLAG, ENV, black_box(&slim)))
    });
    group.bench_function("distribution_and_impact_100k", |b| {
        b.iter(|| distribution_and_impact(&baseline, &edited.compiled, &outline, FLAG, ENV, black_box(&slim)))
    });
    group.bench_function("distribution_100k", |b| {
        b.iter(|| distribution(&edited.compiled, &outline, FLAG, ENV, black_box(&slim)))
    });
    group.bench_function("segment_counts_100k", |b| {
        b.iter(|| segment_counts(&edited.compiled, &segments, black_box(&slim_segments)))
    });
    // A lighter, typical flag: examples/flags.json's new-checkout (two segment rules, a default rollout).
    let example = load(include_str!("../../examples/flags.json")).unwrap();
    let example_slim = project(&population, &attribute_paths(&example.file, FLAG, ENV));
    group.bench_function("impact_100k_example_new_checkout", |b| {
        b.iter(|| impact(&example.compiled, Some(FLAG), &example.compiled, FLAG, ENV, black_box(&example_slim)))
    });
    let population = Arc::new(population);
    let request = PreviewRequest::new(
        1,
        Arc::new(saved.compiled.clone()),
        Arc::new(edited.compiled.clone()),
        &edited.file,
        FLAG,
        ENV,
        Arc::clone(&population),
    )
    .saved_model(&saved.file);
    let mut cache = PreviewCache::new();
    group.bench_function("worker_compute_100k_cached", |b| {
        b.iter(|| compute(black_box(&request), &mut cache, || false))
    });
    group.sample_size(10);
    group.bench_function("baseline_100k", |b| {
        b.iter(|| Baseline::new(&saved.compiled, Some(FLAG), ENV, black_box(&slim)))
    });
    group.bench_function("project_100k", |b| b.iter(|| project(black_box(&population), &paths)));
    group.bench_function("generate_100k", |b| {
        b.iter(|| generate(&PopulationSpec { size: USERS, ..PopulationSpec::default() }))
    });
    group.finish();
}

criterion_group!(benches, previews);
criterion_main!(benches);
