// Shared by parse_validate_compile and mutated_valid (included with `mod`).

use burgee_rules::{Context, load, serialize, validate};

/// Bytes → text → parse + validate, and load; when load succeeds, the
/// canonical text must load again to an equal model (and be canonical), and
/// every flag evaluates without a panic, the same way twice, for a few
/// contexts (an accepted file must be safe to serve).
pub fn check_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };

    if let Ok(file) = burgee_rules::read(text) {
        let _ = validate::validate(&file);
    }

    let Ok(loaded) = load(text) else { return };
    let canonical = serialize::to_string(&loaded.file);
    let again = match load(&canonical) {
        Ok(again) => again,
        Err(rejected) => panic!(
            "the canonical text of an accepted file is rejected: {rejected}\n--- input ---\n{text}\n--- canonical ---\n{canonical}"
        ),
    };
    assert_eq!(
        again.file, loaded.file,
        "the canonical text loads to a different model\n--- canonical ---\n{canonical}"
    );
    assert!(
        serialize::is_canonical(&canonical, &again.file),
        "writing the canonical text again changes it\n--- canonical ---\n{canonical}"
    );
    evaluate_everything(&loaded);
}

/// A few contexts with every kind of value, for evaluating accepted files.
fn contexts() -> Vec<Context> {
    let rich = serde_json::json!({
        "targetingKey": "user-1", "email": "a@b.example", "plan": "pro", "seats": 12, "ratio": -0.5,
        "big": 1e308, "app_version": "1.2.3-beta.1", "signed_up": "2026-01-01T00:00:00Z",
        "tags": ["beta", 1, null, true], "company": {"plan": "enterprise", "id": "acme", "size": 5000},
        "country": "FR", "staff": true, "empty": "", "nothing": null
    });
    let odd = serde_json::json!({"targetingKey": "", "seats": "12", "app_version": 3, "signed_up": 1, "tags": "beta"});
    vec![
        Context::new(),
        Context::with_key("u"),
        Context::from_json(rich).expect("an object"),
        Context::from_json(odd).expect("an object"),
    ]
}

fn evaluate_everything(loaded: &burgee_rules::Loaded) {
    let file = &loaded.compiled;
    for context in contexts() {
        for env_key in file.environment_keys() {
            let env = file.environment(env_key).expect("a listed environment exists");
            for id in file.flag_ids() {
                let key = file.flag_key(id);
                let first = file.evaluate(key, env, &context);
                assert_eq!(first, file.evaluate_id(id, env, &context), "{key} in {env_key}: two evaluations differ");
                assert_eq!(
                    first,
                    file.explain(key, env, &context).0,
                    "{key} in {env_key}: evaluate and explain differ"
                );
            }
        }
        for segment in loaded.file.segments.iter().flat_map(|s| s.keys()) {
            assert!(
                file.in_segment(segment, &context).is_some(),
                "segment {segment} is missing from the compiled file"
            );
        }
    }
}
