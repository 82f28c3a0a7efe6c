//! The conformance runner: every case file in `tests/conformance/` (valid
//! files with contexts and expected results) and `tests/invalid/` (files that
//! must be rejected with exact errors), checked against the `burgee-rules`
//! engine *and* against the real `burgee-sidecar` binary (`check` and `eval`);
//! each case also against the slice of the file `compile_slice` compiles for
//! its flag alone (what the editor previews), and through the sidecar's
//! request handler called without a socket (`serve::routes::handle`: the
//! OFREP status, and the body `eval` prints).
//!
//! Case file format (conformance):
//! ```json
//! {"description": "...", "file": { a flags file },
//!  "warnings": [{"pointer": "...", "code": "..."}],            // optional: exact set
//!  "cases": [{"name": "...", "flag": "f", "environment": "e",   // environment optional
//!             "context": {...},
//!             "expect": {"variant": "on", "value": true, "reason": "SPLIT",
//!                        "rule_id": "r1", "failed_prerequisite": "p"}   // or {"error": "FLAG_NOT_FOUND"}
//!  }]}
//! ```
//! Invalid format: `{"description", "file": {...}` or `"text": "..."`,
//! `"errors": [{"pointer", "code"}]}`; the errors must be exactly these.

// A failed unwrap in a test is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use burgee_rules::{CompiledFile, Context, EnvId, EvalError, compile, load};
use serde_json::{Value, json};

mod support;
use support::Service;

/// `POST /ofrep/v1/evaluate/flags/{flag}` with this context (and
/// environment header) through the request handler: the status and the JSON body.
fn evaluate(service: &Service, flag: &str, environment: Option<&str>, context: &Value) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = environment.map(|e| ("x-burgee-environment", e)).into_iter().collect();
    let body = json!({"context": context}).to_string();
    let reply = service.post_with(&format!("/ofrep/v1/evaluate/flags/{flag}"), &headers, body.as_bytes());
    (reply.status, reply.json())
}

fn case_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files in {}", dir.display());
    files
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn sidecar() -> Command {
    Command::new(env!("CARGO_BIN_EXE_burgee-sidecar"))
}

/// What a case expects, in the shape `eval` prints (OFREP).
fn expected_ofrep(flag: &str, expect: &Value) -> Value {
    if let Some(code) = expect.get("error") {
        return json!({"key": flag, "errorCode": code});
    }
    let mut metadata = serde_json::Map::new();
    if let Some(rule) = expect.get("rule_id").filter(|v| !v.is_null()) {
        metadata.insert("ruleId".into(), rule.clone());
    }
    if let Some(p) = expect.get("failed_prerequisite").filter(|v| !v.is_null()) {
        metadata.insert("failedPrerequisite".into(), p.clone());
    }
    let mut out = json!({"key": flag, "variant": expect["variant"], "reason": expect["reason"], "metadata": metadata});
    if let Some(v) = expect.get("value") {
        out["value"] = v.clone();
    }
    out
}

/// One case's expectation against a compiled file.
fn check_engine(label: &str, compiled: &CompiledFile, flag: &str, env: EnvId, context: &Context, expect: &Value) {
    match compiled.evaluate(flag, env, context) {
        Ok(e) => {
            assert!(expect.get("error").is_none(), "{label}: expected an error, got {e:?}");
            assert_eq!(e.variant, expect["variant"].as_str().unwrap(), "{label}: variant");
            assert_eq!(e.reason.as_str(), expect["reason"].as_str().unwrap(), "{label}: reason");
            assert_eq!(e.rule_id, expect["rule_id"].as_str(), "{label}: rule id");
            assert_eq!(e.failed_prerequisite, expect["failed_prerequisite"].as_str(), "{label}: prerequisite");
            if let Some(v) = expect.get("value") {
                assert_eq!(e.value, v, "{label}: value");
            }
        }
        Err(err) => {
            let want = expect["error"].as_str().unwrap_or_else(|| panic!("{label}: unexpected {err:?}"));
            assert_eq!(err.code(), want, "{label}: error code");
            if let EvalError::FlagNotFound(k) = err {
                assert_eq!(k, flag);
            }
        }
    }
}

#[test]
fn conformance_cases_hold_in_the_engine_and_the_binary() {
    let mut checked = 0;
    for path in case_files("conformance") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let case_file = read_json(&path);
        let text = serde_json::to_string_pretty(&case_file["file"]).unwrap();
        let loaded = load(&text).unwrap_or_else(|e| panic!("{name}: file rejected: {:#?}", e.diagnostics));

        let want_warnings: BTreeSet<(String, String)> = case_file["warnings"]
            .as_array()
            .map(|ws| {
                ws.iter().map(|w| (w["pointer"].as_str().unwrap().into(), w["code"].as_str().unwrap().into())).collect()
            })
            .unwrap_or_default();
        if case_file.get("warnings").is_some() {
            let got: BTreeSet<(String, String)> =
                loaded.compiled.warnings().iter().map(|w| (w.pointer.clone(), w.code.as_str().to_string())).collect();
            assert_eq!(got, want_warnings, "{name}: warnings");
        }

        let dir = tempfile::tempdir().unwrap();
        let flags_path = dir.path().join("flags.json");
        std::fs::write(&flags_path, &text).unwrap();
        let out = sidecar().arg("check").arg(&flags_path).output().unwrap();
        assert!(out.status.success(), "{name}: check rejected it: {}", String::from_utf8_lossy(&out.stdout));

        let service = Service::serving(&flags_path, |_| {});
        let cases = case_file["cases"].as_array().unwrap_or_else(|| panic!("{name}: no cases"));
        assert!(!cases.is_empty(), "{name}: no cases");
        for case in cases {
            let label = format!("{name} / {}", case["name"].as_str().unwrap_or("?"));
            let flag = case["flag"].as_str().unwrap();
            let env_key = case["environment"].as_str();
            let env = match env_key {
                Some(e) => loaded.compiled.environment(e).unwrap_or_else(|| panic!("{label}: no env {e}")),
                None => loaded.compiled.first_environment(),
            };
            let context_json = case.get("context").cloned().unwrap_or(json!({}));
            let context = Context::from_json(context_json.clone()).unwrap();
            let expect = &case["expect"];

            // The engine, on the whole file and on the slice the editor's
            // preview compiles for this one flag.
            check_engine(&label, &loaded.compiled, flag, env, &context, expect);
            let slice = compile::compile_slice(&loaded.file, &[flag], loaded.compiled.warnings().to_vec()).unwrap();
            let slice_env = slice.environment(loaded.compiled.environment_key(env)).unwrap();
            check_engine(&format!("{label} (slice)"), &slice, flag, slice_env, &context, expect);

            // The binary.
            let mut cmd = sidecar();
            cmd.arg("eval").arg(&flags_path).args(["--flag", flag, "--context"]).arg(context_json.to_string());
            if let Some(e) = env_key {
                cmd.args(["--environment", e]);
            }
            let out = cmd.output().unwrap();
            let got: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!("{label}: eval printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr))
            });
            let mut want = expected_ofrep(flag, expect);
            let mut got_cmp = got.clone();
            if let Some(o) = got_cmp.as_object_mut() {
                o.remove("errorDetails");
                if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("stage");
                }
                if expect.get("value").is_none() {
                    o.remove("value");
                }
            }
            if want.get("errorCode").is_some() {
                assert!(!out.status.success(), "{label}: eval exit code on error");
                assert!(got["errorDetails"].as_str().is_some_and(|d| !d.is_empty()), "{label}: errorDetails");
            } else {
                assert!(out.status.success(), "{label}: eval exit code");
                assert!(got.get("value").is_some(), "{label}: value always present");
            }
            if let Some(o) = want.as_object_mut() {
                o.retain(|_, v| !v.is_null());
            }
            assert_eq!(got_cmp, want, "{label}: eval output");

            // The request handler answers exactly what `eval` prints, with the OFREP status.
            let (status, answer) = evaluate(&service, flag, env_key, &context_json);
            let want_status = match expect.get("error").and_then(Value::as_str) {
                None => 200,
                Some("FLAG_NOT_FOUND") => 404,
                Some(_) => 400,
            };
            assert_eq!((status, &answer), (want_status, &got), "{label}: the request handler");
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} cases: the conformance suite is meant to pin every behaviour");
}

#[test]
fn invalid_files_are_rejected_with_exactly_their_errors() {
    for path in case_files("invalid") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let case = read_json(&path);
        let text = match (&case.get("text"), &case.get("file")) {
            (Some(Value::String(t)), _) => t.clone(),
            (_, Some(file)) => serde_json::to_string_pretty(file).unwrap(),
            _ => panic!("{name}: needs `text` or `file`"),
        };
        let want: BTreeSet<(String, String)> = case["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: needs `errors`"))
            .iter()
            .map(|e| (e["pointer"].as_str().unwrap().into(), e["code"].as_str().unwrap().into()))
            .collect();
        assert!(!want.is_empty(), "{name}: an invalid case lists its errors");

        let rejected = load(&text).err().unwrap_or_else(|| panic!("{name}: was accepted"));
        let got: BTreeSet<(String, String)> =
            rejected.errors().map(|d| (d.pointer.clone(), d.code.as_str().to_string())).collect();
        assert_eq!(got, want, "{name}: errors (pointer, code); all: {:#?}", rejected.diagnostics);
        for d in rejected.errors() {
            assert!(d.message.len() > 10, "{name}: message says what is wrong: {d}");
        }

        let dir = tempfile::tempdir().unwrap();
        let flags_path = dir.path().join("bad.json");
        std::fs::write(&flags_path, &text).unwrap();
        let out = sidecar().args(["check", "--format", "json"]).arg(&flags_path).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: check exit code");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let got: BTreeSet<(String, String)> = report["files"][0]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["pointer"].as_str().unwrap().into(), e["code"].as_str().unwrap().into()))
            .collect();
        assert_eq!(got, want, "{name}: check --format json");
    }
}
