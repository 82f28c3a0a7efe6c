//! Bad input of every kind, each case with the exact status and error body.
//!
//! The catalogue goes through the sidecar's request handler called as a
//! value ([`Service`]: the code a connection reaches, without a process or a
//! socket), each case followed by a normal request that must still be
//! served. What only a running process shows stays against the real
//! `burgee-sidecar serve` on its own loopback port: a neighbour client that
//! sees only 200s while the whole catalogue is sent, resident memory after
//! oversized bodies, the connection closed after a 413, hyper's 414 before
//! routing, the header read timeout and the connection limit.
//!
//! Starting and stopping the server, the HTTP agent, the in-process service
//! and the answer a test inspects are `support.rs`'s. Every wait is bounded.

// A failed unwrap in a test is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;
use support::{Reply, Server, Service, agent, exchange, serve_command};

/// The longest any condition is waited for.
const WAIT: Duration = Duration::from_secs(5);

/// The contract's body limit.
const BODY_LIMIT: usize = 1024 * 1024;

/// Two environments and one flag.
const FLAGS: &str = r#"{"version": 1, "environments": ["dev", "prod"], "flags": {
  "rate": {"variants": {"low": 1.0, "high": 2.5}, "off": "low",
    "environments": {"dev": {"enabled": true, "default": {"variant": "low"}},
                     "prod": {"enabled": true, "default": {"variant": "high"}}}}}}"#;

/// The normal request, and its answer.
const NORMAL_PATH: &str = "/ofrep/v1/evaluate/flags/rate";
const NORMAL_BODY: &str = r#"{"context": {"targetingKey": "u1"}}"#;

fn normal_answer() -> Value {
    json!({"key": "rate", "value": 1.0, "variant": "low", "reason": "STATIC", "metadata": {}})
}

// ---------------------------------------------------------------------------
// The server under test

/// A running `burgee-sidecar serve` (stopped on drop), an agent to ask it,
/// and the directory with its flags file (removed once it has stopped: the
/// fields drop in this order).
struct Sidecar {
    server: Server,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

impl Sidecar {
    /// Serve [`FLAGS`] with these extra arguments; ready once it prints its address (after loading).
    fn start(args: &[&str]) -> Sidecar {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("flags.json");
        fs::write(&file, FLAGS).unwrap();
        Sidecar { server: Server::spawn(serve_command(&file, args), WAIT), agent: agent(), _dir: dir }
    }

    /// POST `body` with `Content-Type: application/json` unless `headers` name another.
    fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut req = self.agent.post(self.server.url(path));
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            req = req.header("Content-Type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Reply::from(req.send(body))
    }

    fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.post_with(path, &[], body)
    }

    /// The server still runs, answers a normal request, and never panicked.
    fn assert_healthy(&mut self) {
        assert!(self.server.child.try_wait().unwrap().is_none(), "the server exited; stderr:\n{}", self.server.log());
        let r = self.post(NORMAL_PATH, NORMAL_BODY.as_bytes());
        assert_eq!((r.status, r.json()), (200, normal_answer()), "stderr:\n{}", self.server.log());
        assert!(!self.server.log().contains("panicked"), "stderr:\n{}", self.server.log());
    }
}

/// The request handler serving [`FLAGS`] with the default settings but what
/// `configure` changes, without a socket; and the directory of its file.
fn service(configure: impl FnOnce(&mut burgee_sidecar::serve::app::App)) -> (Service, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flags.json");
    fs::write(&file, FLAGS).unwrap();
    (Service::serving(&file, configure), dir)
}

/// The handler still answers a normal request normally.
fn assert_serves(s: &Service) {
    let r = s.post(NORMAL_PATH, NORMAL_BODY.as_bytes());
    assert_eq!((r.status, r.json()), (200, normal_answer()));
}

/// A client evaluating a flag in a loop, in parallel with a test, that must
/// only ever get the normal answer.
struct Neighbour {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<(usize, Vec<String>)>,
}

impl Neighbour {
    fn start(s: &Sidecar) -> Neighbour {
        let stop = Arc::new(AtomicBool::new(false));
        let url = s.server.url(NORMAL_PATH);
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let agent = agent();
            let (mut answered, mut problems) = (0, Vec::new());
            // At least a few requests, even when the test is quick.
            while answered < 5 || !flag.load(Ordering::Relaxed) {
                match agent.post(&url).header("Content-Type", "application/json").send(NORMAL_BODY) {
                    Ok(mut r) => {
                        let status = r.status().as_u16();
                        let text = r.body_mut().read_to_string().unwrap_or_default();
                        let ok = status == 200 && serde_json::from_str::<Value>(&text).ok() == Some(normal_answer());
                        if !ok {
                            problems.push(format!("{status} {text}"));
                        }
                    }
                    Err(e) => problems.push(e.to_string()),
                }
                answered += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            (answered, problems)
        });
        Neighbour { stop, thread }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let (answered, problems) = self.thread.join().unwrap();
        assert!(problems.is_empty(), "the neighbour was affected ({answered} requests): {problems:#?}");
    }
}

// ---------------------------------------------------------------------------
// Bodies

#[test]
fn a_body_that_is_not_json_is_400_parse_error() {
    let (s, _dir) = service(|_| {});
    s.post(NORMAL_PATH, b"{oops").expect(
        400,
        &json!({"key": "rate", "errorCode": "PARSE_ERROR",
                "errorDetails": "the body is not JSON: key must be a string at line 1 column 2"}),
    );
    s.post(NORMAL_PATH, b"context=1").expect(
        400,
        &json!({"key": "rate", "errorCode": "PARSE_ERROR",
                "errorDetails": "the body is not JSON: expected value at line 1 column 1"}),
    );
    // The bulk endpoint has no key to echo.
    s.post("/ofrep/v1/evaluate/flags", b"{oops").expect(
        400,
        &json!({"errorCode": "PARSE_ERROR", "errorDetails": "the body is not JSON: key must be a string at line 1 column 2"}),
    );
    assert_serves(&s);
}

#[test]
fn json_that_is_not_an_object_is_400_invalid_context() {
    let (s, _dir) = service(|_| {});
    for (body, found) in [("[1, 2]", "a list"), ("\"text\"", "a string"), ("42", "a number"), ("true", "a boolean")] {
        s.post(NORMAL_PATH, body.as_bytes()).expect(
            400,
            &json!({"key": "rate", "errorCode": "INVALID_CONTEXT",
                    "errorDetails": format!("the body must be a JSON object like {{\"context\": {{...}}}}, found {found}")}),
        );
    }
    // An object whose context is not an object.
    let r = s.post(NORMAL_PATH, br#"{"context": [1]}"#);
    assert_eq!((r.status, &r.json()["errorCode"]), (400, &json!("INVALID_CONTEXT")), "{}", r.text);
    assert_serves(&s);
}

#[test]
fn a_context_nested_deeper_than_64_is_400_parse_error_saying_where() {
    let (s, _dir) = service(|_| {});
    let nest = |depth: usize| {
        let objects = format!(r#"{{"context": {}1{}}}"#, r#"{"a": "#.repeat(depth), "}".repeat(depth));
        let arrays = format!(r#"{{"context": {{"a": {}1{}}}}}"#, "[".repeat(depth), "]".repeat(depth));
        (objects, arrays)
    };
    // 64 levels in all (the body's own object included) are served.
    let (objects, arrays) = nest(63);
    assert_eq!(s.post(NORMAL_PATH, objects.as_bytes()).status, 200);
    assert_eq!(s.post(NORMAL_PATH, nest(62).1.as_bytes()).status, 200);
    assert_eq!(s.post(NORMAL_PATH, arrays.as_bytes()).status, 400);
    // The 65th level is refused at its first byte, however deep the body goes.
    let (objects, arrays) = nest(10_000);
    for (body, at) in [(&objects, 12 + 63 * 6), (&arrays, 18 + 62)] {
        for path in [NORMAL_PATH, "/ofrep/v1/evaluate/flags"] {
            let r = s.post(path, body.as_bytes());
            let mut expected = json!({"errorCode": "PARSE_ERROR",
                "errorDetails": format!("the body nests arrays and objects deeper than 64 levels (at byte {at})")});
            if path == NORMAL_PATH {
                expected["key"] = json!("rate");
            }
            r.expect(400, &expected);
        }
    }
    assert_serves(&s);
}

#[test]
fn a_context_of_more_than_10000_values_is_400_parse_error_saying_where() {
    let (s, _dir) = service(|_| {});
    // 9,998 values in the list, the list, the context and the body: 10,001.
    let values = |n: usize| format!(r#"{{"context": {{"groups": [{}]}}}}"#, vec!["1"; n].join(","));
    assert_eq!(s.post(NORMAL_PATH, values(9_997).as_bytes()).status, 200);
    let body = values(9_998);
    let at = body.len() - 5; // the last comma, before `1]}}`
    s.post(NORMAL_PATH, body.as_bytes()).expect(
        400,
        &json!({"key": "rate", "errorCode": "PARSE_ERROR",
                "errorDetails": format!("the body holds more than 10000 values (at byte {at})")}),
    );
    assert_serves(&s);
}

#[test]
fn a_huge_string_is_413_and_a_large_one_under_the_limit_is_served() {
    let (s, _dir) = service(|_| {});
    let huge = json!({"context": {"targetingKey": "u1", "note": "x".repeat(4 * BODY_LIMIT)}}).to_string();
    s.post(NORMAL_PATH, huge.as_bytes()).expect(
        413,
        &json!({"key": "rate", "errorCode": "GENERAL", "errorDetails": "the request body is larger than 1048576 bytes"}),
    );
    let large = json!({"context": {"targetingKey": "u1", "note": "x".repeat(BODY_LIMIT - 100)}}).to_string();
    assert!(large.len() <= BODY_LIMIT);
    s.post(NORMAL_PATH, large.as_bytes()).expect(200, &normal_answer());
    assert_serves(&s);
}

#[test]
fn invalid_utf8_is_400_parse_error() {
    let (s, _dir) = service(|_| {});
    // In a string, and outside one.
    s.post(NORMAL_PATH, b"{\"context\": {\"targetingKey\": \"u\xff\xfe\"}}").expect(
        400,
        &json!({"key": "rate", "errorCode": "PARSE_ERROR",
                "errorDetails": "the body is not JSON: invalid unicode code point at line 1 column 32"}),
    );
    s.post(NORMAL_PATH, b"\xff\xfe{}").expect(
        400,
        &json!({"key": "rate", "errorCode": "PARSE_ERROR",
                "errorDetails": "the body is not JSON: expected value at line 1 column 1"}),
    );
    assert_serves(&s);
}

/// OFREP providers vary in what Content-Type they send (and curl sends a
/// form type by default): the server reads the body as JSON whatever the
/// header says, so a valid body is served.
#[test]
fn a_wrong_or_missing_content_type_is_accepted() {
    let (s, _dir) = service(|_| {});
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8", ""] {
        let r = s.post_with(NORMAL_PATH, &[("Content-Type", content_type)], NORMAL_BODY.as_bytes());
        r.expect(200, &normal_answer());
    }
    // No Content-Type at all.
    s.send("POST", NORMAL_PATH, &[], NORMAL_BODY.as_bytes()).expect(200, &normal_answer());
    assert_serves(&s);
}

// ---------------------------------------------------------------------------
// Flag keys and paths

#[test]
fn an_unknown_flag_is_404_flag_not_found() {
    let (s, _dir) = service(|_| {});
    s.post("/ofrep/v1/evaluate/flags/nope", NORMAL_BODY.as_bytes()).expect(
        404,
        &json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag `nope` is not in the flags file"}),
    );
    s.get("/v1/flags/nope").expect(
        404,
        &json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag `nope` is not in the flags file"}),
    );
    assert_serves(&s);
}

#[test]
fn flag_keys_with_slash_percent_2f_and_dot_dot() {
    let (s, _dir) = service(|_| {});
    // A `/` makes more path segments: no such endpoint.
    s.post("/ofrep/v1/evaluate/flags/a/b", NORMAL_BODY.as_bytes())
        .expect(404, &json!({"errorCode": "GENERAL", "errorDetails": "no endpoint /ofrep/v1/evaluate/flags/a/b"}));
    s.post("/ofrep/v1/evaluate/flags/rate/", NORMAL_BODY.as_bytes())
        .expect(404, &json!({"errorCode": "GENERAL", "errorDetails": "no endpoint /ofrep/v1/evaluate/flags/rate/"}));
    // Sent as written (no client normalises them): `%2F` is not decoded,
    // `..` is not resolved; both are keys no file can have.
    for key in ["a%2Fb", "rate%2F", "..", "%2E%2E"] {
        let r = s.post(&format!("/ofrep/v1/evaluate/flags/{key}"), NORMAL_BODY.as_bytes());
        r.expect(
            404,
            &json!({"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": format!("flag `{key}` is not in the flags file")}),
        );
    }
    // `..` as a whole segment elsewhere in the path: no endpoint, nothing read.
    s.post("/ofrep/v1/evaluate/flags/../../../etc/passwd", NORMAL_BODY.as_bytes()).expect(
        404,
        &json!({"errorCode": "GENERAL", "errorDetails": "no endpoint /ofrep/v1/evaluate/flags/../../../etc/passwd"}),
    );
    assert_serves(&s);
}

#[test]
fn a_10000_character_flag_key_is_404_with_the_key_shortened() {
    let (s, _dir) = service(|_| {});
    let key = "k".repeat(10_000);
    let shown = format!("{}…", "k".repeat(128));
    let expected = json!({"key": shown, "errorCode": "FLAG_NOT_FOUND",
                          "errorDetails": format!("flag `{shown}` is not in the flags file")});
    let r = s.post(&format!("/ofrep/v1/evaluate/flags/{key}"), NORMAL_BODY.as_bytes());
    r.expect(404, &expected);
    assert!(r.text.len() < 500, "{} bytes", r.text.len());
    s.get(&format!("/v1/flags/{key}")).expect(404, &expected);
    // Other errors echo the key shortened too.
    s.post(&format!("/ofrep/v1/evaluate/flags/{key}"), b"{oops").expect(
        400,
        &json!({"key": shown, "errorCode": "PARSE_ERROR",
                "errorDetails": "the body is not JSON: key must be a string at line 1 column 2"}),
    );
    // And an unknown path is echoed shortened.
    let r = s.get(&format!("/{key}"));
    r.expect(404, &json!({"errorCode": "GENERAL", "errorDetails": format!("no endpoint /{}…", "k".repeat(127))}));
    assert_serves(&s);
}

// ---------------------------------------------------------------------------
// Headers

#[test]
fn an_unknown_environment_header_is_400() {
    let (s, _dir) = service(|_| {});
    s.post_with(NORMAL_PATH, &[("X-Burgee-Environment", "qa")], NORMAL_BODY.as_bytes()).expect(
        400,
        &json!({"key": "rate", "errorCode": "GENERAL", "errorDetails": "unknown environment `qa`; this file has: dev, prod"}),
    );
    let long = "e".repeat(10_000);
    s.post_with(NORMAL_PATH, &[("X-Burgee-Environment", &long)], NORMAL_BODY.as_bytes()).expect(
        400,
        &json!({"key": "rate", "errorCode": "GENERAL",
                "errorDetails": format!("unknown environment `{}…`; this file has: dev, prod", "e".repeat(128))}),
    );
    s.post_with("/ofrep/v1/evaluate/flags", &[("X-Burgee-Environment", "qa")], NORMAL_BODY.as_bytes()).expect(
        400,
        &json!({"errorCode": "GENERAL", "errorDetails": "unknown environment `qa`; this file has: dev, prod"}),
    );
    assert_serves(&s);
}

#[test]
fn a_missing_or_wrong_token_is_401_when_one_is_required() {
    let (s, _dir) = service(|app| app.token = Some("s3cret".into()));
    let denied = json!({"errorCode": "GENERAL", "errorDetails": "missing or wrong bearer token"});
    for headers in [&[][..], &[("Authorization", "Bearer wrong")][..], &[("Authorization", "s3cret")][..]] {
        let r = s.post_with(NORMAL_PATH, headers, NORMAL_BODY.as_bytes());
        r.expect(401, &denied);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    let r = s.post_with(NORMAL_PATH, &[("Authorization", "Bearer s3cret")], NORMAL_BODY.as_bytes());
    r.expect(200, &normal_answer());
}

/// A request refused before its body is read leaves that body on the
/// connection; the answer says the connection closes, so a pooling client
/// does not send its next request on a connection the server ends.
#[test]
fn a_request_refused_before_its_body_is_read_says_its_connection_closes() {
    let (s, _dir) = service(|app| app.token = Some("s3cret".into()));
    let length = NORMAL_BODY.len().to_string();
    let with_body = [("Content-Length", length.as_str())];
    let r = s.post_with(NORMAL_PATH, &with_body, NORMAL_BODY.as_bytes());
    assert_eq!((r.status, r.header("connection")), (401, Some("close")), "{}", r.text);
    let r = s.send("GET", "/v1/flags/rate", &[], b"");
    assert_eq!((r.status, r.header("connection")), (401, None), "no body, nothing left unread");
    let auth = ("Authorization", "Bearer s3cret");
    let r = s.post_with("/nowhere", &[auth, with_body[0]], NORMAL_BODY.as_bytes());
    assert_eq!((r.status, r.header("connection")), (404, Some("close")), "{}", r.text);
    // Refused for what the body says: it was read whole; the connection goes on.
    let r = s.post_with(NORMAL_PATH, &[auth, ("Content-Length", "5")], b"{oops");
    assert_eq!((r.status, r.header("connection")), (400, None), "{}", r.text);
    let r = s.post_with(NORMAL_PATH, &[auth, with_body[0]], NORMAL_BODY.as_bytes());
    assert_eq!((r.status, r.header("connection")), (200, None), "{}", r.text);
}

// ---------------------------------------------------------------------------
// The real binary: what only a process shows

/// Every kind of bad request in the catalogue above, with the status it gets.
fn catalogue() -> Vec<(String, Vec<u8>, u16)> {
    let flag = NORMAL_PATH.to_owned();
    let deep = format!(r#"{{"context": {}1{}}}"#, r#"{"a": "#.repeat(10_000), "}".repeat(10_000));
    let wide = format!(r#"{{"context": {{"groups": [{}]}}}}"#, vec!["1"; 20_000].join(","));
    let long_key = format!("/ofrep/v1/evaluate/flags/{}", "k".repeat(10_000));
    vec![
        (flag.clone(), b"{oops".to_vec(), 400),
        (flag.clone(), b"[1, 2]".to_vec(), 400),
        (flag.clone(), deep.into_bytes(), 400),
        (flag.clone(), wide.into_bytes(), 400),
        (flag.clone(), b"\xff\xfe{}".to_vec(), 400),
        ("/ofrep/v1/evaluate/flags/nope".into(), NORMAL_BODY.into(), 404),
        ("/ofrep/v1/evaluate/flags/a%2Fb".into(), NORMAL_BODY.into(), 404),
        ("/ofrep/v1/evaluate/flags/../../../etc/passwd".into(), NORMAL_BODY.into(), 404),
        (long_key, NORMAL_BODY.into(), 404),
        ("/ofrep/v1/evaluate/flags".into(), b"{oops".to_vec(), 400),
    ]
}

#[test]
fn the_catalogue_sent_to_the_real_binary_gets_its_answers_and_a_neighbour_only_200s() {
    let mut s = Sidecar::start(&[]);
    let n = Neighbour::start(&s);
    for round in 0..3 {
        for (path, body, status) in catalogue() {
            let r = s.post(&path, &body);
            assert_eq!(r.status, status, "round {round}, {} bytes to {path:.60}: {}", body.len(), r.text);
            assert!(r.json()["errorCode"].is_string(), "{}", r.text);
        }
    }
    let r = s.post_with(NORMAL_PATH, &[("X-Burgee-Environment", "qa")], NORMAL_BODY.as_bytes());
    assert_eq!(r.status, 400, "{}", r.text);
    n.finish();
    s.assert_healthy();
}

#[test]
fn a_million_element_array_is_413() {
    let mut s = Sidecar::start(&[]);
    let n = Neighbour::start(&s);
    let before = s.server.rss_kib();
    let body = format!(r#"{{"context": {{"a": [{}0]}}}}"#, "0,".repeat(999_999));
    assert!(body.len() > BODY_LIMIT);
    for _ in 0..5 {
        s.post(NORMAL_PATH, body.as_bytes()).expect(
            413,
            &json!({"key": "rate", "errorCode": "GENERAL", "errorDetails": "the request body is larger than 1048576 bytes"}),
        );
    }
    // Nothing past the limit is kept.
    let grown = s.server.rss_kib().saturating_sub(before);
    assert!(grown < 32 * 1024, "resident memory grew by {grown} KiB");
    n.finish();
    s.assert_healthy();
}

#[test]
fn a_body_over_the_limit_is_413_and_closes_the_connection() {
    let mut s = Sidecar::start(&[]);
    let n = Neighbour::start(&s);
    let body = format!("{NORMAL_BODY}{}", " ".repeat(BODY_LIMIT + 1 - NORMAL_BODY.len()));
    let r = s.post(NORMAL_PATH, body.as_bytes());
    r.expect(
        413,
        &json!({"key": "rate", "errorCode": "GENERAL", "errorDetails": "the request body is larger than 1048576 bytes"}),
    );
    assert_eq!(r.header("connection"), Some("close"));
    s.post("/ofrep/v1/evaluate/flags", body.as_bytes())
        .expect(413, &json!({"errorCode": "GENERAL", "errorDetails": "the request body is larger than 1048576 bytes"}));
    n.finish();
    s.assert_healthy();
}

#[test]
fn a_uri_over_64_kib_is_414_before_routing() {
    let mut s = Sidecar::start(&[]);
    // Past the URI limit (64 KiB), hyper answers 414 with no body before routing.
    let long = "k".repeat(70_000);
    let request = format!("GET /v1/flags/{long} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let (answer, _) = exchange(&s.server.addr, request.as_bytes(), WAIT).unwrap();
    assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{answer}");
    assert!(answer.contains("content-length: 0\r\n"), "{answer}");
    s.assert_healthy();
}

// ---------------------------------------------------------------------------
// Slow and idle clients

/// Send a request head one header line at a time, `every` apart, for at most
/// `within`; the answer, and how long the server kept the connection open.
fn send_slowly(addr: &str, every: Duration, within: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(every)).unwrap();
    let mut lines = vec![format!("POST {NORMAL_PATH} HTTP/1.1\r\n")];
    lines.extend((0..).take(1000).map(|i| format!("X-Slow-{i}: .\r\n")));
    let mut answer = Vec::new();
    for line in lines {
        if started.elapsed() > within || s.write_all(line.as_bytes()).is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    (answer, started.elapsed())
}

#[test]
fn a_slowloris_client_is_cut_off_by_the_header_read_timeout() {
    let mut s = Sidecar::start(&["--header-read-timeout", "1s"]);
    let n = Neighbour::start(&s);
    // One header line every 100 ms, for up to 10 s: cut off after about 1 s.
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let addr = s.server.addr.clone();
            std::thread::spawn(move || send_slowly(&addr, Duration::from_millis(100), Duration::from_secs(10)))
        })
        .collect();
    for t in slow {
        let (answer, open) = t.join().unwrap();
        assert!(open < Duration::from_secs(6), "the slow client was kept for {open:?}");
        // hyper answers a header timeout by closing, or with 408.
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }
    n.finish();
    s.assert_healthy();
}

#[test]
fn headers_sent_slowly_within_the_default_timeout_are_served() {
    let mut s = Sidecar::start(&[]);
    let mut c = TcpStream::connect(&s.server.addr).unwrap();
    c.set_read_timeout(Some(WAIT)).unwrap();
    let head = format!(
        "POST {NORMAL_PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        NORMAL_BODY.len()
    );
    // Two seconds for the head: well within the 10 s default.
    for line in head.split_inclusive("\r\n") {
        c.write_all(line.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    c.write_all(NORMAL_BODY.as_bytes()).unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 "), "{out}");
    s.assert_healthy();
}

#[test]
fn idle_connections_over_the_limit_wait_and_a_client_is_served_once_others_close() {
    let mut s = Sidecar::start(&["--max-connections", "50", "--header-read-timeout", "60s"]);
    let before = s.server.rss_kib();
    // 60 connections that send nothing: 50 are served (idle), 10 wait.
    let mut idle: Vec<TcpStream> = (0..60).map(|_| TcpStream::connect(&s.server.addr).unwrap()).collect();
    let served = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let url = s.server.url(NORMAL_PATH);
    let counter = served.clone();
    let client = std::thread::spawn(move || {
        let mut r = agent().post(&url).header("Content-Type", "application/json").send(NORMAL_BODY).unwrap();
        counter.fetch_add(1, Ordering::SeqCst);
        let _ = tx.send((r.status().as_u16(), r.body_mut().read_to_string().unwrap()));
    });
    // Behind the 60 in the accept queue, the client waits while they stay open…
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "served past the connection limit");
    assert_eq!(served.load(Ordering::SeqCst), 0);
    // …and is served as soon as some close.
    idle.drain(..20);
    let (status, text) = rx.recv_timeout(WAIT).unwrap();
    client.join().unwrap();
    assert_eq!((status, serde_json::from_str::<Value>(&text).unwrap()), (200, normal_answer()));
    assert!(s.server.log().contains("connection limit reached"), "{}", s.server.log());
    let grown = s.server.rss_kib().saturating_sub(before);
    assert!(grown < 16 * 1024, "resident memory grew by {grown} KiB for 60 idle connections");
    drop(idle);
    s.assert_healthy();
}
