//! Hostile clients and hostile files against the real `burgee-sidecar
//! serve`: each attack as an attacker on the same host would make it, and
//! what must hold — bounded memory whatever the body's shape (inside a
//! memory cgroup at the Kubernetes example's limit), bounded time per
//! request, capped and bounded event streams, files that are not regular
//! or too big refused without blocking, a watched directory deleted and made
//! again, logs that cannot stop the server, the `Host` check against DNS
//! rebinding, SIGHUP, and the health listener as a kubelet reaches it from
//! outside the pod's network namespace.
//!
//! Memory cgroups and network namespaces need root and cgroup v1 (as on CI
//! and these machines); `BURGEE_SKIP_ROOT_TESTS=1` skips the tests that use
//! them on a machine without.

// A failed unwrap in a test is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;
use support::{
    LISTENING, Reply, Server, agent, exchange, head_and_body, poll_until, serve_command, serve_command_on, status_of,
};

/// The longest any condition is waited for.
const WAIT: Duration = Duration::from_secs(10);

/// The Kubernetes example's memory limit.
const EXAMPLE_LIMIT: u64 = 64 << 20;

/// The contract's body limit.
const BODY_LIMIT: usize = 1024 * 1024;

const FLAGS: &str = r#"{"version": 1, "environments": ["dev"], "flags": {
  "rate": {"variants": {"low": 1.0, "high": 2.5}, "off": "low",
    "environments": {"dev": {"enabled": true, "default": {"variant": "low"}}}}}}"#;

const NORMAL_PATH: &str = "/ofrep/v1/evaluate/flags/rate";
const NORMAL_BODY: &str = r#"{"context": {"targetingKey": "u1"}}"#;

fn normal_answer() -> Value {
    json!({"key": "rate", "value": 1.0, "variant": "low", "reason": "STATIC", "metadata": {}})
}

/// A file with `n` errors (each flag names a variant it does not have).
fn with_errors(n: usize) -> String {
    let flags: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#""f{i}": {{"variants": {{"a": true}}, "off": "a", "environments": {{"dev": {{"enabled": true, "default": {{"variant": "nope"}}}}}}}}"#
            )
        })
        .collect();
    format!(r#"{{"version": 1, "environments": ["dev"], "flags": {{{}}}}}"#, flags.join(","))
}

fn skip_root_tests() -> bool {
    if std::env::var_os("BURGEE_SKIP_ROOT_TESTS").is_some_and(|v| v == "1") {
        eprintln!("skipped: BURGEE_SKIP_ROOT_TESTS=1");
        return true;
    }
    false
}

// ---------------------------------------------------------------------------
// Bodies of every shape

/// The body shapes an attacker picks to make a small body cost a lot, each
/// about `size` bytes, and one that is accepted (the most a body may cost).
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// `"x0": [[[[[[[[1]]]]]]]], "x1": …` (the issue's reproduction).
    Nested,
    /// `[1,1,1,…]`
    WideArray,
    /// `{"k0": 1, "k1": 1, …}`
    ManyKeys,
    /// One string as long as the body.
    LongString,
    /// Just under the value limit, with long keys: accepted.
    MostValuesAllowed,
}

const SHAPES: [Shape; 5] =
    [Shape::Nested, Shape::WideArray, Shape::ManyKeys, Shape::LongString, Shape::MostValuesAllowed];

fn body_of(shape: Shape, size: usize) -> Vec<u8> {
    let mut items = Vec::new();
    let mut len = 0;
    let mut push = |s: String, items: &mut Vec<String>| {
        len += s.len() + 1;
        items.push(s);
        len < size - 64
    };
    let context = match shape {
        Shape::Nested => {
            let mut i = 0;
            while push(format!(r#""x{i}": [[[[[[[[1]]]]]]]]"#), &mut items) {
                i += 1;
            }
            format!("{{{}}}", items.join(","))
        }
        Shape::WideArray => {
            while push("1".into(), &mut items) {}
            format!(r#"{{"x": [{}]}}"#, items.join(","))
        }
        Shape::ManyKeys => {
            let mut i = 0;
            while push(format!(r#""k{i}":1"#), &mut items) {
                i += 1;
            }
            format!("{{{}}}", items.join(","))
        }
        Shape::LongString => format!(r#"{{"targetingKey": "u1", "s": "{}"}}"#, "x".repeat(size - 64)),
        Shape::MostValuesAllowed => {
            // Each item is `"KEY":1,`: the key and 5 bytes.
            let width = (size - 256) / 9_900 - 5;
            for i in 0..9_900 {
                items.push(format!(r#""{i:0>width$}":1"#));
            }
            format!("{{{}}}", items.join(","))
        }
    };
    let body = format!(r#"{{"context": {context}}}"#).into_bytes();
    assert!(body.len() <= BODY_LIMIT, "{shape:?}: {} bytes", body.len());
    body
}

/// What each shape is answered.
fn expected_status(shape: Shape) -> u16 {
    match shape {
        Shape::Nested | Shape::WideArray | Shape::ManyKeys => 400,
        Shape::LongString | Shape::MostValuesAllowed => 200,
    }
}

/// POST `body` on a connection of its own; the status, or the error.
fn post_raw(addr: &str, path: &str, body: &[u8]) -> Result<(u16, String), String> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let (text, _) = exchange(addr, &request, WAIT * 3).map_err(|e| e.to_string())?;
    let status = status_of(&text).ok_or_else(|| format!("no status: {text:?}"))?;
    Ok((status, text))
}

/// Peak resident memory (`VmHWM`, KiB) of `pid` while `work` runs, above
/// what it was resident before (the peak is reset first).
fn peak_above_idle_kib(pid: u32, work: impl FnOnce()) -> u64 {
    let field = |name: &str| -> u64 {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let idle = field("VmRSS:");
    work();
    field("VmHWM:").saturating_sub(idle)
}

fn start(args: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flags.json");
    fs::write(&file, FLAGS).unwrap();
    (Server::spawn(serve_command(&file, args), WAIT), dir)
}

fn assert_serves(server: &Server) {
    let r = Reply::from(agent().post(server.url(NORMAL_PATH)).send(NORMAL_BODY));
    assert_eq!((r.status, r.json()), (200, normal_answer()), "stderr:\n{}", server.log());
    assert!(!server.log().contains("panicked"), "stderr:\n{}", server.log());
}

#[test]
fn one_request_of_any_body_shape_costs_under_16_mib_above_idle() {
    let (server, _dir) = start(&[]);
    assert_serves(&server);
    let mut figures = Vec::new();
    for shape in SHAPES {
        let body = body_of(shape, BODY_LIMIT);
        let mut answer = None;
        let grown =
            peak_above_idle_kib(server.child.id(), || answer = Some(post_raw(&server.addr, NORMAL_PATH, &body)));
        let (status, text) = answer.unwrap().unwrap();
        assert_eq!(status, expected_status(shape), "{shape:?}: {text}");
        figures.push(format!("{shape:?} {} KiB → {status}, peak +{grown} KiB", body.len() / 1024));
        assert!(grown < 16 * 1024, "{shape:?}: the peak grew by {grown} KiB for one {} KiB body", body.len() / 1024);
    }
    println!("one 1 MiB body of each shape: {}", figures.join("; "));
    assert_serves(&server);
}

/// A memory cgroup (v1) of its own with a limit, removed on drop.
struct MemoryCgroup {
    path: PathBuf,
}

impl MemoryCgroup {
    fn new(name: &str, limit: u64) -> MemoryCgroup {
        let root = Path::new("/sys/fs/cgroup/memory");
        assert!(
            root.is_dir(),
            "no cgroup v1 memory controller at {} (BURGEE_SKIP_ROOT_TESTS=1 skips this test)",
            root.display()
        );
        let path = root.join(format!("{name}-{}", std::process::id()));
        let _ = fs::remove_dir(&path);
        fs::create_dir(&path).unwrap();
        fs::write(path.join("memory.limit_in_bytes"), limit.to_string()).unwrap();
        MemoryCgroup { path }
    }

    /// `cmd`, started inside the group.
    fn wrap(&self, cmd: &Command) -> Command {
        let mut inside = Command::new("sh");
        let procs = self.path.join("cgroup.procs");
        inside.arg("-c").arg(format!("echo $$ > {} && exec \"$0\" \"$@\"", procs.display()));
        inside.arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => inside.env(k, v),
                None => inside.env_remove(k),
            };
        }
        inside
    }

    fn read(&self, file: &str) -> String {
        fs::read_to_string(self.path.join(file)).unwrap_or_default()
    }

    /// The group's peak memory use, in MiB.
    fn peak_mib(&self) -> f64 {
        self.read("memory.max_usage_in_bytes").trim().parse::<f64>().unwrap_or(0.0) / f64::from(1 << 20)
    }

    /// How many processes the kernel killed for memory in the group.
    fn oom_kills(&self) -> u64 {
        self.read("memory.oom_control")
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let deadline = Instant::now() + WAIT;
        while fs::remove_dir(&self.path).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A sidecar inside a memory cgroup at the example's limit.
fn start_limited(name: &str, args: &[&str]) -> (Server, MemoryCgroup, tempfile::TempDir) {
    let group = MemoryCgroup::new(name, EXAMPLE_LIMIT);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flags.json");
    fs::write(&file, FLAGS).unwrap();
    let server = Server::spawn(group.wrap(&serve_command(&file, args)), WAIT);
    (server, group, dir)
}

#[test]
fn thirty_two_bodies_of_every_shape_at_once_in_a_64_mib_cgroup() {
    if skip_root_tests() {
        return;
    }
    let (mut server, group, _dir) = start_limited("burgee-32-bodies", &[]);
    assert_serves(&server);
    let bodies: Vec<Arc<Vec<u8>>> = SHAPES.iter().map(|&s| Arc::new(body_of(s, BODY_LIMIT))).collect();
    let start = Arc::new(std::sync::Barrier::new(32));
    let threads: Vec<_> = (0..32)
        .map(|i| {
            let (addr, start) = (server.addr.clone(), start.clone());
            let (shape, body) = (SHAPES[i % SHAPES.len()], bodies[i % SHAPES.len()].clone());
            std::thread::spawn(move || {
                start.wait();
                (shape, post_raw(&addr, NORMAL_PATH, &body))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in threads {
        let (shape, answer) = t.join().unwrap();
        match answer {
            // Refused for its shape, answered, or told to come back: all fine.
            Ok((status, text)) => {
                assert!(status == expected_status(shape) || status == 503, "{shape:?}: {status} {text}");
                answers.push(status);
            }
            Err(e) => panic!("{shape:?}: no answer ({e}); stderr:\n{}", server.log()),
        }
    }
    assert!(server.wait_exit(Duration::ZERO).is_none(), "the sidecar died; stderr:\n{}", server.log());
    assert_eq!(group.oom_kills(), 0);
    assert_serves(&server);
    println!(
        "32 bodies of 1 MiB at once in a 64 MiB cgroup: answers {answers:?}; the group's peak {:.1} MiB",
        group.peak_mib()
    );
    let status = server.stop("TERM", WAIT);
    assert!(status.success(), "{status}");
}

// ---------------------------------------------------------------------------
// Time per request

/// Send `head` (and nothing after it) and read what comes back, with the
/// time it took; the connection must be closed by the server.
fn send_and_wait(addr: &str, head: &str) -> (String, Duration) {
    exchange(addr, head.as_bytes(), WAIT).unwrap_or_else(|e| panic!("not closed by the server: {e}"))
}

#[test]
fn a_body_that_never_finishes_gets_408_and_its_connection_closed() {
    let (server, _dir) = start(&["--body-read-timeout", "1s"]);
    let a = &server.addr;
    let heads = [
        ("plain", format!("POST {NORMAL_PATH} HTTP/1.1\r\nHost: {a}\r\nContent-Length: 100\r\n\r\n{{\"context\"")),
        (
            "chunked",
            format!("POST {NORMAL_PATH} HTTP/1.1\r\nHost: {a}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{{\"con\r\n"),
        ),
        (
            "100-continue",
            format!("POST {NORMAL_PATH} HTTP/1.1\r\nHost: {a}\r\nContent-Length: 30\r\nExpect: 100-continue\r\n\r\n"),
        ),
    ];
    for (what, head) in heads {
        let (answer, took) = send_and_wait(a, &head);
        let status_line = answer.lines().find(|l| l.starts_with("HTTP/1.1 4")).unwrap_or("");
        assert!(status_line.starts_with("HTTP/1.1 408"), "{what}: {answer:?}");
        assert!(answer.contains(r#""errorDetails":"the request body did not arrive in time""#), "{what}: {answer}");
        assert!(took < Duration::from_secs(4), "{what}: took {took:?}");
    }
    assert_serves(&server);
}

#[test]
fn past_max_streams_event_streams_get_503_and_every_other_client_is_served() {
    let (server, _dir) = start(&["--max-streams", "5"]);
    let open = |addr: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.write_all(format!("GET /v1/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        (s, String::from_utf8_lossy(&head).into_owned())
    };
    let mut streams: Vec<TcpStream> = (0..5)
        .map(|_| {
            let (s, head) = open(&server.addr);
            assert_eq!(head, "HTTP/1.1 200");
            s
        })
        .collect();
    let refused = Reply::from(agent().get(server.url("/v1/events")).call());
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(refused.json()["errorDetails"], "too many event streams are open; try again later");
    assert_eq!(Reply::from(agent().get(server.url("/healthz")).call()).status, 200);
    assert_serves(&server);
    // A slot comes back when a stream's client goes away.
    drop(streams.pop());
    poll_until("a stream slot to come back", WAIT, Duration::from_millis(50), || {
        let (s, head) = open(&server.addr);
        (head == "HTTP/1.1 200").then_some(s)
    });
}

#[test]
fn streams_that_do_not_read_are_closed_and_cost_bounded_memory() {
    let (server, dir) = start(&["--write-timeout", "2s"]);
    let file = dir.path().join("flags.json");
    // A reader that keeps up, to see what one event carries.
    let reader = agent().get(server.url("/v1/events")).call().unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut body = reader.into_body().into_reader();
        let mut buf = [0u8; 65536];
        while let Ok(n) = body.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    // 300 clients that open a stream and never read it, with small receive buffers.
    let unread: Vec<TcpStream> = (0..300)
        .map(|_| {
            let s = TcpStream::connect(&server.addr).unwrap();
            socket2::SockRef::from(&s).set_recv_buffer_size(4096).unwrap();
            (&s).write_all(format!("GET /v1/events HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes()).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = server.rss_kib();
    // Rejected files with 2,000 errors each, and accepted ones between them.
    let big = with_errors(2_000);
    let mut peak = before;
    for i in 0..100 {
        let text = if i % 2 == 0 { big.clone() } else { marked(f64::from(i)) };
        let tmp = dir.path().join(".next");
        fs::write(&tmp, &text).unwrap();
        fs::rename(&tmp, &file).unwrap();
        std::thread::sleep(Duration::from_millis(120));
        peak = peak.max(server.rss_kib());
    }
    let grown = peak.saturating_sub(before);
    println!("300 unread streams, 100 reloads (50 rejected with 2,000 errors): resident memory +{grown} KiB at most");
    assert!(grown < 32 * 1024, "resident memory grew by {grown} KiB");
    // One event carries the first 100 errors and their count.
    let text = poll_until("a reload_failed event", WAIT, Duration::from_millis(50), || {
        let text = seen.lock().unwrap().clone();
        text.contains("event: reload_failed").then_some(text)
    });
    let data = text.split("event: reload_failed\ndata: ").nth(1).unwrap().lines().next().unwrap();
    let event: Value = serde_json::from_str(data).unwrap();
    assert_eq!(event["count"], 2_000);
    assert_eq!(event["errors"].as_array().unwrap().len(), 100);
    // The clients that never read are cut off once writes to them stay stuck.
    let closed = poll_until("the unread streams to be closed", WAIT * 2, Duration::from_millis(200), || {
        let open = fs::read_dir(format!("/proc/{}/fd", server.child.id())).unwrap().count();
        (open < 100).then_some(open)
    });
    println!("file descriptors of the sidecar once the unread streams were cut off: {closed}");
    drop(unread);
    save(&file, FLAGS);
    wait_served(&server, "\"value\":1.0");
    assert_serves(&server);
}

// ---------------------------------------------------------------------------
// Hostile files

/// Replace the served file with `text` by rename, as an editor saves.
fn save(file: &Path, text: &str) {
    let tmp = file.with_extension("tmp");
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, file).unwrap();
}

fn status_json(server: &Server) -> Value {
    Reply::from(agent().get(server.url("/v1/status")).call()).json()
}

fn readyz(server: &Server) -> Value {
    Reply::from(agent().get(server.url("/readyz")).call()).json()
}

/// Wait until `/readyz` says degraded with an error whose message contains `needle`.
fn wait_degraded(server: &Server, needle: &str) -> Value {
    poll_until(&format!("/readyz degraded with `{needle}`"), WAIT, Duration::from_millis(50), || {
        let r = readyz(server);
        let matches = r["status"] == "degraded"
            && r["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["message"].as_str().unwrap_or("").contains(needle));
        matches.then_some(r)
    })
}

/// Wait until the served file is `marker`'s version (a description on `rate`).
fn wait_served(server: &Server, marker: &str) {
    poll_until(&format!("version `{marker}` to be served"), WAIT, Duration::from_millis(50), || {
        (readyz(server)["status"] == "ready").then_some(())?;
        let flags = Reply::from(agent().get(server.url("/v1/flags/rate")).call());
        flags.text.contains(marker).then_some(())
    });
}

/// [`FLAGS`] serving a different value, so a test sees which is served.
fn marked(value: f64) -> String {
    FLAGS.replace("\"low\": 1.0", &format!("\"low\": {value:?}"))
}

#[test]
fn a_fifo_in_place_of_the_file_is_rejected_without_blocking_and_later_saves_are_served() {
    let (mut server, dir) = start(&[]);
    let file = dir.path().join("flags.json");
    fs::remove_file(&file).unwrap();
    assert!(Command::new("mkfifo").arg(&file).status().unwrap().success());
    let r = wait_degraded(&server, "the flags file is a FIFO, not a regular file");
    assert_eq!(r["version"], status_json(&server)["version"]);
    assert_serves(&server);
    // A save after it is seen (the reloader is not stuck on the FIFO).
    fs::remove_file(&file).unwrap();
    save(&file, &marked(7.5));
    wait_served(&server, "7.5");
    // A directory in its place, too.
    fs::remove_file(&file).unwrap();
    fs::create_dir(&file).unwrap();
    wait_degraded(&server, "the flags file is a directory, not a regular file");
    fs::remove_dir(&file).unwrap();
    save(&file, &marked(8.5));
    wait_served(&server, "8.5");
    // And it still shuts down promptly with a FIFO there.
    fs::remove_file(&file).unwrap();
    assert!(Command::new("mkfifo").arg(&file).status().unwrap().success());
    wait_degraded(&server, "FIFO");
    let status = server.stop("TERM", WAIT);
    assert!(status.success(), "{status}");
}

#[test]
fn a_file_over_max_file_size_is_rejected_unread() {
    let (server, dir) = start(&["--max-file-size", "1MiB"]);
    let file = dir.path().join("flags.json");
    let before = server.rss_kib();
    // A 2 GB sparse file: nothing on disk, two gigabytes to a reader.
    let tmp = dir.path().join("big.tmp");
    let f = fs::File::create(&tmp).unwrap();
    f.set_len(2 << 30).unwrap();
    drop(f);
    fs::rename(&tmp, &file).unwrap();
    wait_degraded(&server, "the flags file is 2147483648 bytes, over the limit of 1048576 (--max-file-size)");
    let grown = server.rss_kib().saturating_sub(before);
    assert!(grown < 8 * 1024, "resident memory grew by {grown} KiB");
    assert_serves(&server);
    save(&file, &marked(3.5));
    wait_served(&server, "3.5");
}

#[test]
fn a_deleted_and_recreated_directory_is_watched_again() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("flags");
    fs::create_dir(&dir).unwrap();
    let file = dir.join("flags.json");
    fs::write(&file, FLAGS).unwrap();
    let server = Server::spawn(serve_command(&file, &[]), WAIT);
    fs::remove_dir_all(&dir).unwrap();
    wait_degraded(&server, "cannot read the flags file");
    assert_serves(&server);
    fs::create_dir(&dir).unwrap();
    save(&file, &marked(4.5));
    wait_served(&server, "4.5");
    // And saves into the new directory keep being seen.
    save(&file, &marked(5.5));
    wait_served(&server, "5.5");
}

// ---------------------------------------------------------------------------
// Logs and signals

/// `serve` with stdout and stderr piped, once it has printed its address:
/// the process, its address, its stderr's read end (for the test to close
/// or leave unread), and the directory of its file.
fn spawn_with_stderr(args: &[&str]) -> (std::process::Child, String, std::process::ChildStderr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flags.json");
    fs::write(&file, FLAGS).unwrap();
    let mut child =
        serve_command(&file, args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let addr = line.trim_end().strip_prefix(LISTENING).unwrap_or_else(|| panic!("{line:?}")).to_owned();
    (child, addr, stderr, dir)
}

/// `burgee_log_lines_dropped_total` from `/metrics`.
fn log_lines_dropped(addr: &str) -> u64 {
    let metrics = Reply::from(agent().get(format!("http://{addr}/metrics")).call()).text;
    let line = metrics.lines().find_map(|l| l.strip_prefix("burgee_log_lines_dropped_total "));
    line.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{metrics}"))
}

/// SIGTERM, and the exit status within [`WAIT`].
fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    poll_until("the sidecar to exit", WAIT, Duration::from_millis(20), || child.try_wait().unwrap())
}

#[test]
fn a_closed_stderr_stops_neither_start_up_nor_reloads_nor_shutdown() {
    // The log shipper dies before the server has said anything (stdout
    // still carries the address; the first log line came before it).
    let (mut child, addr, stderr, dir) = spawn_with_stderr(&["--log-level", "debug"]);
    drop(stderr);
    let file = dir.path().join("flags.json");
    let url = |path: &str| format!("http://{addr}{path}");
    // Reloads go on: a rejected file, then an accepted one, each logged (and dropped).
    save(&file, "{ broken");
    poll_until("the broken file to be rejected", WAIT, Duration::from_millis(50), || {
        (Reply::from(agent().get(url("/readyz")).call()).json()["status"] == "degraded").then_some(())
    });
    save(&file, &marked(6.5));
    poll_until("the new file to be served", WAIT, Duration::from_millis(50), || {
        Reply::from(agent().get(url("/v1/flags/rate")).call()).text.contains("6.5").then_some(())
    });
    assert!(log_lines_dropped(&addr) > 0);
    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status} (101 would be a panic)");
}

#[test]
fn a_full_stderr_drops_log_lines_and_answers_go_on() {
    // stderr is a pipe nobody reads: it fills after 64 KiB of log lines.
    let (mut child, addr, _stderr_never_read, dir) = spawn_with_stderr(&["--log-level", "debug"]);
    let file = dir.path().join("flags.json");
    let url = |path: &str| format!("http://{addr}{path}");
    // Rejected files of 500 errors each: a log line per error.
    for i in 0..12 {
        save(&file, &with_errors(500 + i));
        std::thread::sleep(Duration::from_millis(100));
    }
    save(&file, &marked(9.5));
    poll_until("the last file to be served", WAIT, Duration::from_millis(50), || {
        Reply::from(agent().get(url("/v1/flags/rate")).call()).text.contains("9.5").then_some(())
    });
    assert!(log_lines_dropped(&addr) > 0);
    let status = terminate(&mut child);
    assert!(status.success(), "{status}");
}

#[test]
fn sighup_rereads_the_file_and_does_not_stop_the_server() {
    let (mut server, dir) = start(&["--log-level", "info"]);
    let file = dir.path().join("flags.json");
    server.signal("HUP");
    poll_until("the SIGHUP to be logged", WAIT, Duration::from_millis(50), || {
        server.log().contains("SIGHUP: re-reading the flags file").then_some(())
    });
    assert!(server.wait_exit(Duration::from_millis(200)).is_none(), "SIGHUP stopped it:\n{}", server.log());
    assert_serves(&server);
    save(&file, &marked(2.25));
    wait_served(&server, "2.25");
    let status = server.stop("TERM", WAIT);
    assert!(status.success(), "{status}");
}

// ---------------------------------------------------------------------------
// DNS rebinding and the token

/// Send a request with exactly these header lines; the status line and body.
fn raw_request(addr: &str, request_line: &str, headers: &[&str]) -> (String, String) {
    let mut text = format!("{request_line}\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str("Connection: close\r\n\r\n");
    let (answer, _) = exchange(addr, text.as_bytes(), WAIT).unwrap();
    let (head, body) = head_and_body(&answer);
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[test]
fn a_rebound_dns_name_gets_421_and_a_request_without_host_400() {
    let (server, _dir) = start(&["--allowed-host", "flags.internal"]);
    let a = &server.addr;
    for path in ["/v1/flags/rate", "/v1/status", "/metrics", "/readyz", "/v1/events"] {
        let (status, body) = raw_request(a, &format!("GET {path} HTTP/1.1"), &["Host: attacker.example:8016"]);
        assert!(status.starts_with("HTTP/1.1 421"), "{path}: {status}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert!(body["errorDetails"].as_str().unwrap().contains("is not a loopback name or an --allowed-host"));
    }
    let (status, _) =
        raw_request(a, "POST /ofrep/v1/evaluate/flags/rate HTTP/1.1", &["Host: 127.0.0.1.nip.io", "Content-Length: 0"]);
    assert!(status.starts_with("HTTP/1.1 421"), "{status}");
    let (status, _) = raw_request(a, "GET /v1/flags/rate HTTP/1.1", &[]);
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    let (status, _) = raw_request(a, "GET /v1/flags/rate HTTP/1.0", &[]);
    assert!(status.starts_with("HTTP/1.1 400") || status.starts_with("HTTP/1.0 400"), "{status}");
    for host in ["localhost:8016", "127.0.0.1", "[::1]:8016", "app.localhost", "flags.internal:8016"] {
        let (status, _) = raw_request(a, "GET /v1/flags/rate HTTP/1.1", &[&format!("Host: {host}")]);
        assert!(status.starts_with("HTTP/1.1 200"), "{host}: {status}");
    }
    let r = Reply::from(agent().get(server.url("/v1/flags/rate")).call());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_serves(&server);
}

#[test]
fn with_a_token_the_scheme_is_matched_in_any_case_and_preflights_need_it() {
    let (server, _dir) = start(&["--token", "s3cret", "--cors-origin", "https://app.example"]);
    let a = &server.addr;
    let (status, _) =
        raw_request(a, "GET /v1/flags/rate HTTP/1.1", &["Host: flags.example", "Authorization: bearer s3cret"]);
    assert!(status.starts_with("HTTP/1.1 200"), "lower-case scheme: {status}");
    let (status, _) =
        raw_request(a, "GET /v1/flags/rate HTTP/1.1", &["Host: flags.example", "Authorization: BEARER s3cret"]);
    assert!(status.starts_with("HTTP/1.1 200"), "upper-case scheme: {status}");
    let preflight = ["Host: localhost", "Origin: https://app.example", "Access-Control-Request-Method: POST"];
    let (status, _) = raw_request(a, "OPTIONS /ofrep/v1/evaluate/flags HTTP/1.1", &preflight);
    assert!(status.starts_with("HTTP/1.1 401"), "OPTIONS without the token: {status}");
    let mut with_token = preflight.to_vec();
    with_token.push("Authorization: Bearer s3cret");
    let (status, _) = raw_request(a, "OPTIONS /ofrep/v1/evaluate/flags HTTP/1.1", &with_token);
    assert!(status.starts_with("HTTP/1.1 204"), "OPTIONS with the token: {status}");
}

// ---------------------------------------------------------------------------
// A probe as the kubelet makes it

/// A network namespace with a veth pair: `10.213.N.1` outside, `10.213.N.2`
/// inside; removed on drop.
struct Namespace {
    name: String,
    outside: String,
}

impl Namespace {
    fn new(n: u8) -> Namespace {
        let name = format!("burgee-test-{}", std::process::id());
        let (outside, inside) =
            (format!("bg{}o{n}", std::process::id() % 10_000), format!("bg{}i{n}", std::process::id() % 10_000));
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().unwrap_or_else(|e| panic!("ip {args:?}: {e}"));
            assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ns = Namespace { name: name.clone(), outside: outside.clone() };
        ip(&["netns", "add", &name]);
        ip(&["link", "add", &outside, "type", "veth", "peer", "name", &inside]);
        ip(&["link", "set", &inside, "netns", &name]);
        ip(&["addr", "add", &format!("10.213.{n}.1/30"), "dev", &outside]);
        ip(&["link", "set", &outside, "up"]);
        ip(&["netns", "exec", &name, "ip", "addr", "add", &format!("10.213.{n}.2/30"), "dev", &inside]);
        ip(&["netns", "exec", &name, "ip", "link", "set", &inside, "up"]);
        ip(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.outside]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

#[test]
fn the_health_listener_answers_a_probe_from_outside_the_pods_network_namespace() {
    if skip_root_tests() {
        return;
    }
    let ns = Namespace::new(7);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flags.json");
    fs::write(&file, FLAGS).unwrap();
    // As in the Kubernetes example: evaluations on the pod's loopback, health on every address.
    let inner = serve_command_on(&file, "127.0.0.1:8016", &["--health-listen", "0.0.0.0:8014"]);
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name]).arg(inner.get_program()).args(inner.get_args());
    cmd.env_remove("RUST_LOG").env_remove("BURGEE_TOKEN");
    let server = Server::spawn(cmd, WAIT);
    assert_eq!(server.addr, "127.0.0.1:8016");
    // The kubelet's view: the pod's address, from the node's namespace.
    let probe = |path: &str| {
        let url = format!("http://10.213.7.2:8014{path}");
        poll_until(&format!("{url} to answer"), WAIT, Duration::from_millis(50), || {
            agent().get(&url).call().ok().map(|mut r| (r.status().as_u16(), r.body_mut().read_to_string().unwrap()))
        })
    };
    let (status, body) = probe("/readyz");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "ready");
    assert_eq!(probe("/healthz").0, 200);
    let (status, metrics) = probe("/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("burgee_reloads_total"), "{metrics}");
    // Nothing else on the health port, and the evaluations are unreachable from outside.
    assert_eq!(probe("/v1/flags/rate").0, 404);
    assert_eq!(probe("/v1/status").0, 404);
    let outside = TcpStream::connect_timeout(&"10.213.7.2:8016".parse().unwrap(), Duration::from_secs(2));
    assert!(outside.is_err(), "the evaluation port answered from outside the namespace");
    // Inside the namespace, the app on loopback is served as before.
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "curl", "-s", "-X", "POST", "-d", NORMAL_BODY])
        .arg(format!("http://127.0.0.1:8016{NORMAL_PATH}"))
        .output()
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), normal_answer());
    drop(server);
}

// ---------------------------------------------------------------------------
// Everything at once, inside the example's memory limit

/// The `q`-th quantile of sorted `xs`.
fn quantile(xs: &[Duration], q: f64) -> Duration {
    xs[((xs.len() - 1) as f64 * q).round() as usize]
}

#[test]
fn well_behaved_clients_keep_their_answers_while_attackers_push_a_64_mib_sidecar() {
    if skip_root_tests() {
        return;
    }
    let (mut server, group, dir) =
        start_limited("burgee-fault", &["--body-read-timeout", "2s", "--write-timeout", "2s"]);
    let file = dir.path().join("flags.json");
    let addr = server.addr.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    // Bodies of every shape, eight clients in a loop.
    for i in 0..8 {
        let (addr, stop) = (addr.clone(), stop.clone());
        attackers.push(std::thread::spawn(move || {
            let body = body_of(SHAPES[i % SHAPES.len()], BODY_LIMIT);
            while !stop.load(Ordering::Relaxed) {
                let _ = post_raw(&addr, NORMAL_PATH, &body);
            }
        }));
    }
    // Bodies that never finish and streams that are never read, renewed as they are cut off.
    {
        let (addr, stop) = (addr.clone(), stop.clone());
        attackers.push(std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if held.len() > 400 {
                    held.drain(..200);
                }
                for _ in 0..20 {
                    if let Ok(mut s) = TcpStream::connect(&addr) {
                        let _ = s.write_all(
                            format!("POST {NORMAL_PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 900000\r\n\r\n{{")
                                .as_bytes(),
                        );
                        held.push(s);
                    }
                    if let Ok(mut s) = TcpStream::connect(&addr) {
                        let _ = s.write_all(format!("GET /v1/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes());
                        held.push(s);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
    }
    // Rejected files with many errors, and accepted ones, saved again and again.
    {
        let (file, stop) = (file.clone(), stop.clone());
        attackers.push(std::thread::spawn(move || {
            let bad = with_errors(2_000);
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                save(&file, if i % 2 == 0 { &bad } else { FLAGS });
                i += 1;
                std::thread::sleep(Duration::from_millis(150));
            }
        }));
    }
    // The well-behaved clients: a normal request every 10 ms each.
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let problems = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop, latencies, problems) =
                (server.url(NORMAL_PATH), stop.clone(), latencies.clone(), problems.clone());
            std::thread::spawn(move || {
                let agent = agent();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match agent.post(&url).send(NORMAL_BODY) {
                        Ok(mut r) if r.status() == 200 => {
                            let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
                            if v["value"] != 1.0 {
                                problems.lock().unwrap().push(format!("answer {v}"));
                            }
                            latencies.lock().unwrap().push(started.elapsed());
                        }
                        Ok(r) => problems.lock().unwrap().push(format!("status {}", r.status())),
                        Err(e) => problems.lock().unwrap().push(e.to_string()),
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(8));
    stop.store(true, Ordering::Relaxed);
    for t in clients {
        t.join().unwrap();
    }
    for t in attackers {
        t.join().unwrap();
    }
    assert!(server.wait_exit(Duration::ZERO).is_none(), "the sidecar died; stderr:\n{}", server.log());
    assert_eq!(group.oom_kills(), 0);
    let problems = problems.lock().unwrap().clone();
    assert!(problems.is_empty(), "well-behaved clients got: {problems:?}");
    let mut xs = latencies.lock().unwrap().clone();
    xs.sort();
    let (p50, p99, max) = (quantile(&xs, 0.5), quantile(&xs, 0.99), xs[xs.len() - 1]);
    println!(
        "under attack in a 64 MiB cgroup: {} answers to well-behaved clients, p50 {p50:?}, p99 {p99:?}, max {max:?}; the group's peak {:.1} MiB",
        xs.len(),
        group.peak_mib()
    );
    assert!(xs.len() > 100, "only {} answers", xs.len());
    assert!(p99 < Duration::from_millis(500), "p99 {p99:?}");
    save(&file, FLAGS);
    assert_serves(&server);
    let status = server.stop("TERM", WAIT);
    assert!(status.success(), "{status}");
}
