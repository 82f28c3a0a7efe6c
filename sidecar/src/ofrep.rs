//! Evaluation results in the shape of the OpenFeature Remote Evaluation
//! Protocol: `{key, value, variant, reason, metadata}` on success,
//! `{key, errorCode, errorDetails}` on failure, and the bulk answer
//! `{"flags": [...]}`. One place, so `eval` prints exactly what the server
//! answers.
//!
//! Answers are written straight into bytes: the served value's JSON text
//! was made when the file was compiled ([`Evaluation::value_json`]), so an
//! answer copies it and escapes only the strings around it.

use burgee_rules::{EvalResult, Evaluation};
use serde_json::Value;

/// Append the OFREP object for one flag's result to `out`.
pub fn write_result(out: &mut Vec<u8>, key: &str, result: &EvalResult<'_>) {
    match result {
        Ok(e) => write_success(out, e),
        Err(err) => write_error(out, key, err.code(), &err.to_string()),
    }
}

/// Append `{key, value, variant, reason, metadata}`; metadata has `ruleId`,
/// `stage` and `failedPrerequisite` when they apply, in that order.
pub fn write_success(out: &mut Vec<u8>, e: &Evaluation<'_>) {
    out.extend_from_slice(b"{\"key\":");
    string(out, e.flag);
    out.extend_from_slice(b",\"value\":");
    out.extend_from_slice(e.value_json.as_bytes());
    out.extend_from_slice(b",\"variant\":");
    string(out, e.variant);
    out.extend_from_slice(b",\"reason\":\"");
    out.extend_from_slice(e.reason.as_str().as_bytes());
    out.extend_from_slice(b"\",\"metadata\":{");
    let mut first = true;
    for (name, value) in [("ruleId", e.rule_id), ("stage", e.stage), ("failedPrerequisite", e.failed_prerequisite)] {
        let Some(value) = value else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        string(out, value);
    }
    out.extend_from_slice(b"}}");
}

/// Append `{key, errorCode, errorDetails}`.
pub fn write_error(out: &mut Vec<u8>, key: &str, code: &str, details: &str) {
    out.extend_from_slice(b"{\"key\":");
    string(out, key);
    out.extend_from_slice(b",\"errorCode\":");
    string(out, code);
    out.extend_from_slice(b",\"errorDetails\":");
    string(out, details);
    out.push(b'}');
}

/// The bulk answer, `{"flags": [...]}`, from every flag's result in order.
pub fn write_all<'a>(out: &mut Vec<u8>, results: impl IntoIterator<Item = (&'a str, EvalResult<'a>)>) {
    out.extend_from_slice(b"{\"flags\":[");
    for (i, (key, result)) in results.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_result(out, key, &result);
    }
    out.extend_from_slice(b"]}");
}

/// The OFREP object for one flag's result, as JSON (for `eval`, which adds
/// a trace to it): what [`write_result`] writes, read back.
pub fn result_json(key: &str, result: &EvalResult<'_>) -> Value {
    let mut out = Vec::new();
    write_result(&mut out, key, result);
    written(&out)
}

/// `{key, errorCode, errorDetails}` as JSON.
pub fn error_json(key: &str, code: &str, details: &str) -> Value {
    let mut out = Vec::new();
    write_error(&mut out, key, code, details);
    written(&out)
}

/// A JSON string, escaped as `serde_json` escapes it. Flag, variant and
/// rule keys need no escaping (they are checked keys): they are copied.
fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// What the writers above wrote, as a value (they write only valid JSON).
fn written(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burgee_rules::{Context, load};
    use serde_json::json;

    #[test]
    fn answers_are_json_with_the_values_as_written() {
        let text = r#"{"version": 1, "environments": ["p"], "flags": {
          "ratio": {"stage": "beta", "variants": {"low": 1.0, "high": 2.50}, "off": "low",
            "environments": {"p": {"enabled": true, "default": {"variant": "low"}}}},
          "layout": {"variants": {"grid": {"label": "say \"hi\" é", "n": [1, 2.50]}, "list": {}}, "off": "list",
            "environments": {"p": {"enabled": true, "rules": [{"id": "x-set", "match":
              {"attribute": "x", "op": "exists", "values": []}, "serve": {"variant": "grid"}}], "default": {"variant": "list"}}}}}}"#;
        let file = load(text).unwrap().compiled;
        let env = file.first_environment();
        let mut out = Vec::new();
        write_result(&mut out, "ratio", &file.evaluate("ratio", env, &Context::new()));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"key":"ratio","value":1.0,"variant":"low","reason":"STATIC","metadata":{"stage":"beta"}}"#
        );
        let mut targeted = Context::new();
        targeted.set("x", json!(1));
        let result = file.evaluate("layout", env, &targeted);
        let mut answer = result_json("layout", &result);
        assert_eq!(answer["value"]["n"].to_string(), "[1,2.50]", "numbers as written");
        answer["value"]["n"] = json!(null);
        assert_eq!(
            answer,
            json!({"key": "layout", "value": {"label": "say \"hi\" é", "n": null}, "variant": "grid",
                   "reason": "TARGETING_MATCH", "metadata": {"ruleId": "x-set"}})
        );
        let mut all = Vec::new();
        let gone = "gone\"<x>";
        write_all(
            &mut all,
            file.evaluate_all(env, &Context::new()).chain([(gone, file.evaluate(gone, env, &Context::new()))]),
        );
        let all: Value = serde_json::from_slice(&all).unwrap();
        assert_eq!(all["flags"].as_array().unwrap().len(), 3);
        assert_eq!(
            all["flags"][2],
            json!({"key": gone, "errorCode": "FLAG_NOT_FOUND",
                                            "errorDetails": format!("flag `{gone}` is not in the flags file")})
        );
    }
}
