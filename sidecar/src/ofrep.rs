//! Evaluation results in the shape of the OpenFeature Remote Evaluation
//! Protocol: `{key, value, variant, reason, metadata}` on success,
//! `{key, errorCode, errorDetails}` on failure. One place, so `eval` prints
//! exactly what the server answers.

use burgee_rules::{EvalResult, Evaluation};
use serde_json::{Map, Value, json};

/// The OFREP object for one flag's result.
pub fn result_json(key: &str, result: &EvalResult<'_>) -> Value {
    match result {
        Ok(e) => success_json(e),
        Err(err) => error_json(key, err.code(), &err.to_string()),
    }
}

/// `{key, value, variant, reason, metadata}`; metadata has `ruleId`, `stage`
/// and `failedPrerequisite` when they apply.
pub fn success_json(e: &Evaluation<'_>) -> Value {
    let mut metadata = Map::new();
    if let Some(rule) = e.rule_id {
        metadata.insert("ruleId".into(), rule.into());
    }
    if let Some(stage) = e.stage {
        metadata.insert("stage".into(), stage.into());
    }
    if let Some(pre) = e.failed_prerequisite {
        metadata.insert("failedPrerequisite".into(), pre.into());
    }
    json!({
        "key": e.flag,
        "value": e.value,
        "variant": e.variant,
        "reason": e.reason.as_str(),
        "metadata": metadata,
    })
}

/// `{key, errorCode, errorDetails}`.
pub fn error_json(key: &str, code: &str, details: &str) -> Value {
    json!({"key": key, "errorCode": code, "errorDetails": details})
}
