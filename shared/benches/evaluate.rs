//! Criterion benchmarks of the evaluation engine: one flag with five rules,
//! all 100 flags of a realistic file, loading that file, and the bucketing
//! function alone.
//!
//! Run from the repo root with `cargo bench -p burgee-rules --bench evaluate`
//! (or `bench/engine.sh` for a summary table). The flags files are built here
//! as JSON text; nothing is read from disk. Targets: one flag < 1 µs, all 100
//! flags < 50 µs.

// A panic here fails a benchmark, which is what we want (as clippy.toml says for
// tests); its `allow-unwrap-in-tests` does not reach helper functions outside
// `#[test]`s, nor benches.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use burgee_rules::{Context, Loaded, Reason, bucket, load};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

/// The environments of every file here; evaluation uses `production`.
const ENVIRONMENTS: [&str; 3] = ["development", "staging", "production"];

/// Segments like a real project's: key lists, attribute matches, versions,
/// a percentage and a segment reference.
fn segments() -> Value {
    let beta_keys: Vec<String> = (0..40).map(|i| format!("beta-{i}")).collect();
    json!({
        "staff": {
            "description": "Our own people",
            "included": ["user-1", "user-2", "user-3", "user-4", "user-5"],
            "excluded": ["user-9"],
            "match": {"any": [
                {"attribute": "email", "op": "ends_with", "values": ["@example.com"]},
                {"attribute": "company.id", "op": "in", "values": ["acme"]}
            ]}
        },
        "beta-testers": {
            "included": beta_keys,
            "match": {"any": [{"attribute": "groups", "op": "contains", "values": ["beta"]}]}
        },
        "enterprise": {
            "match": {"all": [{"attribute": "company.plan", "op": "in", "values": ["enterprise", "business"]}]}
        },
        "mobile": {
            "match": {"all": [
                {"attribute": "platform", "op": "in", "values": ["ios", "android"]},
                {"attribute": "app.version", "op": "semver_gte", "values": ["3.0"]}
            ]}
        },
        "eu": {
            "match": {"all": [{"attribute": "country", "op": "in",
                               "values": ["AT", "BE", "DE", "ES", "FR", "IT", "NL", "PL", "SE"]}]}
        },
        "canary": {
            "match": {"all": [{"attribute": "targetingKey", "op": "percent", "values": [5]}]}
        },
        "internal-testers": {
            "match": {"any": [
                {"segment": "staff"},
                {"attribute": "email", "op": "matches", "values": ["^qa\\+.*@example\\.com$"]}
            ]}
        }
    })
}

/// The five rules of the single-flag benchmark. A context in the EU on app
/// 4.x that is not staff, not enterprise, not on a partner domain and not a
/// beta tester matches only the fifth.
fn five_rules() -> Value {
    json!([
        {"id": "staff", "segment": "staff", "serve": {"variant": "on"}},
        {"id": "big-accounts",
         "match": {"all": [{"attribute": "company.plan", "op": "in", "values": ["enterprise", "business"]}]},
         "serve": {"rollout": [{"variant": "on", "weight": 25}, {"variant": "off", "weight": 75}],
                   "bucket_by": "company.id"}},
        {"id": "partners",
         "match": {"any": [{"attribute": "email", "op": "ends_with",
                            "values": ["@partner.example.net", "@reseller.example.org"]}]},
         "serve": {"variant": "on"}},
        {"id": "beta-on-v5", "segment": "beta-testers",
         "match": {"all": [{"attribute": "app.version", "op": "semver_gte", "values": ["5.0.0"]}]},
         "serve": {"variant": "on"}},
        {"id": "eu-rollout",
         "match": {"all": [
             {"attribute": "app.version", "op": "semver_gte", "values": ["4.0"]},
             {"segment": "eu"},
             {"attribute": "targetingKey", "op": "percent", "values": [50]}
         ]},
         "serve": {"rollout": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}
    ])
}

/// A boolean flag whose production environment has `rules` and a 10 % rollout default.
fn five_rule_flag(rules: Value) -> Value {
    json!({
        "description": "Five rules, then a rollout",
        "stage": "beta",
        "variants": {"on": true, "off": false},
        "off": "off",
        "environments": {
            "development": {"enabled": true, "default": {"variant": "on"}},
            "staging": {"enabled": true, "rules": rules.clone(), "default": {"variant": "on"}},
            "production": {
                "enabled": true,
                "rules": rules,
                "default": {"rollout": [{"variant": "on", "weight": 10}, {"variant": "off", "weight": 90}]}
            }
        }
    })
}

/// A whole file's text, 2-space indented like the editor writes it.
fn file_text(flags: serde_json::Map<String, Value>) -> String {
    let file = json!({
        "version": 1,
        "environments": ENVIRONMENTS,
        "segments": segments(),
        "flags": flags,
    });
    serde_json::to_string_pretty(&file).unwrap()
}

/// A file with just the five-rule flag `checkout-v3`.
fn one_flag_file() -> String {
    let mut flags = serde_json::Map::new();
    flags.insert("checkout-v3".into(), five_rule_flag(five_rules()));
    file_text(flags)
}

/// Weights in thousandths of a percent as JSON numbers with up to 3 decimals.
fn weight(milli: u32) -> Value {
    json!(f64::from(milli) / 1000.0)
}

/// Every environment serves `variant`.
fn everywhere(variant: &str) -> Value {
    json!({
        "development": {"enabled": true, "default": {"variant": variant}},
        "staging": {"enabled": true, "default": {"variant": variant}},
        "production": {"enabled": true, "default": {"variant": variant}}
    })
}

/// Flag `i` of the 100-flag file. Kinds cycle with `i % 10`: static release
/// flags, percentage rollouts, string experiments, individual targets,
/// prerequisites with per-company rollouts, numbers by plan, object configs,
/// killed / absent flags, and the five-rule flag.
fn flag(i: usize) -> (String, Value) {
    let bool_variants = json!({"on": true, "off": false});
    match i % 10 {
        0 | 5 => (
            format!("release-{i:03}"),
            json!({"stage": "ga", "variants": bool_variants, "off": "off", "environments": everywhere("on")}),
        ),
        1 => {
            let on = u32::try_from(i * 7919 % 100_001).unwrap();
            (
                format!("rollout-{i:03}"),
                json!({
                    "description": "Gradual rollout",
                    "stage": "beta",
                    "variants": bool_variants,
                    "off": "off",
                    "environments": {
                        "development": {"enabled": true, "default": {"variant": "on"}},
                        "production": {"enabled": true, "default": {"rollout": [
                            {"variant": "on", "weight": weight(on)},
                            {"variant": "off", "weight": weight(100_000 - on)}
                        ]}}
                    }
                }),
            )
        }
        2 => (
            format!("experiment-{i:03}"),
            json!({
                "description": "A/B/C test",
                "variants": {"control": "control", "treatment-a": "one-page", "treatment-b": "wizard"},
                "off": "control",
                "environments": {
                    "development": {"enabled": true, "default": {"variant": "treatment-a"}},
                    "staging": {"enabled": true, "default": {"variant": "treatment-a"}},
                    "production": {
                        "enabled": true,
                        "rules": [
                            {"id": "staff-see-a", "segment": "staff", "serve": {"variant": "treatment-a"}},
                            {"id": "not-on-old-apps",
                             "match": {"all": [{"attribute": "app.version", "op": "semver_lt", "values": ["3.0.0"]}]},
                             "serve": {"variant": "control"}}
                        ],
                        "default": {"rollout": [
                            {"variant": "control", "weight": 33.334},
                            {"variant": "treatment-a", "weight": 33.333},
                            {"variant": "treatment-b", "weight": 33.333}
                        ], "salt": format!("exp-2026-{i}")}
                    }
                }
            }),
        ),
        3 => {
            let on: Vec<String> = (0..30).map(|k| format!("user-{}", 1000 + i * 100 + k)).collect();
            let off: Vec<String> = (0..10).map(|k| format!("user-{}", 5000 + i * 100 + k)).collect();
            (
                format!("targeted-{i:03}"),
                json!({
                    "variants": bool_variants,
                    "off": "off",
                    "environments": {
                        "staging": {"enabled": true, "default": {"variant": "on"}},
                        "production": {
                            "enabled": true,
                            "targets": {"on": on, "off": off},
                            "rules": [
                                {"id": "beta", "segment": "beta-testers", "serve": {"variant": "on"}},
                                {"id": "internal", "segment": "internal-testers", "serve": {"variant": "on"}}
                            ],
                            "default": {"variant": "off"}
                        }
                    }
                }),
            )
        }
        4 => (
            format!("dependent-{i:03}"),
            json!({
                "stage": "internal",
                "variants": bool_variants,
                "off": "off",
                "environments": {
                    "production": {
                        "enabled": true,
                        "prerequisites": [
                            {"flag": format!("release-{:03}", i - 4), "variants": ["on"]},
                            {"flag": format!("rollout-{:03}", i - 3), "variants": ["on", "off"]}
                        ],
                        "rules": [
                            {"id": "enterprise", "segment": "enterprise",
                             "serve": {"rollout": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}],
                                       "bucket_by": "company.id"}},
                            {"id": "canary", "segment": "canary", "serve": {"variant": "on"}}
                        ],
                        "default": {"variant": "off"}
                    }
                }
            }),
        ),
        6 => (
            format!("limit-{i:03}"),
            json!({
                "description": "Rate limit by plan",
                "variants": {"low": 10, "medium": 50, "high": 100, "unlimited": 1_000_000},
                "off": "low",
                "environments": {
                    "development": {"enabled": true, "default": {"variant": "unlimited"}},
                    "production": {
                        "enabled": true,
                        "rules": [
                            {"id": "enterprise", "segment": "enterprise", "serve": {"variant": "unlimited"}},
                            {"id": "pro", "match": {"all": [{"attribute": "company.plan", "op": "in", "values": ["pro"]}]},
                             "serve": {"variant": "high"}},
                            {"id": "big-teams",
                             "match": {"all": [{"attribute": "company.seats", "op": "gte", "values": [50]}]},
                             "serve": {"variant": "medium"}}
                        ],
                        "default": {"variant": "low"}
                    }
                }
            }),
        ),
        7 => (
            format!("config-{i:03}"),
            json!({
                "variants": {
                    "default": {"theme": "light", "items_per_page": 20, "banner": null},
                    "mobile": {"theme": "light", "items_per_page": 10, "banner": null},
                    "eu": {"theme": "light", "items_per_page": 20, "banner": "cookie-consent-v2"}
                },
                "off": "default",
                "environments": {
                    "development": {"enabled": true, "default": {"variant": "default"}},
                    "staging": {"enabled": true, "default": {"variant": "default"}},
                    "production": {
                        "enabled": true,
                        "rules": [
                            {"id": "mobile", "segment": "mobile", "serve": {"variant": "mobile"}},
                            {"id": "eu-after-launch",
                             "match": {"all": [
                                 {"segment": "eu"},
                                 {"attribute": "signed_up_at", "op": "after", "values": ["2025-06-01T00:00:00Z"]}
                             ]},
                             "serve": {"variant": "eu"}},
                            {"id": "eu", "segment": "eu", "serve": {"variant": "eu"}}
                        ],
                        "default": {"variant": "default"}
                    }
                }
            }),
        ),
        8 if i % 20 == 8 => (
            format!("killed-{i:03}"),
            json!({
                "variants": bool_variants,
                "off": "off",
                "environments": {
                    "development": {"enabled": true, "default": {"variant": "on"}},
                    "staging": {"enabled": true, "default": {"variant": "on"}},
                    "production": {"enabled": false, "default": {"variant": "on"}}
                }
            }),
        ),
        8 => (
            format!("dev-only-{i:03}"),
            json!({
                "stage": "in-development",
                "variants": bool_variants,
                "off": "off",
                "environments": {"development": {"enabled": true, "default": {"variant": "on"}}}
            }),
        ),
        _ => (format!("checkout-{i:03}"), five_rule_flag(five_rules())),
    }
}

/// The realistic 100-flag file.
fn hundred_flag_file() -> String {
    file_text((0..100).map(flag).collect())
}

/// The one context every benchmark evaluates for: not staff, not enterprise,
/// in the EU on app 4.2.1, not a beta tester.
fn context(targeting_key: &str, country: &str) -> Context {
    Context::from_json(json!({
        "targetingKey": targeting_key,
        "email": "jane.doe@customer.io",
        "company": {"id": "globex", "plan": "pro", "seats": 12},
        "app": {"version": "4.2.1"},
        "platform": "web",
        "country": country,
        "groups": ["newsletter", "beta-waitlist"],
        "signed_up_at": "2025-03-14T09:26:53Z"
    }))
    .unwrap()
}

/// A key that passes the fifth rule's `percent: 50` (salt `checkout-v3`).
fn key_in_fifth_rule() -> String {
    (0..).map(|i| format!("user-{}", 48_213 + i)).find(|k| bucket::bucket("checkout-v3", k) < 50_000).unwrap()
}

fn loaded(text: &str) -> Loaded {
    load(text).unwrap_or_else(|rejected| panic!("the benchmark's file is rejected: {rejected}"))
}

fn evaluate(c: &mut Criterion) {
    let one = loaded(&one_flag_file());
    let env = one.compiled.environment("production").unwrap();
    let key = key_in_fifth_rule();
    let fifth = context(&key, "DE");
    let default = context(&key, "US");

    // Check that each context goes where the benchmark says it does.
    let (result, steps) = one.compiled.explain("checkout-v3", env, &fifth);
    assert_eq!(result.unwrap().rule_id, Some("eu-rollout"), "{steps:?}");
    let (result, steps) = one.compiled.explain("checkout-v3", env, &default);
    let result = result.unwrap();
    assert_eq!((result.rule_id, result.reason), (None, Reason::Split), "{steps:?}");

    let hundred = loaded(&hundred_flag_file());
    let results: Vec<_> = hundred.compiled.evaluate_all(env, &fifth).collect();
    assert_eq!(results.len(), 100);
    for (flag, result) in &results {
        assert!(result.is_ok(), "{flag}: {result:?}");
    }

    let mut group = c.benchmark_group("evaluate");
    group.bench_function("one_flag_five_rules/fifth_matches", |b| {
        b.iter(|| one.compiled.evaluate(black_box("checkout-v3"), env, black_box(&fifth)));
    });
    group.bench_function("one_flag_five_rules/default", |b| {
        b.iter(|| one.compiled.evaluate(black_box("checkout-v3"), env, black_box(&default)));
    });
    group.bench_function("all_100_flags", |b| {
        b.iter(|| {
            for result in hundred.compiled.evaluate_all(env, black_box(&fifth)) {
                let _ = black_box(result);
            }
        });
    });
    group.finish();
}

fn load_file(c: &mut Criterion) {
    let text = hundred_flag_file();
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("100_flags", |b| b.iter(|| load(black_box(&text)).unwrap()));
    // For scale: just reading the same text into a `serde_json::Value`.
    group.bench_function("100_flags_json_value_only", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(&text)).unwrap());
    });
    group.finish();
}

fn bucketing(c: &mut Criterion) {
    let mut group = c.benchmark_group("bucket");
    group
        .bench_function("short_key", |b| b.iter(|| bucket::bucket(black_box("new-checkout"), black_box("user-48213"))));
    group.bench_function("uuid_key", |b| {
        b.iter(|| bucket::bucket(black_box("new-checkout"), black_box("3f2b8c1e-9d4a-4e7b-a6c5-0d1e2f3a4b5c")));
    });
    group.finish();
}

/// Short runs: the machine is small and shared.
fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = evaluate, load_file, bucketing
}
criterion_main!(benches);
