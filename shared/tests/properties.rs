//! Property tests of evaluation and bucketing, as the contract's "Serving"
//! section demands (flags-file.md, "Consequences to keep (and test)"):
//!
//! - the same file and context always give the same results, also from a
//!   second, independently loaded copy of the file, and from one compiled
//!   the sidecar's way (`compile_owned`, freeing the model as it goes) and
//!   with the context read the sidecar's way (`read_context`, from the text);
//! - raising the first variant's weight only adds users to it;
//! - a user's variant does not depend on other flags or on the rules around
//!   the rollout that serves it;
//! - a split's observed shares over 100,000 random keys are within 0.5
//!   percentage points of its weights.

// A panic here fails a test, which is what we want (as clippy.toml says for
// tests); its `allow-unwrap-in-tests` does not reach helper functions outside
// `#[test]`s, nor benches.
#![allow(clippy::unwrap_used)]

use burgee_rules::context::{Allowance, read_context};
use burgee_rules::{Context, Loaded, load};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{Map, Value, json};

/// The environments of every generated file.
const ENVIRONMENTS: [&str; 2] = ["staging", "production"];

fn loaded(file: &Value) -> Loaded {
    let text = serde_json::to_string_pretty(file).unwrap();
    load(&text).unwrap_or_else(|rejected| panic!("generated file is rejected: {rejected:#?}\n{text}"))
}

/// A weight in thousandths of a percent as a JSON number with up to 3 decimals.
fn weight(milli: u32) -> Value {
    json!(f64::from(milli) / 1000.0)
}

/// A rollout over `variants` with weights in thousandths of a percent.
fn rollout(variants: &[&str], millis: &[u32]) -> Value {
    let entries: Vec<Value> =
        variants.iter().zip(millis).map(|(v, m)| json!({"variant": v, "weight": weight(*m)})).collect();
    json!({"rollout": entries})
}

/// A file with `flags` in the production environment only (plus `segments`).
fn file(segments: Value, flags: Map<String, Value>) -> Value {
    json!({"version": 1, "environments": ENVIRONMENTS, "segments": segments, "flags": flags})
}

/// A flag whose production environment is `env`.
fn flag_in_production(variants: Value, off: &str, env: Value) -> Value {
    json!({"variants": variants, "off": off, "environments": {"production": env}})
}

/// The variant `key` gets for `flag` in production.
fn variant_of<'f>(loaded: &'f Loaded, flag: &str, key: &str) -> &'f str {
    let env = loaded.compiled.environment("production").unwrap();
    loaded.compiled.evaluate(flag, env, &Context::with_key(key)).unwrap().variant
}

/// Targeting keys: ASCII ids, e-mail-like strings and any Unicode.
fn targeting_key() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9-]{1,24}", "[a-z.]{1,12}@[a-z]{1,8}\\.(com|io)", "\\PC{1,16}"]
}

// --- (i) Same input, same output -------------------------------------------

/// A file with every kind of flag: static, rollout with and without salt and
/// `bucket_by`, multivariate, targets, segments, prerequisites, disabled, all
/// ops the generated contexts can hit.
fn rich_file() -> Value {
    json!({
        "version": 1,
        "environments": ENVIRONMENTS,
        "segments": {
            "staff": {
                "included": ["user-1", "user-2"],
                "excluded": ["user-9"],
                "match": {"any": [
                    {"attribute": "email", "op": "ends_with", "values": ["@example.com"]},
                    {"attribute": "company.id", "op": "in", "values": ["acme"]}
                ]}
            },
            "enterprise": {"match": {"all": [{"attribute": "company.plan", "op": "in", "values": ["enterprise"]}]}},
            "canary": {"match": {"all": [{"attribute": "targetingKey", "op": "percent", "values": [12.5]}]}},
            "modern": {"match": {"any": [
                {"attribute": "app.version", "op": "semver_gte", "values": ["2.1"]},
                {"attribute": "app.version", "op": "matches", "values": ["^v?3\\."]}
            ]}}
        },
        "flags": {
            "static": {"variants": {"on": true, "off": false}, "off": "off",
                       "environments": {"production": {"enabled": true, "default": {"variant": "on"}},
                                        "staging": {"enabled": false, "default": {"variant": "on"}}}},
            "split": {"variants": {"on": true, "off": false}, "off": "off",
                      "environments": {"production": {"enabled": true, "default": {"rollout": [
                          {"variant": "on", "weight": 37.5}, {"variant": "off", "weight": 62.5}]}}}},
            "experiment": {
                "variants": {"a": "a", "b": "b", "c": "c"}, "off": "a",
                "environments": {"production": {"enabled": true,
                    "targets": {"c": ["user-3", "user-4"]},
                    "rules": [
                        {"id": "staff", "segment": "staff", "serve": {"variant": "b"}},
                        {"id": "by-company",
                         "match": {"all": [{"segment": "enterprise"}, {"attribute": "seats", "op": "gte", "values": [10]}]},
                         "serve": {"rollout": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}],
                                   "bucket_by": "company.id", "salt": "exp-2026"}},
                        {"id": "canary", "segment": "canary", "serve": {"variant": "c"}}
                    ],
                    "default": {"rollout": [{"variant": "a", "weight": 33.334}, {"variant": "b", "weight": 33.333},
                                            {"variant": "c", "weight": 33.333}]}}}
            },
            "limits": {
                "variants": {"low": 1, "high": 100}, "off": "low",
                "environments": {"production": {"enabled": true,
                    "prerequisites": [{"flag": "experiment", "variants": ["b", "c"]}],
                    "rules": [
                        {"id": "modern", "segment": "modern", "serve": {"variant": "high"}},
                        {"id": "not-free", "match": {"none": [
                            {"attribute": "company.plan", "op": "in", "values": ["free"]}]},
                         "serve": {"rollout": [{"variant": "low", "weight": 10}, {"variant": "high", "weight": 90}],
                                   "bucket_by": "seats"}}
                    ],
                    "default": {"variant": "low"}}}
            },
            "dependent": {
                "variants": {"on": {"theme": "dark"}, "off": {"theme": "light"}}, "off": "off",
                "environments": {"production": {"enabled": true,
                    "prerequisites": [{"flag": "split", "variants": ["on"]}, {"flag": "limits", "variants": ["high"]}],
                    "rules": [{"id": "late", "match": {"all": [
                        {"attribute": "signed_up_at", "op": "after", "values": ["2025-01-01T00:00:00Z"]}]},
                        "serve": {"variant": "on"}}],
                    "default": {"rollout": [{"variant": "on", "weight": 0.001}, {"variant": "off", "weight": 99.999}],
                                "bucket_by": "email"}}}
            }
        }
    })
}

/// Contexts that reach every rule of [`rich_file`], with attributes sometimes
/// missing (including the targeting key) or of the wrong type.
fn context() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        3 => targeting_key().prop_map(Value::String),
        1 => prop::sample::select(vec!["user-1", "user-3", "user-9"]).prop_map(|k| json!(k)),
        1 => Just(Value::Null),
    ];
    let email = prop_oneof![
        Just(Value::Null),
        "[a-z]{1,8}@(example\\.com|customer\\.io)".prop_map(Value::String),
        any::<i32>().prop_map(|n| json!(n)),
    ];
    let plan = prop::sample::select(vec!["free", "pro", "enterprise"]);
    let company_id = prop::sample::select(vec!["acme", "globex", "initech"]);
    let version = prop_oneof![
        (0u8..5, 0u8..5, 0u8..5).prop_map(|(a, b, c)| json!(format!("{a}.{b}.{c}"))),
        (0u8..5, 0u8..5).prop_map(|(a, b)| json!(format!("v{a}.{b}"))),
        Just(json!("not-a-version")),
        Just(json!(3)),
    ];
    let seats = prop_oneof![(0i64..100).prop_map(|n| json!(n)), Just(json!("many")), Just(Value::Null)];
    let signed_up = prop_oneof![
        (2023u16..2027).prop_map(|y| json!(format!("{y}-06-01T12:00:00Z"))),
        (1_600_000_000i64..1_800_000_000).prop_map(|s| json!(s)),
        Just(Value::Null),
    ];
    (key, email, plan, company_id, version, seats, signed_up).prop_map(|(key, email, plan, id, version, seats, at)| {
        json!({"targetingKey": key, "email": email, "company": {"id": id, "plan": plan},
               "app": {"version": version}, "seats": seats, "signed_up_at": at})
    })
}

proptest! {
    #[test]
    fn same_input_same_output(contexts in prop::collection::vec(context(), 1..8)) {
        let file = rich_file();
        let first = loaded(&file);
        let second = loaded(&file);
        // As the sidecar compiles (`compile_owned_freeing`): the model
        // freed flag by flag as it is compiled.
        let model = burgee_rules::read(&serde_json::to_string(&file).unwrap()).unwrap();
        let diagnostics = burgee_rules::validate::validate(&model);
        let owned = burgee_rules::compile::compile_owned(model, diagnostics).unwrap();
        for json in contexts {
            let ctx = Context::from_json(json.clone()).unwrap();
            // As the sidecar reads a request body: its text, with the pull reader.
            let text = json.to_string();
            let mut jiter = jiter::Jiter::new(text.as_bytes());
            let again = read_context(&mut jiter, &mut Allowance::new(10_000, 64)).unwrap().unwrap().unwrap();
            prop_assert_eq!(&ctx, &again);
            for env in ENVIRONMENTS {
                let e1 = first.compiled.environment(env).unwrap();
                let e2 = second.compiled.environment(env).unwrap();
                let once: Vec<_> = first.compiled.evaluate_all(e1, &ctx).collect();
                let twice: Vec<_> = first.compiled.evaluate_all(e1, &ctx).collect();
                let copy: Vec<_> = second.compiled.evaluate_all(e2, &again).collect();
                prop_assert_eq!(&once, &twice);
                prop_assert_eq!(&once, &copy);
                let e3 = owned.environment(env).unwrap();
                let sidecars: Vec<_> = owned.evaluate_all(e3, &again).collect();
                prop_assert_eq!(&once, &sidecars);
                for (flag, result) in &once {
                    prop_assert_eq!(result, &first.compiled.evaluate(flag, e1, &ctx));
                }
            }
        }
    }
}

// --- (ii) Raising the first variant's weight only adds users ----------------

/// Two weights in thousandths of a percent, `low < high`, each at most `max`.
fn weight_pair(max: u32) -> impl Strategy<Value = (u32, u32)> {
    (0..max).prop_flat_map(move |low| (Just(low), low + 1..=max))
}

proptest! {
    #[test]
    fn raising_first_weight_only_adds_users(
        (low, high) in weight_pair(90_000),
        middle in 0u32..=10_000,
        keys in prop::collection::vec(targeting_key(), 1..200),
    ) {
        // first | middle (fixed) | last (gives up what first gains): both as
        // the default and as a rule's serve (behind a rule that never matches).
        let with = |first: u32| {
            let serve = rollout(&["first", "middle", "last"], &[first, middle, 100_000 - first - middle]);
            let env = json!({"enabled": true,
                "rules": [{"id": "nobody", "match": {"all": [{"attribute": "never", "op": "exists", "values": []}]},
                           "serve": {"variant": "middle"}},
                          {"id": "everyone", "serve": serve}],
                "default": {"variant": "middle"}});
            let mut flags = Map::new();
            flags.insert("as-default".into(),
                flag_in_production(json!({"first": 1, "middle": 2, "last": 3}), "last",
                    json!({"enabled": true, "default": serve})));
            flags.insert("in-rule".into(), flag_in_production(json!({"first": 1, "middle": 2, "last": 3}), "last", env));
            loaded(&file(json!({}), flags))
        };
        let (before, after) = (with(low), with(high));
        for flag in ["as-default", "in-rule"] {
            for key in &keys {
                let (was, is) = (variant_of(&before, flag, key), variant_of(&after, flag, key));
                if was == "first" {
                    prop_assert_eq!(is, "first", "`{}` left the first variant of {} ({} -> {})", key, flag, low, high);
                }
                if is == "last" {
                    prop_assert_eq!(was, "last", "`{}` joined the shrinking last variant of {}", key, flag);
                }
            }
        }
    }

    #[test]
    fn raising_a_percent_only_adds_users(
        (low, high) in weight_pair(100_000),
        keys in prop::collection::vec(targeting_key(), 1..200),
    ) {
        let with = |percent: u32| {
            let mut flags = Map::new();
            flags.insert("gate".into(), flag_in_production(json!({"on": true, "off": false}), "off", json!({
                "enabled": true,
                "rules": [{"id": "some", "segment": "some", "serve": {"variant": "on"}}],
                "default": {"variant": "off"}})));
            let segments = json!({"some": {"match": {"all": [
                {"attribute": "targetingKey", "op": "percent", "values": [weight(percent)]}]}}});
            loaded(&file(segments, flags))
        };
        let (before, after) = (with(low), with(high));
        for key in &keys {
            if variant_of(&before, "gate", key) == "on" {
                prop_assert_eq!(variant_of(&after, "gate", key), "on");
            }
        }
    }
}

// --- (iii) A bucket depends on nothing around it -----------------------------

/// A rule that matches no generated context: an absent attribute, a segment
/// no one is in, or a rollout by an attribute contexts lack.
fn non_matching_rule() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"match": {"all": [{"attribute": "plan", "op": "in", "values": ["enterprise"]}]},
                    "serve": {"variant": "a"}})),
        Just(json!({"segment": "nobody", "serve": {"variant": "b"}})),
        Just(json!({"match": {"any": [{"attribute": "targetingKey", "op": "percent", "values": [0]}]},
                    "serve": {"variant": "b"}})),
        Just(json!({"serve": {"rollout": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}],
                              "bucket_by": "company.id"}})),
    ]
}

/// An unrelated flag: any key but `subject`, with a rollout of its own.
fn unrelated_flag() -> impl Strategy<Value = (String, Value)> {
    ("[a-z][a-z0-9-]{0,15}", 0u32..=100_000).prop_filter("not the subject", |(k, _)| k != "subject").prop_map(
        |(key, on)| {
            let env = json!({"enabled": true, "default": rollout(&["on", "off"], &[on, 100_000 - on])});
            (key, flag_in_production(json!({"on": true, "off": false}), "off", env))
        },
    )
}

/// Two to five weights in thousandths of a percent adding up to 100 %.
fn split(max_variants: usize) -> impl Strategy<Value = Vec<u32>> {
    (2..=max_variants).prop_flat_map(|n| prop::collection::vec(0u32..=100_000, n - 1)).prop_map(|mut cuts| {
        cuts.sort_unstable();
        let mut last = 0;
        let mut weights: Vec<u32> = cuts
            .into_iter()
            .map(|cut| {
                let w = cut - last;
                last = cut;
                w
            })
            .collect();
        weights.push(100_000 - last);
        weights
    })
}

const VARIANTS: [&str; 5] = ["a", "b", "c", "d", "e"];

proptest! {
    #[test]
    fn bucket_ignores_other_flags_and_rules(
        weights in split(5),
        before_rules in prop::collection::vec(non_matching_rule(), 0..4),
        after_rules in prop::collection::vec(non_matching_rule(), 0..3),
        before_flags in prop::collection::vec(unrelated_flag(), 0..5),
        after_flags in prop::collection::vec(unrelated_flag(), 0..5),
        keys in prop::collection::vec(targeting_key(), 1..100),
    ) {
        let names = &VARIANTS[..weights.len()];
        let variants: Map<String, Value> = names.iter().map(|v| ((*v).to_owned(), json!(v))).collect();
        let segments = json!({"nobody": {"included": ["no-such-user"]}});
        let subject = |rules: Vec<Value>, extra: bool| {
            let rules: Vec<Value> = rules
                .into_iter()
                .enumerate()
                .map(|(i, mut r)| {
                    r["id"] = json!(format!("rule-{i}"));
                    r
                })
                .collect();
            let env = json!({"enabled": true, "rules": rules, "default": {"variant": "a"}});
            let mut flags = Map::new();
            if extra {
                flags.extend(before_flags.iter().cloned());
            }
            flags.insert("subject".into(), flag_in_production(json!(variants), "a", env));
            if extra {
                flags.extend(after_flags.iter().cloned());
            }
            loaded(&file(segments.clone(), flags))
        };
        let serve = json!({"serve": rollout(names, &weights)});
        let alone = subject(vec![serve.clone()], false);
        let mut rules = before_rules.clone();
        rules.push(serve);
        rules.extend(after_rules.iter().cloned());
        let surrounded = subject(rules, true);
        for key in &keys {
            prop_assert_eq!(variant_of(&alone, "subject", key), variant_of(&surrounded, "subject", key), "key `{}`", key);
        }
    }
}

// --- (iv) Observed shares match the weights -----------------------------------

/// SplitMix64: a small seeded PRNG for the 100,000 keys.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

const KEYS: usize = 100_000;

proptest! {
    // Each case evaluates 100,000 keys. The seed is fixed so that this
    // statistical test cannot flake: with a random seed, a share lands more
    // than 0.5 points off (3.2 standard deviations at 50 %) in roughly one
    // run in a hundred.
    #![proptest_config(ProptestConfig { cases: 8, rng_seed: RngSeed::Fixed(2026), ..ProptestConfig::default() })]
    #[test]
    fn shares_match_weights(weights in split(5), seed in any::<u64>()) {
        let names = &VARIANTS[..weights.len()];
        let variants: Map<String, Value> = names.iter().map(|v| ((*v).to_owned(), json!(v))).collect();
        let mut flags = Map::new();
        flags.insert(
            "split".into(),
            flag_in_production(json!(variants), "a", json!({"enabled": true, "default": rollout(names, &weights)})),
        );
        let loaded = loaded(&file(json!({}), flags));
        let env = loaded.compiled.environment("production").unwrap();
        let mut rng = SplitMix64(seed);
        let mut counts = [0usize; 5];
        for _ in 0..KEYS {
            let key = format!("{:x}-{:x}", rng.next(), rng.next() % 1000);
            let variant = loaded.compiled.evaluate("split", env, &Context::with_key(key)).unwrap().variant;
            counts[names.iter().position(|v| *v == variant).unwrap()] += 1;
        }
        for (i, name) in names.iter().enumerate() {
            let observed = counts[i] as f64 * 100.0 / KEYS as f64;
            let expected = f64::from(weights[i]) / 1000.0;
            prop_assert!(
                (observed - expected).abs() <= 0.5,
                "variant `{}`: {:.3} % observed, weight {:.3} % (weights {:?})", name, observed, expected, weights
            );
        }
    }
}
