//! End-to-end tests of the `burgee-sidecar` one-shot commands (`check`,
//! `eval`, `fmt`, `schema`), run as the real binary on real files in a
//! temporary directory, checking what a user would look at: exit codes,
//! messages with places, the JSON printed, and the bytes on disk.

// A failed unwrap in a test is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burgee-sidecar")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const VALID: &str = r#"{"version": 1, "environments": ["dev", "prod"], "flags": {
  "rate-limit": {"variants": {"low": 1.0, "high": 2.5}, "off": "low",
    "environments": {"dev": {"enabled": true, "default": {"variant": "high"}},
                     "prod": {"enabled": true, "targets": {"high": ["vip"]}, "default": {"variant": "low"}}}},
  "banner": {"variants": {"a": "Hello", "b": "Hi"}, "off": "a",
    "environments": {"dev": {"enabled": false, "default": {"variant": "b"}},
                     "prod": {"enabled": true, "default": {"rollout": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}}}}
}}"#;

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        Dir { dir: tempfile::tempdir().unwrap() }
    }
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn check_accepts_the_example_and_the_contracts_example_shape() {
    let example = repo().join("examples/flags.json");
    let o = run(&["check", example.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains(": ok: "), "{}", stdout(&o));
    assert!(!stdout(&o).contains("warning["), "the example has no warnings: {}", stdout(&o));
}

#[test]
fn check_lists_every_error_with_its_place_and_exits_1() {
    let d = Dir::new();
    let bad = d.file(
        "bad.json",
        r#"{"version": 1, "environments": ["prod"], "flags": {
          "a": {"variants": {"on": true, "off": false}, "off": "of",
                "environments": {"prod": {"enabled": true, "default": {"rollout": [{"variant": "on", "weight": 60}, {"variant": "off", "weight": 30}]}}}},
          "b": {"variants": {"on": true, "off": false}, "off": "off",
                "environments": {"qa": {"enabled": true, "default": {"variant": "on"}}}}
        }}"#,
    );
    let good = d.file("good.json", VALID);
    let o = run(&["check", &good, &bad]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains(&format!("{good}: ok: 2 flags")), "{out}");
    assert!(
        out.contains(
            "error[unknown-variant] at /flags/a/off: variant `of` is not one of this flag's variants (`on`, `off`)"
        ),
        "{out}"
    );
    assert!(
        out.contains("error[weight-sum] at /flags/a/environments/prod/default/rollout: weights add up to 90, not 100"),
        "{out}"
    );
    assert!(out.contains("error[unknown-environment] at /flags/b/environments/qa"), "{out}");
    assert!(out.contains(&format!("{bad}: invalid: 3 errors")), "{out}");
}

#[test]
fn check_reports_syntax_errors_with_line_and_column() {
    let d = Dir::new();
    let bad = d.file("syntax.json", "{\n  \"version\": 1,\n  \"flags\": {\n    \"a\": {,}\n  }\n}\n");
    let o = run(&["check", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains(&format!("{bad}:4:11: error[syntax]: ")), "{}", stdout(&o));
}

#[test]
fn check_json_format_is_for_tools() {
    let d = Dir::new();
    let bad = d.file("bad.json", r#"{"version": 2, "environments": ["p"], "flags": {}}"#);
    let missing = d.path("missing.json").to_string_lossy().into_owned();
    let o = run(&["check", "--format", "json", &bad, &missing]);
    assert_eq!(o.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["valid"], json!(false));
    assert_eq!(
        report["files"][0]["errors"][0],
        json!({"severity": "error", "code": "unsupported-version", "pointer": "/version",
               "message": "version 2 is not supported: this is format version 1"})
    );
    assert_eq!(report["files"][1]["errors"][0]["code"], json!("unreadable"));
}

#[test]
fn check_deny_warnings_fails_on_warnings() {
    let d = Dir::new();
    let f = d.file(
        "w.json",
        r#"{"version": 1, "environments": ["p", "q"], "flags": {"a": {"variants": {"on": true}, "off": "on",
            "environments": {"p": {"enabled": true, "default": {"variant": "on"}}}}}}"#,
    );
    assert!(run(&["check", &f]).status.success());
    let o = run(&["check", "--deny-warnings", &f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("warning[missing-environment] at /flags/a/environments: no entry for environment `q`"));
}

#[test]
fn eval_prints_the_ofrep_result_keeping_floats() {
    let d = Dir::new();
    let f = d.file("f.json", VALID);
    let o = run(&[
        "eval",
        &f,
        "--flag",
        "rate-limit",
        "--environment",
        "prod",
        "--context",
        r#"{"targetingKey": "someone"}"#,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("\"value\": 1.0"), "1.0 stays 1.0: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v, json!({"key": "rate-limit", "value": 1.0, "variant": "low", "reason": "DEFAULT", "metadata": {}}));

    let o = run(&["eval", &f, "--flag", "rate-limit", "--context", "{}"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["reason"], json!("STATIC"), "first environment by default");
    assert_eq!(v["value"], json!(2.5));
}

#[test]
fn eval_all_and_errors() {
    let d = Dir::new();
    let f = d.file("f.json", VALID);
    let o = run(&["eval", &f, "--all", "-e", "dev"]);
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["flags"][1],
        json!({"key": "banner", "value": "Hello", "variant": "a", "reason": "DISABLED", "metadata": {}})
    );

    let o = run(&["eval", &f, "--all", "-e", "prod"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["flags"][1]["errorCode"], json!("TARGETING_KEY_MISSING"), "errors inline in bulk");

    let o = run(&["eval", &f, "--flag", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["errorCode"], json!("FLAG_NOT_FOUND"));

    let o = run(&["eval", &f, "--flag", "banner", "-e", "qa"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("environment `qa` is not in the file (it has: dev, prod)"), "{}", stderr(&o));

    let o = run(&["eval", &f, "--flag", "banner", "--context", r#"{"targetingKey": 7}"#]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["errorCode"], json!("INVALID_CONTEXT"));
}

#[test]
fn eval_explain_gives_the_trace() {
    let d = Dir::new();
    let f = d.file("f.json", VALID);
    let o = run(&["eval", &f, "--flag", "rate-limit", "-e", "prod", "--explain", "-c", r#"{"targetingKey": "x"}"#]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["trace"],
        json!(["the targeting key is not an individual target", "no rule matched: the default serves"])
    );
}

const MESSY: &str = r#"{"flags": {"b": {"off": "x", "variants": {"x": 1.50, "y": 2}, "environments": {"p": {"default": {"variant": "x"}, "enabled": true}}}}, "environments": ["p"], "version": 1}"#;

#[test]
fn fmt_rewrites_in_canonical_form_by_atomic_rename() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let d = Dir::new();
    let f = d.file("flags.json", MESSY);
    fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
    let inode_before = fs::metadata(&f).unwrap().ino();

    let o = run(&["fmt", "--check", &f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("not in canonical form"));
    assert_eq!(fs::read_to_string(&f).unwrap(), MESSY, "--check changes nothing");

    let o = run(&["fmt", &f]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&f).unwrap();
    assert!(text.starts_with("{\n  \"version\": 1,\n  \"environments\": [\n    \"p\"\n  ],\n  \"flags\": {\n    \"b\": {\n      \"variants\": {\n        \"x\": 1.50,\n        \"y\": 2\n      },\n      \"off\": \"x\","), "{text}");
    assert_ne!(fs::metadata(&f).unwrap().ino(), inode_before, "replaced by rename, not rewritten in place");
    assert_eq!(fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o640, "permissions kept");
    let leftovers: Vec<_> = fs::read_dir(d.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");

    assert!(run(&["fmt", "--check", &f]).status.success());
    assert!(run(&["fmt", &f]).status.success());
    assert_eq!(fs::read_to_string(&f).unwrap(), text, "formatting is idempotent");
}

#[test]
fn fmt_follows_a_symlink_and_refuses_invalid_files() {
    let d = Dir::new();
    let target = d.file("real.json", MESSY);
    let link = d.path("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(run(&["fmt", link.to_str().unwrap()]).status.success());
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    assert!(fs::read_to_string(&target).unwrap().starts_with("{\n  \"version\": 1,"));

    let bad_text =
        r#"{"version": 1, "environments": ["p"], "flags": {"a": {"variants": {}, "off": "x", "environments": {}}}}"#;
    let bad = d.file("bad.json", bad_text);
    let o = run(&["fmt", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[unknown-variant] at /flags/a/off"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&bad).unwrap(), bad_text, "an invalid file is left as it was");
}

#[test]
fn example_is_canonical_so_load_then_save_is_byte_identical() {
    let example = repo().join("examples/flags.json");
    let o = run(&["fmt", "--check", example.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let o = run(&["schema"]);
    assert!(o.status.success());
    let committed = fs::read_to_string(repo().join("schema/flags-file.schema.json")).unwrap();
    assert_eq!(
        stdout(&o),
        committed,
        "schema/flags-file.schema.json is stale: run `cargo run -p burgee-sidecar -- schema > schema/flags-file.schema.json`"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(schema["$schema"], json!("http://json-schema.org/draft-07/schema#"));
}

#[test]
fn the_kubernetes_example_ships_a_valid_flags_file_where_the_sidecar_reads_it() {
    let configmap = fs::read_to_string(repo().join("examples/kubernetes/flags-configmap.yaml")).unwrap();
    let embedded: String = configmap
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flags.json: |"))
        .skip(1)
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let d = Dir::new();
    let f = d.file("flags.json", &embedded);
    let o = run(&["check", "--deny-warnings", &f]);
    assert!(o.status.success(), "{}", stdout(&o));

    let deployment = fs::read_to_string(repo().join("examples/kubernetes/deployment.yaml")).unwrap();
    assert!(deployment.contains("--file=/etc/burgee/flags.json"));
    assert!(deployment.contains("mountPath: /etc/burgee"));
    assert!(deployment.contains("name: burgee-flags"), "the deployment mounts the ConfigMap");
    assert!(configmap.contains("name: burgee-flags"));
    // The kubelet probes the pod's IP from the node: the probes go to the
    // health listener, never to a `host:` (which would be the node's own).
    assert!(deployment.contains("--health-listen=0.0.0.0:8014"));
    let probes: Vec<&str> = deployment.lines().filter(|l| l.contains("httpGet")).collect();
    assert_eq!(probes.len(), 3, "{probes:?}");
    for probe in probes {
        assert!(probe.contains("port: health") && !probe.contains("host:"), "{probe}");
    }
}
