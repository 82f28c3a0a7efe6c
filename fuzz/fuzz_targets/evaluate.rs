//! The example file, compiled once; arbitrary bytes → JSON → `Context` →
//! every flag in every environment, with `evaluate`, `explain` and
//! `evaluate_all`. Never panics; the same context gives the same answer
//! every time, and all three ways agree.
#![no_main]

use std::sync::OnceLock;

use burgee_rules::{Context, Loaded, load};
use serde_json::Value;

static EXAMPLE: &str = include_str!("../../examples/flags.json");

fn example() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| load(EXAMPLE).expect("examples/flags.json loads"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let loaded = example();
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    let Ok(context) = Context::from_json(value) else { return };
    let file = &loaded.compiled;
    for env_key in file.environment_keys() {
        let env = file.environment(env_key).expect("a listed environment exists");
        let all: Vec<_> = file.evaluate_all(env, &context).collect();
        assert_eq!(all.len(), file.flag_count());
        for (flag, from_all) in all {
            let first = file.evaluate(flag, env, &context);
            let second = file.evaluate(flag, env, &context);
            assert_eq!(first, second, "{flag} in {env_key}: two evaluations differ");
            assert_eq!(first, from_all, "{flag} in {env_key}: evaluate and evaluate_all differ");
            let (explained, steps) = file.explain(flag, env, &context);
            assert_eq!(first, explained, "{flag} in {env_key}: evaluate and explain differ ({steps:?})");
        }
        // An unknown flag is an error, not a panic.
        assert!(file.evaluate("no-such-flag-in-the-example", env, &context).is_err());
    }
    for segment in loaded.file.segments.iter().flat_map(|s| s.keys()) {
        assert_eq!(file.in_segment(segment, &context), file.in_segment(segment, &context));
    }
});
