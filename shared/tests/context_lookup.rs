//! Property test of the context's lookups: a context read from a JSON value
//! or straight from its text (duplicate keys included) finds, for any
//! attribute path, exactly what walking the JSON tree finds (the contract's
//! "Attribute paths": nested objects first, then a top-level key spelled
//! with dots; null is absent).

#![allow(clippy::unwrap_used)]

use burgee_rules::Context;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys that make paths collide: nested, dotted, empty.
const KEYS: [&str; 6] = ["a", "b", "a.b", "", "targetingKey", "c.d"];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(Value::from),
        prop::sample::select(vec!["x", "y", ""]).prop_map(Value::from),
        prop::collection::vec((0i64..3).prop_map(Value::from), 0..3).prop_map(Value::Array),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..4)
            .prop_map(|members| Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..6)
        .prop_map(|members| members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The contract's lookup, over the JSON tree.
fn walk<'v>(attributes: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    let mut parts = path.split('.');
    let mut here = attributes.get(parts.next()?);
    for part in parts {
        here = here.and_then(Value::as_object).and_then(|o| o.get(part));
    }
    let found = match here {
        Some(v) => Some(v),
        None if path.contains('.') => attributes.get(path),
        None => None,
    };
    found.filter(|v| !v.is_null())
}

fn paths() -> Vec<String> {
    let mut paths: Vec<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
    for a in KEYS {
        for b in KEYS {
            paths.push(format!("{a}.{b}"));
            for c in ["a", "b", ""] {
                paths.push(format!("{a}.{b}.{c}"));
            }
        }
    }
    paths
}

proptest! {
    #[test]
    fn lookups_find_what_walking_the_tree_finds(attributes in object(), extra in object()) {
        // The text has every member of `attributes` and then of `extra`: a
        // key in both is there twice, and the later one is what JSON keeps.
        let members: Vec<String> = attributes.iter().chain(&extra)
            .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v)).collect();
        let text = format!("{{{}}}", members.join(","));
        let tree: Map<String, Value> = serde_json::from_str(&text).unwrap();
        let from_text = Context::from_json_slice(text.as_bytes());
        let from_value = Context::from_map(tree.clone());
        match (from_text, from_value) {
            (Ok(from_text), Ok(from_value)) => {
                for path in paths() {
                    let expected = walk(&tree, &path);
                    prop_assert_eq!(from_value.lookup(&path), expected, "{} in {}", path, text);
                    prop_assert_eq!(from_text.lookup(&path), expected, "{} in {} (from the text)", path, text);
                }
                prop_assert_eq!(from_value.attributes(), tree.clone());
                prop_assert_eq!(from_text.attributes(), tree);
            }
            (Err(_), Err(_)) => {} // a targetingKey that is not a string, both ways
            (a, b) => prop_assert!(false, "{:?} vs {:?} for {}", a.map(|_| ()), b.map(|_| ()), text),
        }
    }
}
