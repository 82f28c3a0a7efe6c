//! End-to-end tests of `burgee-sidecar serve`: the real binary on a real
//! file in a temporary directory, on its own loopback port, checked the way a
//! user would check it: status codes, JSON bodies, headers, hot reload as seen
//! over HTTP, the events stream, start-up failures and shutdown.
//!
//! Every test starts its own server (`--listen 127.0.0.1:0`, the port read
//! from the one line it prints) in its own directory, so tests run in
//! parallel. Every wait is bounded ([`WAIT`]) and polls; nothing asserts on
//! timing.
//!
//! Starting and stopping the server, the HTTP agent and the bounded waits
//! are `support.rs`'s, shared with `bad_input.rs` and `soak.rs`.

// A failed unwrap in a test is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod support;
use support::{Reply, Server, agent, exchange, poll_until, serve_command, serve_command_on};

/// The longest any condition is waited for.
const WAIT: Duration = Duration::from_secs(5);

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(15);

/// Poll `check` until it gives a value; fail the test after [`WAIT`].
fn wait_until<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    poll_until(what, WAIT, POLL, check)
}

// ---------------------------------------------------------------------------
// Flags files

/// Two environments; floats, a disabled flag, a default rollout, a segment
/// rule with a stage, and a flag whose string value is `MESSAGE` (replaced
/// per version, so a reload shows in its value).
const BASE: &str = r#"{"version": 1, "environments": ["dev", "prod"],
 "segments": {"acme": {"match": {"all": [{"attribute": "company.id", "op": "in", "values": ["acme"]}]}}},
 "flags": {
  "rate": {"variants": {"low": 1.0, "high": 2.5}, "off": "low",
    "environments": {"dev": {"enabled": true, "default": {"variant": "low"}},
                     "prod": {"enabled": true, "default": {"variant": "high"}}}},
  "banner": {"variants": {"on": true, "off": false}, "off": "off",
    "environments": {"dev": {"enabled": false, "default": {"variant": "on"}},
                     "prod": {"enabled": true, "default": {"variant": "on"}}}},
  "split": {"variants": {"a": "A", "b": "B"}, "off": "a",
    "environments": {"dev": {"enabled": true, "default": {"rollout": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}},
                     "prod": {"enabled": true, "default": {"variant": "b"}}}},
  "acme-only": {"stage": "beta", "variants": {"on": true, "off": false}, "off": "off",
    "environments": {"dev": {"enabled": true, "rules": [{"id": "acme", "segment": "acme", "serve": {"variant": "on"}}], "default": {"variant": "off"}},
                     "prod": {"enabled": true, "rules": [{"id": "acme", "segment": "acme", "serve": {"variant": "on"}}], "default": {"variant": "off"}}}},
  "message": {"variants": {"current": "MESSAGE", "other": "-"}, "off": "other",
    "environments": {"dev": {"enabled": true, "default": {"variant": "current"}},
                     "prod": {"enabled": true, "default": {"variant": "current"}}}}
 }}"#;

/// [`BASE`] with the `message` flag serving `message`.
fn flags(message: &str) -> String {
    BASE.replace("MESSAGE", message)
}

/// A file with two load errors (and nothing else wrong), at these pointers.
const BROKEN: &str = r#"{"version": 1, "environments": ["dev", "prod"], "flags": {
  "a": {"variants": {"on": true, "off": false}, "off": "of",
    "environments": {"dev": {"enabled": true, "default": {"variant": "on"}},
                     "prod": {"enabled": true, "default": {"variant": "on"}}}},
  "b": {"variants": {"on": true, "off": false}, "off": "off",
    "environments": {"dev": {"enabled": true, "default": {"rollout": [{"variant": "on", "weight": 60}, {"variant": "off", "weight": 30}]}},
                     "prod": {"enabled": true, "default": {"variant": "on"}}}}
}}"#;
const BROKEN_POINTERS: [&str; 2] = ["/flags/a/off", "/flags/b/environments/dev/default/rollout"];

/// A temporary directory holding the flags file.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        Dir { dir: tempfile::tempdir().unwrap() }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// Write `name` directly (for the first version, before a server runs).
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, text).unwrap();
        p
    }
}

/// Replace `path` the way editors and `burgee-sidecar fmt` do: write a
/// temporary file in the same directory, then rename it over.
fn write_by_rename(path: &Path, text: &str) {
    let tmp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap().to_string_lossy()));
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// Rewrite `path` in place: truncate, then write.
fn write_in_place(path: &Path, text: &str) {
    let mut f = fs::OpenOptions::new().write(true).truncate(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
}

// ---------------------------------------------------------------------------
// The server under test

/// A running `burgee-sidecar serve` (stopped on drop), and an agent to ask it.
struct Sidecar {
    server: Server,
    agent: ureq::Agent,
}

impl Sidecar {
    /// Start serving `file` and wait until `/readyz` answers 200.
    fn start(file: &Path, args: &[&str]) -> Sidecar {
        let s = Sidecar::start_unready(file, args);
        let token = args.iter().position(|a| *a == "--token").map(|i| args[i + 1]);
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        wait_until("/readyz to answer 200", || (s.get_with("/readyz", &headers).status == 200).then_some(()));
        s
    }

    /// Start serving `file`, waiting only for the line with the port.
    fn start_unready(file: &Path, args: &[&str]) -> Sidecar {
        Sidecar { server: Server::spawn(serve_command(file, args), WAIT), agent: agent() }
    }

    fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.agent.get(self.server.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Reply::from(req.call())
    }

    fn post(&self, path: &str, body: &str) -> Reply {
        self.post_with(path, &[], body)
    }

    fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut req = self.agent.post(self.server.url(path)).header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Reply::from(req.send(body))
    }

    /// OFREP single evaluation with this context.
    fn eval(&self, key: &str, context: &Value) -> Reply {
        self.post(&format!("/ofrep/v1/evaluate/flags/{key}"), &json!({ "context": context }).to_string())
    }

    /// OFREP bulk evaluation with this context.
    fn bulk(&self, context: &Value) -> Reply {
        self.post("/ofrep/v1/evaluate/flags", &json!({ "context": context }).to_string())
    }

    /// The value served for `key` to user `u1`; the answer must be a 200.
    fn value(&self, key: &str) -> Value {
        let r = self.eval(key, &json!({"targetingKey": "u1"}));
        assert_eq!(r.status, 200, "{key}: {}", r.text);
        r.json()["value"].clone()
    }

    /// Wait until `key` is served with `value`.
    fn wait_for_value(&self, key: &str, value: &Value) {
        wait_until(&format!("`{key}` to be served as {value}"), || {
            let r = self.eval(key, &json!({"targetingKey": "u1"}));
            (r.status == 200 && r.json()["value"] == *value).then_some(())
        });
    }

    fn status(&self) -> Value {
        let r = self.get("/v1/status");
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    fn metrics(&self) -> String {
        let r = self.get("/metrics");
        assert_eq!(r.status, 200, "{}", r.text);
        r.text
    }
}

/// Send `request` on a new connection (it should say `Connection: close`)
/// and read the whole answer.
fn raw(addr: &str, request: &[u8]) -> String {
    exchange(addr, request, WAIT).unwrap().0
}

/// A `/v1/events` subscription.
struct Events {
    lines: BufReader<ureq::BodyReader<'static>>,
}

impl Events {
    /// Subscribe; once this returns, every later event is received.
    fn open(s: &Sidecar) -> Events {
        let r = s.agent.get(s.server.url("/v1/events")).call().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let content_type = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(content_type.as_deref(), Some("text/event-stream"));
        Events { lines: BufReader::new(r.into_body().into_reader()) }
    }

    /// The next event (name and JSON data), skipping comments and `retry`;
    /// `None` when the stream ends. Reads are bounded by the agent's timeout.
    fn next(&mut self) -> Option<(String, Value)> {
        let (mut name, mut data) = (None, String::new());
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).unwrap() == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if let Some(name) = name.take() {
                    return Some((name, serde_json::from_str(&data).unwrap()));
                }
                data.clear();
            } else if let Some(n) = line.strip_prefix("event:") {
                name = Some(n.trim().to_owned());
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
    }
}

/// The set of `pointer`s in a list of diagnostics.
fn pointers(errors: &Value) -> BTreeSet<String> {
    errors.as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect()
}

fn expected_pointers() -> BTreeSet<String> {
    BROKEN_POINTERS.iter().map(|p| (*p).to_owned()).collect()
}

/// The value of the metric line that starts with `series` (`name{labels}`).
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

// ---------------------------------------------------------------------------
// OFREP

#[test]
fn ofrep_single_flag_results_and_every_error_code() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);
    let ctx = json!({"targetingKey": "u1", "company": {"id": "acme"}});

    let r = s.eval("rate", &ctx);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.text.contains(r#""value":1.0"#), "1.0 in the file stays 1.0 on the wire: {}", r.text);
    assert_eq!(r.json(), json!({"key": "rate", "value": 1.0, "variant": "low", "reason": "STATIC", "metadata": {}}));

    let r = s.eval("acme-only", &ctx);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"key": "acme-only", "value": true, "variant": "on", "reason": "TARGETING_MATCH",
               "metadata": {"ruleId": "acme", "stage": "beta"}})
    );

    let r = s.eval("split", &json!({"targetingKey": "u1"}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["reason"], json!("SPLIT"));
    assert!(["A", "B"].contains(&r.json()["value"].as_str().unwrap()), "{}", r.text);

    // A disabled flag serves its off variant, value and variant present.
    let r = s.eval("banner", &ctx);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"key": "banner", "value": false, "variant": "off", "reason": "DISABLED", "metadata": {}})
    );

    let r = s.eval("nope", &ctx);
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(v["key"], json!("nope"));
    assert_eq!(v["errorCode"], json!("FLAG_NOT_FOUND"));
    assert!(v["errorDetails"].is_string(), "{v}");
    assert!(v.get("value").is_none(), "{v}");

    let errors = [
        ("not json", "PARSE_ERROR"),
        ("{\"context\": ", "PARSE_ERROR"),
        ("[1, 2]", "INVALID_CONTEXT"),
        ("\"text\"", "INVALID_CONTEXT"),
        (r#"{"context": 3}"#, "INVALID_CONTEXT"),
        (r#"{"context": ["u1"]}"#, "INVALID_CONTEXT"),
        (r#"{"context": {"targetingKey": 3}}"#, "INVALID_CONTEXT"),
        (r#"{"context": {"targetingKey": {"id": "u1"}}}"#, "INVALID_CONTEXT"),
        (r#"{"context": {"plan": "pro"}}"#, "TARGETING_KEY_MISSING"),
    ];
    for (body, code) in errors {
        let r = s.post("/ofrep/v1/evaluate/flags/split", body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        let v = r.json();
        assert_eq!(v["key"], json!("split"), "{body}: {v}");
        assert_eq!(v["errorCode"], json!(code), "{body}: {v}");
        assert!(v["errorDetails"].as_str().is_some_and(|d| !d.is_empty()), "{body}: {v}");
    }
}

#[test]
fn a_missing_or_empty_body_is_an_empty_context() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);
    let rate = json!({"key": "rate", "value": 1.0, "variant": "low", "reason": "STATIC", "metadata": {}});

    // No body at all: no Content-Length, no Transfer-Encoding.
    let text = raw(
        &s.server.addr,
        b"POST /ofrep/v1/evaluate/flags/rate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body, rate);

    for body in ["", "  \n", "{}", r#"{"context": {}}"#, r#"{"context": null}"#] {
        let r = s.post("/ofrep/v1/evaluate/flags/rate", body);
        assert_eq!((r.status, r.json()), (200, rate.clone()), "body {body:?}");
    }
    let r = Reply::from(s.agent.post(s.server.url("/ofrep/v1/evaluate/flags/rate")).send_empty());
    assert_eq!((r.status, r.json()), (200, rate.clone()));

    // An empty context has no targeting key: a default rollout cannot bucket.
    let r = s.post("/ofrep/v1/evaluate/flags/split", "");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], json!("TARGETING_KEY_MISSING"));

    let r = s.post("/ofrep/v1/evaluate/flags", "");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["flags"].as_array().unwrap().len(), 5);
}

#[test]
fn bulk_evaluates_every_flag_with_errors_inline() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);

    let r = s.bulk(&json!({"company": {"id": "acme"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("etag").is_some_and(|t| t.len() > 2), "an ETag: {:?}", r.headers);
    assert!(r.text.contains(r#""value":1.0"#), "1.0 stays 1.0: {}", r.text);
    assert_eq!(
        r.json(),
        json!({"flags": [
            {"key": "rate", "value": 1.0, "variant": "low", "reason": "STATIC", "metadata": {}},
            {"key": "banner", "value": false, "variant": "off", "reason": "DISABLED", "metadata": {}},
            {"key": "split", "errorCode": "TARGETING_KEY_MISSING",
             "errorDetails": r.json()["flags"][2]["errorDetails"].clone()},
            {"key": "acme-only", "value": true, "variant": "on", "reason": "TARGETING_MATCH",
             "metadata": {"ruleId": "acme", "stage": "beta"}},
            {"key": "message", "value": "hello", "variant": "current", "reason": "STATIC", "metadata": {}}
        ]})
    );
    assert!(r.json()["flags"][2]["errorDetails"].as_str().is_some_and(|d| !d.is_empty()), "{}", r.text);

    // Body errors are the request's, not a flag's.
    let r = s.post("/ofrep/v1/evaluate/flags", "{");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], json!("PARSE_ERROR"));
    let r = s.post("/ofrep/v1/evaluate/flags", r#"{"context": "u1"}"#);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], json!("INVALID_CONTEXT"));
}

#[test]
fn bulk_etag_follows_context_environment_and_file_and_if_none_match_gives_304() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("one"));
    let s = Sidecar::start(&file, &[]);
    let u1 = json!({"targetingKey": "u1"});
    let body = json!({ "context": u1 }).to_string();

    let first = s.bulk(&u1);
    let tag = first.header("etag").unwrap().to_owned();
    assert_eq!(s.bulk(&u1).header("etag"), Some(tag.as_str()), "same file and context: same tag");

    let r = s.post_with("/ofrep/v1/evaluate/flags", &[("If-None-Match", &tag)], &body);
    assert_eq!(r.status, 304);
    assert_eq!(r.text, "", "a 304 has no body");
    assert_eq!(r.header("etag"), Some(tag.as_str()));

    let other = s.bulk(&json!({"targetingKey": "u2"}));
    assert_eq!(other.status, 200);
    assert_ne!(other.header("etag"), Some(tag.as_str()), "another context: another tag");
    let r =
        s.post_with("/ofrep/v1/evaluate/flags", &[("If-None-Match", &tag)], r#"{"context": {"targetingKey": "u2"}}"#);
    assert_eq!(r.status, 200, "a stale tag gets the full answer");
    assert!(!r.text.is_empty());

    let prod = s.post_with("/ofrep/v1/evaluate/flags", &[("X-Burgee-Environment", "prod")], &body);
    assert_eq!(prod.status, 200);
    assert_ne!(prod.header("etag"), Some(tag.as_str()), "another environment: another tag");

    write_by_rename(&file, &flags("two"));
    s.wait_for_value("message", &json!("two"));
    let changed = s.bulk(&u1);
    assert_ne!(changed.header("etag"), Some(tag.as_str()), "another file version: another tag");
    let r = s.post_with("/ofrep/v1/evaluate/flags", &[("If-None-Match", &tag)], &body);
    assert_eq!(r.status, 200, "the old tag no longer matches");
    assert_eq!(r.json()["flags"][4]["value"], json!("two"));
    let new_tag = changed.header("etag").unwrap();
    let r = s.post_with("/ofrep/v1/evaluate/flags", &[("If-None-Match", new_tag)], &body);
    assert_eq!(r.status, 304);
    assert_eq!(r.text, "");
}

#[test]
fn environment_header_selects_an_environment_and_unknown_is_400() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("hello"));
    let s = Sidecar::start(&file, &[]);
    let body = r#"{"context": {"targetingKey": "u1"}}"#;

    // The file's first environment by default.
    assert_eq!(s.value("rate"), json!(1.0));
    assert_eq!(s.value("banner"), json!(false));
    let r = s.post_with("/ofrep/v1/evaluate/flags/rate", &[("X-Burgee-Environment", "prod")], body);
    assert_eq!(r.json(), json!({"key": "rate", "value": 2.5, "variant": "high", "reason": "STATIC", "metadata": {}}));
    let r = s.post_with("/ofrep/v1/evaluate/flags/banner", &[("X-Burgee-Environment", "prod")], body);
    assert_eq!(r.json()["reason"], json!("STATIC"));
    let r = s.get_with("/v1/flags/rate", &[("X-Burgee-Environment", "prod")]);
    assert_eq!(r.json()["value"], json!(2.5));

    for path in ["/ofrep/v1/evaluate/flags/rate", "/ofrep/v1/evaluate/flags"] {
        let r = s.post_with(path, &[("X-Burgee-Environment", "qa")], body);
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.json()["errorCode"], json!("GENERAL"), "{path}");
        assert!(r.json()["errorDetails"].as_str().unwrap().contains("qa"), "{path}: {}", r.text);
    }
    let r = s.get_with("/v1/flags/rate", &[("X-Burgee-Environment", "qa")]);
    assert_eq!(r.status, 400);

    // --environment sets the default; the header still overrides it.
    let p = Sidecar::start(&file, &["--environment", "prod"]);
    assert_eq!(p.value("rate"), json!(2.5));
    let r = p.post_with("/ofrep/v1/evaluate/flags/rate", &[("X-Burgee-Environment", "dev")], body);
    assert_eq!(r.json()["value"], json!(1.0));
    assert_eq!(p.status()["environment"], json!("prod"));
}

#[test]
fn plain_get_endpoints_read_the_context_from_the_query() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);

    let r = s.get("/v1/flags/acme-only?targetingKey=u1&company.id=acme");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"key": "acme-only", "value": true, "variant": "on", "reason": "TARGETING_MATCH",
               "metadata": {"ruleId": "acme", "stage": "beta"}})
    );
    let r = s.get("/v1/flags/acme-only?targetingKey=u1&company.id=globex");
    assert_eq!(r.json()["value"], json!(false));
    assert_eq!(r.json()["reason"], json!("DEFAULT"));

    let r = s.get("/v1/flags/nope?targetingKey=u1");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errorCode"], json!("FLAG_NOT_FOUND"));
    let r = s.get("/v1/flags/split");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], json!("TARGETING_KEY_MISSING"));

    // The same results as OFREP bulk for the same context.
    let r = s.get("/v1/flags?targetingKey=u1&company.id=acme");
    assert_eq!(r.status, 200);
    let ofrep = s.bulk(&json!({"targetingKey": "u1", "company.id": "acme"}));
    assert_eq!(r.json(), ofrep.json());
    assert_eq!(r.json()["flags"][3]["value"], json!(true));
    assert!(r.text.contains(r#""value":1.0"#), "{}", r.text);
}

// ---------------------------------------------------------------------------
// Operations

#[test]
fn healthz_readyz_and_status() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("hello"));
    let s = Sidecar::start(&file, &[]);

    let r = s.get("/healthz");
    assert_eq!(r.status, 200);

    let r = s.get("/readyz");
    assert_eq!(r.status, 200);
    let ready = r.json();
    assert_eq!(ready["status"], json!("ready"), "{ready}");

    let status = s.status();
    assert_eq!(status["file"], json!(file.to_string_lossy()), "{status}");
    assert_eq!(status["environment"], json!("dev"));
    assert_eq!(status["flags"], json!(5));
    assert_eq!(status["segments"], json!(1));
    assert_eq!(status["lastReloadError"], Value::Null);
    let version = status["version"].as_str().unwrap().to_owned();
    assert!(!version.is_empty());
    assert_eq!(ready["version"], json!(version), "/readyz and /v1/status agree");
    let loaded = status["loadedAt"].as_str().unwrap();
    assert!(loaded.len() >= 20 && loaded.as_bytes()[10] == b'T', "RFC 3339: {loaded}");

    // The version is the content's hash: new content, new version; the old
    // content again, the old version.
    write_by_rename(&file, &flags("other"));
    s.wait_for_value("message", &json!("other"));
    let changed = s.status();
    assert_ne!(changed["version"], json!(version));
    assert!(changed["loadedAt"].as_str().unwrap() >= loaded, "{changed}");
    write_by_rename(&file, &flags("hello"));
    s.wait_for_value("message", &json!("hello"));
    assert_eq!(s.status()["version"], json!(version));
}

#[test]
fn metrics_count_evaluations_by_flag_and_reason_reloads_and_latency() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("hello"));
    let s = Sidecar::start(&file, &[]);
    assert_eq!(s.eval("rate", &json!({})).status, 200);
    assert_eq!(s.eval("banner", &json!({})).status, 200);
    assert_eq!(s.eval("split", &json!({})).status, 400);
    assert_eq!(s.eval("no-such-flag", &json!({})).status, 404);

    let r = s.get("/metrics");
    assert_eq!(r.status, 200);
    let m = r.text;
    assert_eq!(metric(&m, r#"burgee_evaluations_total{flag="rate",reason="STATIC"}"#), Some(1.0), "{m}");
    assert_eq!(metric(&m, r#"burgee_evaluations_total{flag="banner",reason="DISABLED"}"#), Some(1.0), "{m}");
    assert_eq!(metric(&m, r#"burgee_evaluations_total{flag="split",reason="ERROR"}"#), Some(1.0), "{m}");
    // An unknown key is counted without its name (no label per junk key).
    assert!(!m.contains("no-such-flag"), "{m}");
    for line in m.lines().filter(|l| l.starts_with("burgee_evaluations_total{")) {
        let flag = line.split("flag=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(["", "rate", "banner", "split", "acme-only", "message"].contains(&flag), "{line}");
    }
    assert_eq!(metric(&m, r#"burgee_evaluations_total{flag="",reason="ERROR"}"#), Some(1.0), "{m}");

    assert_eq!(metric(&m, r#"burgee_reloads_total{result="accepted"}"#), Some(1.0), "{m}");
    let loaded = metric(&m, "burgee_last_reload_success_timestamp_seconds").unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(loaded > now - 3600.0 && loaded <= now + 1.0, "{loaded} vs now {now}");
    assert!(m.contains("burgee_request_duration_seconds_bucket{"), "{m}");
    assert!(m.lines().any(|l| l.starts_with("burgee_request_duration_seconds_count{") && l.contains("ofrep")), "{m}");

    // Counts go on across a reload, which is counted too.
    write_by_rename(&file, &flags("two"));
    s.wait_for_value("message", &json!("two"));
    assert_eq!(s.eval("rate", &json!({})).status, 200);
    let m = s.metrics();
    assert_eq!(metric(&m, r#"burgee_evaluations_total{flag="rate",reason="STATIC"}"#), Some(2.0), "{m}");
    assert_eq!(metric(&m, r#"burgee_reloads_total{result="accepted"}"#), Some(2.0), "{m}");
    assert_eq!(metric(&m, r#"burgee_reloads_total{result="rejected"}"#), Some(0.0), "{m}");
    assert!(metric(&m, "burgee_last_reload_success_timestamp_seconds").unwrap() >= loaded, "{m}");
}

/// Upload a request as a client does: the head, then the body in 64 KiB
/// pieces, then read the answer. A server may answer before it has read the
/// whole body; such an answer is waited for briefly (after the head, and
/// once the body passes 1 MiB), so the rest of the body goes out after it,
/// every time. `Err` says how the exchange broke.
fn upload(addr: &str, head: &str, body: &[u8], chunked: bool) -> Result<String, String> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let answered = |s: &TcpStream| {
        s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let early = s.peek(&mut [0u8; 16]).is_ok_and(|n| n > 0);
        s.set_read_timeout(Some(WAIT)).unwrap();
        early
    };
    let mut early = answered(&s);
    let mut sent = 0;
    for piece in body.chunks(64 * 1024) {
        if sent == BODY_LIMIT {
            early |= answered(&s);
        }
        let result = if chunked {
            s.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                .and_then(|()| s.write_all(piece))
                .and_then(|()| s.write_all(b"\r\n"))
        } else {
            s.write_all(piece)
        };
        result.map_err(|e| format!("sending the body failed at byte {sent} (answered early: {early}): {e}"))?;
        sent += piece.len();
    }
    if chunked {
        s.write_all(b"0\r\n\r\n")
            .map_err(|e| format!("sending the last chunk failed (answered early: {early}): {e}"))?;
    }
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).map_err(|e| {
        format!("reading the answer failed (answered early: {early}; got {:?}): {e}", String::from_utf8_lossy(&answer))
    })?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// The contract's body limit.
const BODY_LIMIT: usize = 1024 * 1024;

/// A request body of exactly `len` bytes: a context padded with spaces.
fn padded_body(len: usize) -> Vec<u8> {
    let prefix = r#"{"context": {"targetingKey": "u1"}}"#;
    format!("{prefix}{}", " ".repeat(len - prefix.len())).into_bytes()
}

fn post_head(path: &str, length: Option<usize>, extra: &str) -> String {
    let framing = length.map_or("Transfer-Encoding: chunked".to_owned(), |n| format!("Content-Length: {n}"));
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{framing}\r\n{extra}Connection: close\r\n\r\n"
    )
}

#[test]
fn a_body_of_exactly_one_mebibyte_is_accepted() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);
    let body = padded_body(BODY_LIMIT);
    let r = s.post("/ofrep/v1/evaluate/flags/rate", std::str::from_utf8(&body).unwrap());
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.post("/ofrep/v1/evaluate/flags", std::str::from_utf8(&body).unwrap());
    assert_eq!(r.status, 200);
    let answer = upload(&s.server.addr, &post_head("/ofrep/v1/evaluate/flags/rate", None, ""), &body, true).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 "), "chunked, 1 MiB: {answer}");
}

#[test]
fn a_body_over_one_mebibyte_announced_with_expect_100_continue_gets_413_unsent() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);
    for path in ["/ofrep/v1/evaluate/flags/rate", "/ofrep/v1/evaluate/flags"] {
        // What curl does for large bodies: the head alone, then wait.
        let head = post_head(path, Some(BODY_LIMIT + 1), "Expect: 100-continue\r\n");
        let answer = raw(&s.server.addr, head.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 413 "), "{path}: {answer}");
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert!(body["errorDetails"].is_string(), "{body}");
    }
}

/// Contract: "request bodies over 1 MiB get 413". A client that sends its
/// whole body and then reads (Python `requests`, ureq, most SDKs) must see
/// that 413, not a broken connection.
#[test]
fn a_client_uploading_a_body_over_one_mebibyte_reads_the_413() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);
    let mut problems = Vec::new();
    for (path, size, chunked) in [
        ("/ofrep/v1/evaluate/flags/rate", BODY_LIMIT + 1, false),
        ("/ofrep/v1/evaluate/flags", BODY_LIMIT + 1, false),
        ("/ofrep/v1/evaluate/flags/rate", BODY_LIMIT + 64 * 1024, false),
        ("/ofrep/v1/evaluate/flags/rate", BODY_LIMIT + 1, true),
        ("/ofrep/v1/evaluate/flags", BODY_LIMIT + 64 * 1024, true),
    ] {
        let body = padded_body(size);
        let what = format!("{path}, {size} bytes, {}", if chunked { "chunked" } else { "Content-Length" });
        let length = (!chunked).then_some(size);
        match upload(&s.server.addr, &post_head(path, length, ""), &body, chunked) {
            Ok(answer) if answer.starts_with("HTTP/1.1 413 ") => {}
            Ok(answer) => problems.push(format!("{what}: {answer}")),
            Err(e) => problems.push(format!("{what}: {e}")),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(s.get("/healthz").status, 200);
}

#[test]
fn wrong_method_is_405_and_unknown_path_is_404() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);

    let r = s.get("/ofrep/v1/evaluate/flags/rate");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = s.get("/ofrep/v1/evaluate/flags");
    assert_eq!(r.status, 405);
    let r = Reply::from(s.agent.delete(s.server.url("/ofrep/v1/evaluate/flags/rate")).call());
    assert_eq!(r.status, 405);
    for path in ["/healthz", "/readyz", "/v1/status", "/metrics", "/v1/flags", "/v1/flags/rate", "/v1/events"] {
        let r = s.post(path, "{}");
        assert_eq!(r.status, 405, "POST {path}");
        assert_eq!(r.header("allow"), Some("GET"), "POST {path}");
    }

    for path in ["/", "/nope", "/ofrep/v1/evaluate", "/ofrep/v2/evaluate/flags/rate", "/v1/flags/rate/extra"] {
        let r = s.get(path);
        assert_eq!(r.status, 404, "GET {path}");
        let r = s.post(path, "{}");
        assert_eq!(r.status, 404, "POST {path}");
    }
}

#[test]
fn a_token_is_required_everywhere_but_healthz() {
    let d = Dir::new();
    let s = Sidecar::start(&d.file("flags.json", &flags("hello")), &["--token", "s3cret"]);
    let body = r#"{"context": {"targetingKey": "u1"}}"#;

    assert_eq!(s.get("/healthz").status, 200, "/healthz is open");
    for auth in [None, Some("Bearer wrong"), Some("Bearer s3cret2"), Some("s3cret"), Some("Basic czNjcmV0")] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
        let r = s.post_with("/ofrep/v1/evaluate/flags/rate", &headers, body);
        assert_eq!(r.status, 401, "{auth:?}: {}", r.text);
        for path in ["/readyz", "/v1/status", "/metrics", "/v1/flags/rate", "/v1/flags"] {
            assert_eq!(s.get_with(path, &headers).status, 401, "{path} with {auth:?}");
        }
        assert_eq!(s.post_with("/ofrep/v1/evaluate/flags", &headers, body).status, 401);
    }

    let auth = [("Authorization", "Bearer s3cret")];
    let r = s.post_with("/ofrep/v1/evaluate/flags/rate", &auth, body);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["value"], json!(1.0));
    assert_eq!(s.post_with("/ofrep/v1/evaluate/flags", &auth, body).status, 200);
    for path in ["/readyz", "/v1/status", "/metrics", "/v1/flags/rate", "/v1/flags", "/healthz"] {
        assert_eq!(s.get_with(path, &auth).status, 200, "{path}");
    }
}

#[test]
fn a_non_loopback_address_without_a_token_is_refused() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("hello"));
    // 0.0.0.0 is refused before binding: nothing listens beyond loopback.
    let out = serve_command_on(&file, "0.0.0.0:0", &[]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "never listened: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--token"), "{err}");
}

#[test]
fn cors_headers_only_for_configured_origins_and_preflight() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("hello"));
    let body = r#"{"context": {"targetingKey": "u1"}}"#;
    let s = Sidecar::start(&file, &["--cors-origin", "https://app.example", "--cors-origin", "https://admin.example"]);

    for origin in ["https://app.example", "https://admin.example"] {
        let r = s.post_with("/ofrep/v1/evaluate/flags", &[("Origin", origin)], body);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), Some(origin));
        let exposed = r.header("access-control-expose-headers").unwrap_or("").to_ascii_lowercase();
        assert!(exposed.contains("etag"), "the web provider reads the ETag: {:?}", r.headers);
    }
    let r = s.post_with("/ofrep/v1/evaluate/flags", &[("Origin", "https://evil.example")], body);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = s.post("/ofrep/v1/evaluate/flags", body);
    assert_eq!(r.header("access-control-allow-origin"), None);

    let preflight = |origin: &str| {
        Reply::from(
            s.agent
                .options(s.server.url("/ofrep/v1/evaluate/flags"))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type, if-none-match")
                .call(),
        )
    };
    let r = preflight("https://app.example");
    assert!((200..300).contains(&r.status), "{}", r.status);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"));
    assert!(r.header("access-control-allow-methods").unwrap().contains("POST"), "{:?}", r.headers);
    let allowed = r.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed.contains("content-type") && allowed.contains("if-none-match"), "{allowed}");
    let r = preflight("https://evil.example");
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("access-control-allow-methods"), None);

    // Without --cors-origin, no CORS headers at all.
    let plain = Sidecar::start(&file, &[]);
    let r = plain.post_with("/ofrep/v1/evaluate/flags", &[("Origin", "https://app.example")], body);
    assert_eq!(r.header("access-control-allow-origin"), None);

    // With --token, a preflight needs the token too (the contract: OPTIONS
    // included), so nothing is learned from the server without it.
    let t = Sidecar::start(&file, &["--token", "s3cret", "--cors-origin", "https://app.example"]);
    let preflight = |auth: Option<&str>| {
        let mut req = t
            .agent
            .options(t.server.url("/ofrep/v1/evaluate/flags"))
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type");
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        Reply::from(req.call())
    };
    assert_eq!(preflight(None).status, 401);
    let r = preflight(Some("Bearer s3cret"));
    assert!((200..300).contains(&r.status), "{}", r.status);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"));
    assert!(r.header("access-control-allow-headers").unwrap().to_ascii_lowercase().contains("authorization"));
}

// ---------------------------------------------------------------------------
// Hot reload

#[test]
fn reload_on_replace_by_rename() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("one"));
    let s = Sidecar::start(&file, &[]);
    assert_eq!(s.value("message"), json!("one"));
    write_by_rename(&file, &flags("two"));
    s.wait_for_value("message", &json!("two"));
    write_by_rename(&file, &flags("three"));
    s.wait_for_value("message", &json!("three"));
    assert_eq!(s.status()["reloads"]["accepted"], json!(3));
}

#[test]
fn reload_on_in_place_write() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("one"));
    let s = Sidecar::start(&file, &[]);
    write_in_place(&file, &flags("two"));
    s.wait_for_value("message", &json!("two"));
    write_in_place(&file, &flags("three-and-a-longer-value"));
    s.wait_for_value("message", &json!("three-and-a-longer-value"));
    write_in_place(&file, &flags("4"));
    s.wait_for_value("message", &json!("4"));
}

#[test]
fn reload_on_kubernetes_configmap_symlink_swap() {
    use std::os::unix::fs::symlink;
    let d = Dir::new();
    fs::create_dir(d.path("..2026_01")).unwrap();
    fs::write(d.path("..2026_01/flags.json"), flags("one")).unwrap();
    symlink("..2026_01", d.path("..data")).unwrap();
    symlink("..data/flags.json", d.path("flags.json")).unwrap();
    let s = Sidecar::start(&d.path("flags.json"), &[]);
    assert_eq!(s.value("message"), json!("one"));

    // What the kubelet does on a ConfigMap update.
    let swap = |from: &str, to: &str, text: &str| {
        fs::create_dir(d.path(to)).unwrap();
        fs::write(d.path(&format!("{to}/flags.json")), text).unwrap();
        symlink(to, d.path("..data_tmp")).unwrap();
        fs::rename(d.path("..data_tmp"), d.path("..data")).unwrap();
        fs::remove_dir_all(d.path(from)).unwrap();
    };
    swap("..2026_01", "..2026_02", &flags("two"));
    s.wait_for_value("message", &json!("two"));
    swap("..2026_02", "..2026_03", &flags("three"));
    s.wait_for_value("message", &json!("three"));
    assert_eq!(s.get("/readyz").json()["status"], json!("ready"));
}

#[test]
fn reload_on_delete_then_recreate() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("one"));
    let s = Sidecar::start(&file, &[]);

    // Quickly, as some editors do.
    fs::remove_file(&file).unwrap();
    fs::write(&file, flags("two")).unwrap();
    s.wait_for_value("message", &json!("two"));

    // Slowly: while there is no file, the last one keeps serving.
    fs::remove_file(&file).unwrap();
    wait_until("the deletion to be noticed", || (s.get("/readyz").json()["status"] == "degraded").then_some(()));
    assert_eq!(s.value("message"), json!("two"));
    assert_eq!(s.get("/readyz").status, 200);
    fs::write(&file, flags("three")).unwrap();
    s.wait_for_value("message", &json!("three"));
    wait_until("ready again", || (s.get("/readyz").json()["status"] == "ready").then_some(()));
}

/// Count the debug log lines saying a reload found the content unchanged.
fn unchanged_reloads(log: &str) -> usize {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "reload" && v["outcome"] == "Unchanged")
        .count()
}

#[test]
fn unchanged_content_is_not_a_reload() {
    let d = Dir::new();
    let text = flags("one");
    let file = d.file("flags.json", &text);
    let s = Sidecar::start(&file, &["--log-format", "json", "--log-level", "burgee_sidecar=debug"]);
    let before = s.status();
    assert_eq!(before["reloads"], json!({"accepted": 1, "rejected": 0}));
    let mut events = Events::open(&s);

    // The debug log says when the server has looked at the file; that is the
    // moment to check that nothing was reloaded.
    let touch = |what: &str, change: &dyn Fn()| {
        let seen = unchanged_reloads(&s.server.log());
        change();
        wait_until(&format!("the server to look at the file after {what}"), || {
            (unchanged_reloads(&s.server.log()) > seen).then_some(())
        });
        let now = s.status();
        assert_eq!(now["reloads"], before["reloads"], "{what}");
        assert_eq!(now["version"], before["version"], "{what}");
        assert_eq!(now["loadedAt"], before["loadedAt"], "{what}");
    };
    touch("a touch", &|| {
        let f = fs::File::options().write(true).open(&file).unwrap();
        f.set_modified(SystemTime::now() + Duration::from_secs(5)).unwrap();
    });
    touch("an in-place rewrite of the same bytes", &|| write_in_place(&file, &text));
    touch("a rename of the same bytes", &|| write_by_rename(&file, &text));
    let m = s.metrics();
    assert_eq!(metric(&m, r#"burgee_reloads_total{result="accepted"}"#), Some(1.0), "{m}");

    // The first event on the stream is for the first real change.
    write_by_rename(&file, &flags("two"));
    s.wait_for_value("message", &json!("two"));
    let (name, data) = events.next().unwrap();
    assert_eq!(name, "configuration_change");
    assert_eq!(data["version"], s.status()["version"]);
    assert_eq!(s.status()["reloads"], json!({"accepted": 2, "rejected": 0}));
}

#[test]
fn an_invalid_file_keeps_the_old_values_and_reports_every_error() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("one"));
    let s = Sidecar::start(&file, &[]);
    let old_version = s.status()["version"].clone();
    let mut events = Events::open(&s);

    write_by_rename(&file, BROKEN);
    let ready = wait_until("/readyz to say degraded", || {
        let r = s.get("/readyz");
        (r.json()["status"] == "degraded").then_some(r)
    });
    assert_eq!(ready.status, 200, "still serving: {}", ready.text);
    let body = ready.json();
    assert_eq!(pointers(&body["errors"]), expected_pointers(), "{body}");
    assert_eq!(s.value("message"), json!("one"), "the old file keeps serving");
    assert_eq!(s.value("rate"), json!(1.0));

    let status = s.status();
    assert_eq!(status["version"], old_version);
    assert_eq!(pointers(&status["lastReloadError"]["errors"]), expected_pointers(), "{status}");
    for e in status["lastReloadError"]["errors"].as_array().unwrap() {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        assert!(e["code"].is_string(), "{e}");
    }
    assert_eq!(status["reloads"], json!({"accepted": 1, "rejected": 1}));

    let m = s.metrics();
    assert_eq!(metric(&m, r#"burgee_reloads_total{result="rejected"}"#), Some(1.0), "{m}");
    assert_eq!(metric(&m, r#"burgee_reloads_total{result="accepted"}"#), Some(1.0), "{m}");

    let (name, data) = events.next().unwrap();
    assert_eq!(name, "reload_failed", "{data}");
    assert_eq!(pointers(&data["errors"]), expected_pointers(), "{data}");

    // Fixing the file clears `degraded` and tells subscribers.
    write_by_rename(&file, &flags("two"));
    s.wait_for_value("message", &json!("two"));
    let r = s.get("/readyz");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], json!("ready"), "{}", r.text);
    assert!(r.json().get("errors").is_none(), "{}", r.text);
    let status = s.status();
    assert_eq!(status["lastReloadError"], Value::Null);
    assert_ne!(status["version"], old_version);
    let (name, data) = events.next().unwrap();
    assert_eq!(name, "configuration_change", "{data}");
    assert_eq!(data["version"], status["version"]);
    let m = s.metrics();
    assert_eq!(metric(&m, r#"burgee_reloads_total{result="accepted"}"#), Some(2.0), "{m}");
    assert_eq!(metric(&m, r#"burgee_reloads_total{result="rejected"}"#), Some(1.0), "{m}");
}

#[test]
fn a_rejected_file_is_logged_with_every_error() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("one"));
    let s = Sidecar::start(&file, &[]);
    write_by_rename(&file, BROKEN);
    wait_until("the rejection to be logged", || {
        let log = s.server.log();
        BROKEN_POINTERS.iter().all(|p| log.contains(p)).then_some(())
    });
}

// ---------------------------------------------------------------------------
// Start-up

#[test]
fn wait_for_file_serves_503_until_a_valid_file_appears() {
    let d = Dir::new();
    let file = d.path("flags.json");
    let s = Sidecar::start_unready(&file, &["--wait-for-file"]);

    let r = s.get("/readyz");
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(s.get("/healthz").status, 200, "the process serves");
    let r = s.eval("rate", &json!({"targetingKey": "u1"}));
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json()["key"], json!("rate"));
    assert!(r.json()["errorCode"].is_string(), "{}", r.text);
    assert_eq!(s.bulk(&json!({})).status, 503);
    assert_eq!(s.get("/v1/flags/rate").status, 503);

    // An invalid file does not make it ready either.
    write_by_rename(&file, BROKEN);
    wait_until("the invalid file to be reported", || {
        let r = s.get("/readyz");
        r.json().get("errors").is_some_and(|e| pointers(e) == expected_pointers()).then_some(())
    });
    assert_eq!(s.get("/readyz").status, 503);
    assert_eq!(s.eval("rate", &json!({})).status, 503);

    write_by_rename(&file, &flags("hello"));
    wait_until("/readyz 200", || (s.get("/readyz").status == 200).then_some(()));
    assert_eq!(s.get("/readyz").json()["status"], json!("ready"));
    assert_eq!(s.value("message"), json!("hello"));
    assert_eq!(s.value("rate"), json!(1.0));
}

#[test]
fn wait_for_file_accepts_a_file_written_in_place() {
    let d = Dir::new();
    let file = d.path("flags.json");
    let s = Sidecar::start_unready(&file, &["--wait-for-file"]);
    assert_eq!(s.get("/readyz").status, 503);
    fs::write(&file, flags("hello")).unwrap();
    s.wait_for_value("message", &json!("hello"));
    assert_eq!(s.get("/readyz").status, 200);
}

#[test]
fn start_up_with_an_invalid_or_missing_file_exits_1_listing_every_error() {
    let d = Dir::new();
    let bad = d.file("bad.json", BROKEN);
    let out = serve_command(&bad, &[]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "never listened: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    for p in BROKEN_POINTERS {
        assert!(err.contains(p), "stderr names {p}: {err}");
    }

    let syntax = d.file("syntax.json", "{\n  \"version\": 1,\n  \"flags\": {\n    \"a\": {,}\n  }\n}\n");
    let out = serve_command(&syntax, &[]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("syntax"), "{err}");

    let missing = d.path("missing.json");
    let out = serve_command(&missing, &[]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"), "{}", String::from_utf8_lossy(&out.stderr));

    // An --environment the file does not have cannot be served either.
    let good = d.file("good.json", &flags("hello"));
    let out = serve_command(&good, &["--environment", "qa"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("qa"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The start-up failure says "every problem is listed above"; it must be,
/// whatever the log filter lets through.
#[test]
fn start_up_with_an_invalid_file_lists_every_error_whatever_the_log_filter() {
    let d = Dir::new();
    let bad = d.file("bad.json", BROKEN);
    let mut problems = Vec::new();
    for filter in ["off", "burgee_sidecar::serve=debug"] {
        let out = serve_command(&bad, &["--log-level", filter]).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        if !BROKEN_POINTERS.iter().all(|p| err.contains(p)) {
            problems.push(format!("--log-level {filter}: stderr names no pointer:\n{err}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Consistency under load

/// Flags `a` and `b` both serving `marker`, plus a few others.
fn pair(marker: &str) -> String {
    let flag = format!(
        r#"{{"variants": {{"x": "{marker}", "y": "-"}}, "off": "y",
            "environments": {{"dev": {{"enabled": true, "default": {{"variant": "x"}}}}}}}}"#
    );
    format!(
        r#"{{"version": 1, "environments": ["dev"], "flags": {{"a": {flag}, "m": {{"variants": {{"on": 1.0, "off": 0.0}}, "off": "off",
            "environments": {{"dev": {{"enabled": true, "default": {{"variant": "on"}}}}}}}}, "b": {flag}}}}}"#
    )
}

#[test]
fn a_request_storm_during_100_reloads_never_fails_or_mixes_versions() {
    const VERSIONS: usize = 100;
    const CLIENTS: usize = 8;
    let d = Dir::new();
    let file = d.file("flags.json", &pair("v0"));
    let s = Sidecar::start(&file, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let clients: Vec<JoinHandle<(usize, Vec<String>)>> = (0..CLIENTS)
        .map(|i| {
            let (stop, bulk_url, single_url) =
                (stop.clone(), s.server.url("/ofrep/v1/evaluate/flags"), s.server.url("/ofrep/v1/evaluate/flags/a"));
            std::thread::spawn(move || {
                let agent = agent();
                let body = json!({"context": {"targetingKey": format!("user-{i}")}}).to_string();
                let (mut answers, mut failures) = (0, Vec::new());
                // Bounded in count and time, whatever happens to the writer.
                while !stop.load(Ordering::Relaxed) && answers < 200_000 && started.elapsed() < 4 * WAIT {
                    let bulk = i % 2 == 0 || answers % 3 == 0;
                    let url = if bulk { &bulk_url } else { &single_url };
                    let r = match agent.post(url).header("Content-Type", "application/json").send(&body) {
                        Ok(mut r) => (r.status().as_u16(), r.body_mut().read_to_string()),
                        Err(e) => {
                            failures.push(format!("request failed: {e}"));
                            continue;
                        }
                    };
                    answers += 1;
                    let (status, text) = match r {
                        (status, Ok(text)) => (status, text),
                        (status, Err(e)) => {
                            failures.push(format!("{status}: body failed: {e}"));
                            continue;
                        }
                    };
                    if status != 200 {
                        failures.push(format!("{status}: {text}"));
                        continue;
                    }
                    let v: Value = serde_json::from_str(&text).unwrap();
                    if bulk {
                        let value = |k: &str| {
                            v["flags"].as_array().unwrap().iter().find(|f| f["key"] == k).map(|f| f["value"].clone())
                        };
                        let (a, b) = (value("a"), value("b"));
                        if a.is_none() || a != b || value("m") != Some(json!(1.0)) {
                            failures.push(format!("mixed or missing versions: {text}"));
                        }
                    } else if !v["value"].as_str().is_some_and(|m| m.starts_with('v')) {
                        failures.push(format!("single: {text}"));
                    }
                }
                (answers, failures)
            })
        })
        .collect();

    // Each version is waited for (so every one is a real reload under load).
    let watcher = agent();
    let served = |marker: &str| {
        let r = watcher.post(s.server.url("/ofrep/v1/evaluate/flags/a")).send(r#"{"context": {}}"#);
        let text = r.ok().and_then(|mut r| r.body_mut().read_to_string().ok()).unwrap_or_default();
        serde_json::from_str::<Value>(&text).is_ok_and(|v| v["value"] == marker)
    };
    for n in 1..=VERSIONS {
        let marker = format!("v{n}");
        write_by_rename(&file, &pair(&marker));
        wait_until(&format!("version {marker}"), || served(&marker).then_some(()));
    }
    stop.store(true, Ordering::Relaxed);

    let mut total = 0;
    let mut failures = Vec::new();
    for c in clients {
        let (answers, f) = c.join().unwrap();
        total += answers;
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} of {total} answers failed, e.g.: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(total >= CLIENTS * 10, "the storm ran: {total} answers");
    assert_eq!(s.status()["reloads"], json!({"accepted": VERSIONS + 1, "rejected": 0}));
}

// ---------------------------------------------------------------------------
// Shutdown

#[test]
fn sigterm_and_sigint_exit_0() {
    let d = Dir::new();
    let file = d.file("flags.json", &flags("hello"));
    let mut s = Sidecar::start(&file, &[]);
    assert_eq!(s.value("rate"), json!(1.0));
    let status = s.server.stop("TERM", WAIT);
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{}", s.server.log());

    let mut s = Sidecar::start(&file, &[]);
    assert_eq!(s.value("rate"), json!(1.0));
    s.server.signal("INT");
    let status = s.server.wait_exit(WAIT).unwrap_or_else(|| panic!("no exit after SIGINT:\n{}", s.server.log()));
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{}", s.server.log());
}

#[test]
fn sigterm_answers_a_request_in_flight_and_open_event_streams_do_not_block_exit() {
    let d = Dir::new();
    let mut s = Sidecar::start(&d.file("flags.json", &flags("hello")), &[]);
    let mut events = Events::open(&s);

    // A request in flight: its headers are in (the server asked for the
    // body with `100 Continue`), its body is not.
    let body = r#"{"context": {"targetingKey": "u1"}}"#;
    let mut conn = TcpStream::connect(&s.server.addr).unwrap();
    conn.set_read_timeout(Some(WAIT)).unwrap();
    let head = format!(
        "POST /ofrep/v1/evaluate/flags/rate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
        let mut buf = [0u8; 256];
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "closed before 100 Continue: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 100 "), "{}", String::from_utf8_lossy(&got));

    s.server.signal("TERM");
    // The event stream ends: shutdown has begun, and does not wait for it.
    assert_eq!(events.next(), None, "the stream ends");
    assert!(s.server.child.try_wait().unwrap().is_none(), "exited with a request in flight");

    conn.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["value"], json!(1.0));

    let status = s.server.wait_exit(WAIT).unwrap_or_else(|| panic!("no exit after SIGTERM:\n{}", s.server.log()));
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{}", s.server.log());
    // New connections are refused once it has stopped.
    assert!(TcpStream::connect(&s.server.addr).is_err());
}

// ---------------------------------------------------------------------------
// Numbers keep their JSON form

/// Contract: "a number value keeps the JSON form written in the file (`1.0`
/// stays `1.0`)". `1.0` is covered above; these are the other forms. An
/// exponent stays an exponent, written with its sign (`2e3` as `2e+3`).
#[test]
fn number_values_keep_the_json_form_written_in_the_file() {
    let d = Dir::new();
    let text = r#"{"version": 1, "environments": ["dev"], "flags": {
      "f": {"variants": {"a": 1.50, "b": 2e3, "c": 0.0}, "off": "c",
        "environments": {"dev": {"enabled": true, "targets": {"b": ["u2"]}, "default": {"variant": "a"}}}},
      "big": {"variants": {"a": 12345678901234567890123, "b": 1}, "off": "b",
        "environments": {"dev": {"enabled": true, "default": {"variant": "a"}}}}
    }}"#;
    let s = Sidecar::start(&d.file("flags.json", text), &[]);
    let mut problems = Vec::new();
    for (flag, user, written) in
        [("f", "u1", "1.50"), ("f", "u2", "2e+3"), ("f", "u3", "1.50"), ("big", "u1", "12345678901234567890123")]
    {
        let r = s.eval(flag, &json!({"targetingKey": user}));
        assert_eq!(r.status, 200, "{}", r.text);
        if !r.text.contains(&format!(r#""value":{written}"#)) {
            problems.push(format!("{written} in the file, served as {}", r.text));
        }
    }
    let r = s.bulk(&json!({"targetingKey": "u2"}));
    if !r.text.contains(r#""value":2e+3"#) {
        problems.push(format!("bulk: 2e3 in the file, served as {}", r.text));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
