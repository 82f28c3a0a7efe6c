//! One flag of five rules, evaluated by burgee-rules and, for the same
//! meaning, by Unleash's engine (`unleash-yggdrasil`), over the same 1,000
//! contexts. The rules, first match wins:
//!
//! 1. email ends with `@example.com` → on
//! 2. plan in (enterprise, business) → on
//! 3. country in (DE, FR, NL) and app version > 2.0.0 (semver) → on
//! 4. orders > 10 → on
//! 5. EU countries: a 50/50 rollout by user id → on / off
//!
//! and off for everyone else. In Unleash: a toggle with five strategies
//! (`default` with constraints for 1–4, `flexibleRollout` at 50 % with a
//! constraint for 5). Before measuring, both engines are checked to agree
//! on every context that rules 1–4 or the default decide, and to put about
//! half of the rest in the rollout (they hash differently, so not the same
//! half).
//!
//!   bench/yggdrasil.sh      (or: cd bench/yggdrasil && cargo bench)

#![allow(clippy::unwrap_used)] // a panic fails the benchmark

use std::collections::HashMap;
use std::hint::black_box;

use burgee_rules::{Context, load};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use unleash_types::client_features::{ClientFeature, ClientFeatures, Constraint, Operator, Strategy};
use unleash_yggdrasil::EngineState;

const EU: [&str; 9] = ["AT", "BE", "DE", "ES", "FR", "IT", "NL", "PL", "SE"];
const COUNTRIES: [&str; 14] = ["US", "DE", "FR", "GB", "JP", "BR", "NL", "IN", "ES", "IT", "CA", "PL", "SE", "MX"];
const PLANS: [&str; 4] = ["free", "team", "business", "enterprise"];

/// One user, as both engines see it.
struct User {
    id: String,
    email: String,
    plan: &'static str,
    country: &'static str,
    version: String,
    orders: u32,
}

/// 1,000 users, deterministic: most are decided by the rollout or the
/// default, as in a real population (few staff, few big accounts).
fn users() -> Vec<User> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    (0..1000)
        .map(|i| User {
            id: format!("user-{i}"),
            email: if next(20) == 0 { format!("u{i}@example.com") } else { format!("u{i}@mail.example.net") },
            plan: if next(10) == 0 { PLANS[3 - next(2) as usize] } else { PLANS[next(2) as usize] },
            country: COUNTRIES[next(COUNTRIES.len() as u64) as usize],
            version: format!("{}.{}.{}", next(4), next(10), next(10)),
            orders: if next(8) == 0 { 11 + next(50) as u32 } else { next(11) as u32 },
        })
        .collect()
}

fn burgee_file() -> burgee_rules::CompiledFile {
    let text = json!({"version": 1, "environments": ["production"], "flags": {"checkout": {
        "variants": {"on": true, "off": false}, "off": "off",
        "environments": {"production": {"enabled": true, "rules": [
            {"id": "staff", "match": {"attribute": "email", "op": "ends_with", "values": ["@example.com"]},
             "serve": {"variant": "on"}},
            {"id": "big-accounts", "match": {"attribute": "plan", "op": "in", "values": ["enterprise", "business"]},
             "serve": {"variant": "on"}},
            {"id": "new-apps", "match": {"all": [
                {"attribute": "country", "op": "in", "values": ["DE", "FR", "NL"]},
                {"attribute": "version", "op": "semver_gt", "values": ["2.0.0"]}]},
             "serve": {"variant": "on"}},
            {"id": "loyal", "match": {"attribute": "orders", "op": "gt", "values": [10]}, "serve": {"variant": "on"}},
            {"id": "eu-half", "match": {"attribute": "country", "op": "in", "values": EU},
             "serve": {"rollout": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}],
          "default": {"variant": "off"}}}}}})
    .to_string();
    load(&text).unwrap().compiled
}

fn burgee_context(u: &User) -> Context {
    let mut c = Context::with_key(u.id.clone());
    c.set("email", json!(u.email))
        .set("plan", json!(u.plan))
        .set("country", json!(u.country))
        .set("version", json!(u.version))
        .set("orders", json!(u.orders));
    c
}

fn constraint(name: &str, operator: Operator, values: &[&str]) -> Constraint {
    let (values, value) = match operator {
        Operator::In | Operator::NotIn | Operator::StrEndsWith => (Some(values.iter().map(|v| v.to_string()).collect()), None),
        _ => (None, Some(values[0].to_string())),
    };
    Constraint { context_name: name.into(), operator, case_insensitive: false, inverted: false, values, value }
}

fn strategy(name: &str, constraints: Vec<Constraint>, parameters: Option<HashMap<String, String>>) -> Strategy {
    Strategy {
        name: name.into(),
        sort_order: None,
        segments: None,
        constraints: Some(constraints),
        parameters,
        variants: None,
    }
}

fn unleash_engine() -> EngineState {
    let rollout = HashMap::from([
        ("rollout".to_string(), "50".to_string()),
        ("stickiness".to_string(), "userId".to_string()),
        ("groupId".to_string(), "checkout".to_string()),
    ]);
    let strategies = vec![
        strategy("default", vec![constraint("email", Operator::StrEndsWith, &["@example.com"])], None),
        strategy("default", vec![constraint("plan", Operator::In, &["enterprise", "business"])], None),
        strategy(
            "default",
            vec![constraint("country", Operator::In, &["DE", "FR", "NL"]), constraint("version", Operator::SemverGt, &["2.0.0"])],
            None,
        ),
        strategy("default", vec![constraint("orders", Operator::NumGt, &["10"])], None),
        strategy("flexibleRollout", vec![constraint("country", Operator::In, &EU)], Some(rollout)),
    ];
    let engine = EngineState::default();
    let warnings = engine.apply_client_features(ClientFeatures {
        version: 2,
        features: vec![ClientFeature {
            name: "checkout".into(),
            enabled: true,
            strategies: Some(strategies),
            ..ClientFeature::default()
        }],
        segments: None,
        query: None,
        meta: None,
    });
    assert!(warnings.as_ref().is_none_or(|w| w.is_empty()), "{warnings:?}");
    engine
}

fn unleash_context(u: &User) -> unleash_types::client_features::Context {
    let properties = HashMap::from([
        ("email".to_string(), u.email.clone()),
        ("plan".to_string(), u.plan.to_string()),
        ("country".to_string(), u.country.to_string()),
        ("version".to_string(), u.version.clone()),
        ("orders".to_string(), u.orders.to_string()),
    ]);
    unleash_types::client_features::Context {
        user_id: Some(u.id.clone()),
        properties: Some(properties),
        ..Default::default()
    }
}

fn engines(c: &mut Criterion) {
    let users = users();
    let file = burgee_file();
    let env = file.first_environment();
    let flag = file.flag("checkout").unwrap();
    let burgee: Vec<Context> = users.iter().map(burgee_context).collect();
    let engine = unleash_engine();
    let unleash: Vec<_> = users.iter().map(unleash_context).collect();

    // The same meaning: equal answers wherever the rollout does not decide.
    let (mut split, mut burgee_on, mut unleash_on) = (0, 0, 0);
    for ((u, b), x) in users.iter().zip(&burgee).zip(&unleash) {
        let ours = file.evaluate_id(flag, env, b).unwrap();
        let theirs = engine.is_enabled("checkout", x, &None);
        if ours.rule_id == Some("eu-half") {
            split += 1;
            burgee_on += usize::from(ours.variant == "on");
            unleash_on += usize::from(theirs);
        } else {
            assert_eq!(ours.variant == "on", theirs, "{} {} {} {} {}", u.email, u.plan, u.country, u.version, u.orders);
        }
    }
    let half = |on: usize| (on as f64 / split as f64 - 0.5).abs() < 0.1;
    assert!(split > 100 && half(burgee_on) && half(unleash_on), "{split} {burgee_on} {unleash_on}");
    eprintln!("{split} of 1,000 users decided by the rollout: {burgee_on} on (Burgee), {unleash_on} on (Unleash)");

    // `YGGDRASIL_PASSES=N YGGDRASIL_ENGINE=burgee|unleash`: N passes over the
    // contexts and nothing else, for instruction counts under
    // `valgrind --tool=callgrind` (repeatable where wall time is not).
    if let (Ok(passes), Ok(which)) = (std::env::var("YGGDRASIL_PASSES"), std::env::var("YGGDRASIL_ENGINE")) {
        let mut on = 0usize;
        for _ in 0..passes.parse::<usize>().unwrap() {
            if which == "burgee" {
                on += burgee.iter().filter(|ctx| file.evaluate_id(flag, env, black_box(ctx)).unwrap().variant == "on").count();
            } else {
                on += unleash.iter().filter(|ctx| engine.is_enabled(black_box("checkout"), black_box(ctx), &None)).count();
            }
        }
        eprintln!("{which}: {on} on");
        std::process::exit(0);
    }

    let mut group = c.benchmark_group("five_rules_1000_contexts");
    group.bench_function("burgee-rules", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for ctx in &burgee {
                on += usize::from(file.evaluate_id(flag, env, black_box(ctx)).unwrap().variant == "on");
            }
            on
        })
    });
    group.bench_function("unleash-yggdrasil", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for ctx in &unleash {
                on += usize::from(engine.is_enabled(black_box("checkout"), black_box(ctx), &None));
            }
            on
        })
    });
    group.finish();
}

criterion_group!(benches, engines);
criterion_main!(benches);
