//! Soak test of `burgee-sidecar serve`: the real binary on its own loopback
//! port, several hundred concurrent keep-alive clients for
//! `BURGEE_SOAK_SECONDS` (default 30) while the flags file is replaced
//! [`CHANGES`] times, cycling through
//!
//! 1. a valid version written by rename (temporary file, then `rename`),
//! 2. a valid version written in place in two halves a few ms apart (the
//!    server may see, and must reject, the truncated half),
//! 3. a valid version by a Kubernetes ConfigMap swap (`flags.json ->
//!    ..data/flags.json`, `..data -> ..<timestamp>`, a new `..data` renamed
//!    over the old one; as the renames before it replace the `flags.json`
//!    symlink with a file, the layout is first restored with the content in
//!    service, which the server must see as unchanged),
//! 4. an invalid version (a schema error) written by rename.
//!
//! Meanwhile a hostile client keeps at it: bodies of 1 MiB shaped to cost
//! memory (deeply nested, very wide), each of which must get its `400`,
//! and event streams and bodies that are opened and never read or finished.
//!
//! Every version `N` has two flags `a` and `b` that both serve `"vN"` (the
//! invalid ones too, so accepting one would show), plus a few ordinary
//! flags. Clients alternate bulk and single OFREP evaluations.
//!
//! Pass: no connection error, no answer but 200; every bulk answer has
//! `a == b` (one version, never a mix), its version was written as valid and
//! before the answer came, and a client never sees an older version after a
//! newer one; the ordinary flags always have their values; after the last
//! change (an invalid one) the answers come from the last valid version; the
//! reload counts in `/v1/status` are exactly what was written; and the
//! sidecar's resident memory (`VmRSS`) at the end of the load is at most 10%
//! above what it was after the warm-up (the first [`WARMUP`] of load). When
//! it is over, jemalloc may simply not have returned freed pages yet: the
//! end figure is then polled for up to [`SETTLE`] after the clients stop, and
//! the lowest reading counts (a fall below the warm-up figure is no leak and
//! is not a failure).
//!
//! The changes are paced evenly over the load, and each one is waited for
//! (bounded) until it shows over HTTP, so every change is a reload of its
//! own under load and the reload counts are exact; if they take longer than
//! the pace (a debug build on 2 cores needs 31–35 s for the 200), the load
//! goes on until the last change is done.
//!
//! The totals are printed (`eprintln!`, so run with `--nocapture`) for the
//! README. Every wait is bounded; the clients stop by themselves (at the
//! latest two minutes after the planned end).
//!
//! Starting and stopping the server, the HTTP agent and the bounded waits
//! are `support.rs`'s, shared with `serve.rs` and `bad_input.rs`.

// A failed unwrap in a test is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;
use support::{Reply, Server, agent, poll_until, serve_command};

/// How many times the file is replaced.
const CHANGES: usize = 200;

/// How many clients (OS threads, each with its own keep-alive connection).
const CLIENTS: usize = 300;

/// The load before the reference memory reading.
const WARMUP: Duration = Duration::from_secs(5);

/// The longest the end memory reading is polled for, when it is over.
const SETTLE: Duration = Duration::from_secs(12);

/// The longest any condition is waited for (generous: the machine is loaded).
const WAIT: Duration = Duration::from_secs(10);

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(5);

/// Failure messages kept per client (all are counted).
const KEPT_FAILURES: usize = 5;

/// The ordinary flags' keys, besides `a` and `b`.
const ORDINARY: [&str; 3] = ["rate", "banner", "split"];

/// The load's duration: `BURGEE_SOAK_SECONDS`, default 30.
fn duration() -> Duration {
    let seconds = std::env::var("BURGEE_SOAK_SECONDS").ok().map(|s| {
        s.trim().parse::<u64>().unwrap_or_else(|_| panic!("BURGEE_SOAK_SECONDS must be whole seconds, not {s:?}"))
    });
    Duration::from_secs(seconds.unwrap_or(30).max(1))
}

/// Poll `check` until it gives a value; fail the test after [`WAIT`].
fn wait_until<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    poll_until(what, WAIT, POLL, check)
}

// ---------------------------------------------------------------------------
// The versions

/// How change `n` (1-based; version 0 is the file the server starts with) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A valid version, by rename.
    Rename,
    /// A valid version, in place, in two halves.
    Halves,
    /// A valid version, by a ConfigMap `..data` symlink swap.
    Swap,
    /// An invalid version, by rename.
    Invalid,
}

/// The cycle; it ends with an invalid version, so that the final check is
/// that a rejected last change leaves the last valid version serving.
const CYCLE: [Kind; 4] = [Kind::Rename, Kind::Halves, Kind::Swap, Kind::Invalid];

fn kind(n: usize) -> Kind {
    CYCLE[(n - 1) % CYCLE.len()]
}

/// Whether version `n` is written as a valid file.
fn is_valid(n: usize) -> bool {
    n == 0 || (n <= CHANGES && kind(n) != Kind::Invalid)
}

/// Version `n` of the file: `a` and `b` both serve `"vN"`; a float, a
/// disabled flag and a 50/50 split that never change. An invalid version
/// differs only by a schema error (`enabled` is a string).
fn version(n: usize, valid: bool) -> String {
    let marker = format!("v{n}");
    let pair = json!({"variants": {"x": marker, "y": "-"}, "off": "y",
        "environments": {"dev": {"enabled": true, "default": {"variant": "x"}}}});
    let enabled = if valid { json!(true) } else { json!("yes") };
    let file = json!({"version": 1, "environments": ["dev"], "flags": {
        "a": pair,
        "rate": {"variants": {"low": 1.0, "high": 2.5}, "off": "low",
            "environments": {"dev": {"enabled": enabled, "default": {"variant": "high"}}}},
        "banner": {"variants": {"on": true, "off": false}, "off": "off",
            "environments": {"dev": {"enabled": false, "default": {"variant": "on"}}}},
        "split": {"variants": {"a": "A", "b": "B"}, "off": "a",
            "environments": {"dev": {"enabled": true,
                "default": {"rollout": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}}}},
        "b": pair,
    }});
    serde_json::to_string_pretty(&file).unwrap()
}

/// `"vN"` → `N`.
fn marker(value: &Value) -> Option<usize> {
    value.as_str()?.strip_prefix('v')?.parse().ok()
}

// ---------------------------------------------------------------------------
// Writing the file

/// The served path, `DIR/flags.json`, and the ConfigMap layout beside it.
struct Files {
    dir: tempfile::TempDir,
    /// The `..<timestamp>` directory `..data` points to, if any.
    data_dir: Option<String>,
    swaps: usize,
}

impl Files {
    fn new(first: &str) -> Files {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("flags.json"), first).unwrap();
        Files { dir, data_dir: None, swaps: 0 }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn served(&self) -> PathBuf {
        self.path("flags.json")
    }

    /// Write the way editors do: a temporary file, renamed over.
    fn by_rename(&self, text: &str) {
        let tmp = self.path(".flags.json.tmp");
        fs::write(&tmp, text).unwrap();
        fs::rename(&tmp, self.served()).unwrap();
    }

    /// Truncate and write half, then the rest `gap` later.
    fn in_halves(&self, text: &str, gap: Duration) {
        let path = self.served();
        assert!(!path.is_symlink(), "an in-place write goes to a regular file");
        let mut f = fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap();
        let (first, rest) = text.as_bytes().split_at(text.len() / 2);
        f.write_all(first).unwrap();
        std::thread::sleep(gap);
        f.write_all(rest).unwrap();
    }

    /// What the kubelet does on a ConfigMap update: a new `..<timestamp>`
    /// directory, a `..data_tmp` symlink to it renamed over `..data`, the old
    /// directory removed.
    fn swap_data(&mut self, text: &str) {
        self.swaps += 1;
        let to = format!("..2026_11_23_{:04}", self.swaps);
        fs::create_dir(self.path(&to)).unwrap();
        fs::write(self.path(&format!("{to}/flags.json")), text).unwrap();
        symlink(&to, self.path("..data_tmp")).unwrap();
        fs::rename(self.path("..data_tmp"), self.path("..data")).unwrap();
        if let Some(old) = self.data_dir.replace(to) {
            fs::remove_dir_all(self.path(&old)).unwrap();
        }
    }

    /// Make `flags.json` the ConfigMap symlink `..data/flags.json`, with
    /// `..data` holding `current` (the content already served, so the server
    /// sees no change).
    fn link(&mut self, current: &str) {
        self.swap_data(current);
        let tmp = self.path(".flags.json.link");
        symlink("..data/flags.json", &tmp).unwrap();
        fs::rename(&tmp, self.served()).unwrap();
    }

    fn is_linked(&self) -> bool {
        self.served().is_symlink()
    }
}

// ---------------------------------------------------------------------------
// The server under test

/// A running `burgee-sidecar serve` (stopped on drop), and an agent to ask it.
struct Sidecar {
    server: Server,
    agent: ureq::Agent,
}

impl Sidecar {
    /// Serve `file` (debug log of reloads, as JSON) and wait until `/readyz` answers 200.
    fn start(file: &Path) -> Sidecar {
        let args = ["--log-format", "json", "--log-level", "burgee_sidecar=debug"];
        let s = Sidecar { server: Server::spawn(serve_command(file, &args), WAIT), agent: agent() };
        wait_until("/readyz to answer 200", || (s.get("/readyz").status == 200).then_some(()));
        s
    }

    fn get(&self, path: &str) -> Reply {
        Reply::from(self.agent.get(self.server.url(path)).call())
    }

    fn post(&self, path: &str, body: &str) -> Reply {
        Reply::from(self.agent.post(self.server.url(path)).header("Content-Type", "application/json").send(body))
    }

    /// The version served as `a` (single evaluation).
    fn served(&self) -> Option<usize> {
        let r = self.post("/ofrep/v1/evaluate/flags/a", r#"{"context": {"targetingKey": "watcher"}}"#);
        assert_eq!(r.status, 200, "{}", r.text);
        marker(&r.json()["value"])
    }

    fn status(&self) -> Value {
        let r = self.get("/v1/status");
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    /// `(accepted, rejected)` from `/v1/status`.
    fn reloads(&self) -> (u64, u64) {
        let r = &self.status()["reloads"];
        (r["accepted"].as_u64().unwrap(), r["rejected"].as_u64().unwrap())
    }

    /// How many times the debug log says a reload found `outcome`.
    fn reload_outcomes(&self, outcome: &str) -> usize {
        self.server
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == "reload" && v["outcome"] == outcome)
            .count()
    }
}

// ---------------------------------------------------------------------------
// The clients

/// What one client saw.
#[derive(Default)]
struct Report {
    bulk: usize,
    single: usize,
    failures: usize,
    kept: Vec<String>,
    /// The newest version seen.
    newest: usize,
}

impl Report {
    fn fail(&mut self, what: String) {
        self.failures += 1;
        if self.kept.len() < KEPT_FAILURES {
            self.kept.push(what);
        }
    }
}

/// The shared state the clients check against.
struct Shared {
    bulk_url: String,
    single_url: String,
    stop: AtomicBool,
    /// The newest valid version whose write has begun.
    written: AtomicUsize,
    /// The hard bound on the clients' run, whatever happens to the writer.
    until: Instant,
}

/// Tells the clients to stop when dropped, so that a failed assertion in
/// the writer stops the load too.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
    }
}

/// Check one version seen by client `report` against what was written.
fn check_version(report: &mut Report, shared: &Shared, n: usize, text: &str) {
    let written = shared.written.load(Ordering::SeqCst);
    if !is_valid(n) {
        report.fail(format!("version {n} was written as invalid: {text}"));
    } else if n > written {
        report.fail(format!("version {n} served before it was written (newest written: {written}): {text}"));
    } else if n < report.newest {
        report.fail(format!("version {n} served after version {}: {text}", report.newest));
    }
    report.newest = report.newest.max(n);
}

/// Check a bulk answer: one version, the ordinary flags unchanged, the same split for this client.
fn check_bulk(report: &mut Report, shared: &Shared, split: &mut Option<Value>, v: &Value, text: &str) {
    let Some(flags) = v["flags"].as_array() else {
        return report.fail(format!("bulk without flags: {text}"));
    };
    let keys: BTreeSet<&str> = flags.iter().filter_map(|f| f["key"].as_str()).collect();
    let expected: BTreeSet<&str> = ["a", "b"].into_iter().chain(ORDINARY).collect();
    if keys != expected || flags.len() != expected.len() {
        return report.fail(format!("bulk flags are not {expected:?}: {text}"));
    }
    let flag = |k: &str| flags.iter().find(|f| f["key"] == k).unwrap();
    let (a, b) = (flag("a"), flag("b"));
    match (marker(&a["value"]), marker(&b["value"])) {
        (Some(na), Some(nb)) if na == nb => check_version(report, shared, na, text),
        _ => report.fail(format!("a and b from different versions: {text}")),
    }
    let rate = flag("rate");
    let banner = flag("banner");
    let this_split = flag("split");
    if rate["value"] != json!(2.5) || rate["reason"] != "STATIC" {
        report.fail(format!("rate: {text}"));
    }
    if banner["value"] != json!(false) || banner["reason"] != "DISABLED" {
        report.fail(format!("banner: {text}"));
    }
    if this_split["reason"] != "SPLIT" || !matches!(this_split["value"].as_str(), Some("A" | "B")) {
        report.fail(format!("split: {text}"));
    }
    match split {
        None => *split = Some(this_split["value"].clone()),
        Some(first) if *first != this_split["value"] => {
            report.fail(format!("split changed from {first} for the same context: {text}"));
        }
        Some(_) => {}
    }
}

/// Client `i`: alternate bulk and single evaluations until told to stop.
fn client(i: usize, shared: &Shared) -> Report {
    let agent = agent();
    let body = json!({"context": {"targetingKey": format!("user-{i}")}}).to_string();
    let mut report = Report::default();
    let mut split = None;
    let mut turn = i;
    while !shared.stop.load(Ordering::Relaxed) && Instant::now() < shared.until {
        turn += 1;
        let bulk = turn.is_multiple_of(2);
        let url = if bulk { &shared.bulk_url } else { &shared.single_url };
        if bulk {
            report.bulk += 1;
        } else {
            report.single += 1;
        }
        let mut r = match agent.post(url).header("Content-Type", "application/json").send(&body) {
            Ok(r) => r,
            Err(e) => {
                report.fail(format!("connection error: {e}"));
                continue;
            }
        };
        let status = r.status().as_u16();
        let has_etag = r.headers().contains_key("etag");
        let text = match r.body_mut().read_to_string() {
            Ok(t) => t,
            Err(e) => {
                report.fail(format!("{status}, then the body failed: {e}"));
                continue;
            }
        };
        if status != 200 {
            report.fail(format!("{status}: {text}"));
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            report.fail(format!("not JSON: {text:?}"));
            continue;
        };
        if bulk {
            if !has_etag {
                report.fail(format!("bulk without an ETag: {text}"));
            }
            check_bulk(&mut report, shared, &mut split, &v, &text);
        } else if v["key"] != "a" || v["reason"] != "STATIC" {
            report.fail(format!("single: {text}"));
        } else if let Some(n) = marker(&v["value"]) {
            check_version(&mut report, shared, n, &text);
        } else {
            report.fail(format!("single without a version: {text}"));
        }
    }
    report
}

// ---------------------------------------------------------------------------
// The test

#[test]
fn several_hundred_clients_during_200_file_changes_see_only_whole_accepted_versions() {
    let load = duration();
    let warmup = WARMUP.min(load / 2);
    let mut files = Files::new(&version(0, true));
    let s = Sidecar::start(&files.served());
    assert_eq!(s.served(), Some(0));
    assert_eq!(s.reloads(), (1, 0));

    let started = Instant::now();
    let shared = Arc::new(Shared {
        bulk_url: s.server.url("/ofrep/v1/evaluate/flags"),
        single_url: s.server.url("/ofrep/v1/evaluate/flags/a"),
        stop: AtomicBool::new(false),
        written: AtomicUsize::new(0),
        until: started + load + Duration::from_secs(120),
    });
    let clients: Vec<JoinHandle<Report>> = (0..CLIENTS)
        .map(|i| {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("client-{i}"))
                .stack_size(512 * 1024)
                .spawn(move || client(i, &shared))
                .unwrap()
        })
        .collect();
    let _stop_on_panic = StopOnDrop(shared.clone());
    let hostile = {
        let (shared, addr) = (shared.clone(), s.server.addr.clone());
        std::thread::spawn(move || hostile_client(&shared, &addr))
    };

    // The changes, spread over the load; each one is waited for (bounded), so
    // that every one is a real reload under load and the counts are exact.
    let mut rss_warm = None;
    let mut rss_peak = 0;
    let (mut halves_rejected, mut rejected_seen, mut current) = (0, 0, version(0, true));
    // How long each change took to show over HTTP, from the end of the write.
    let mut seen_after = Vec::with_capacity(CHANGES);
    let gaps = [Duration::from_millis(3), Duration::from_millis(20), Duration::from_millis(80)];
    for n in 1..=CHANGES {
        let text = version(n, is_valid(n));
        if is_valid(n) {
            shared.written.store(n, Ordering::SeqCst);
        }
        match kind(n) {
            Kind::Rename | Kind::Invalid => files.by_rename(&text),
            Kind::Halves => files.in_halves(&text, gaps[(n / CYCLE.len()) % gaps.len()]),
            Kind::Swap => {
                if !files.is_linked() {
                    // Back to the ConfigMap layout, with the content in service.
                    let looked = s.reload_outcomes("Unchanged");
                    files.link(&current);
                    wait_until(&format!("the server to look at the relinked file before {n}"), || {
                        (s.reload_outcomes("Unchanged") > looked).then_some(())
                    });
                }
                files.swap_data(&text);
            }
        }
        let written_at = Instant::now();
        if is_valid(n) {
            wait_until(&format!("version {n} ({:?}) to be served", kind(n)), || (s.served() == Some(n)).then_some(()));
            seen_after.push(written_at.elapsed());
            current = text;
            if kind(n) == Kind::Halves {
                let rejected = s.reloads().1;
                halves_rejected += usize::try_from(rejected - rejected_seen).unwrap();
                rejected_seen = rejected;
            }
        } else {
            rejected_seen = wait_until(&format!("version {n} to be rejected"), || {
                let rejected = s.reloads().1;
                (rejected > rejected_seen).then_some(rejected)
            });
            seen_after.push(written_at.elapsed());
        }
        let rss = s.server.rss_kib();
        rss_peak = rss_peak.max(rss);
        if rss_warm.is_none() && started.elapsed() >= warmup {
            rss_warm = Some(rss);
        }
        // Pace the changes over the load.
        let next = started + load * u32::try_from(n).unwrap() / u32::try_from(CHANGES).unwrap();
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let changes_took = started.elapsed();

    // The last change was invalid: the last valid version serves, in bulk too.
    let last_valid = (0..=CHANGES).rev().find(|n| is_valid(*n)).unwrap();
    assert_eq!(kind(CHANGES), Kind::Invalid);
    assert_eq!(s.served(), Some(last_valid));
    let r = s.post("/ofrep/v1/evaluate/flags", r#"{"context": {"targetingKey": "watcher"}}"#);
    assert_eq!(r.status, 200, "{}", r.text);
    let bulk = r.json();
    let values: Vec<&Value> = bulk["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"] == "a" || f["key"] == "b")
        .map(|f| &f["value"])
        .collect();
    assert_eq!(values, [&json!(format!("v{last_valid}")); 2], "{bulk}");
    let ready = s.get("/readyz").json();
    assert_eq!(ready["status"], json!("degraded"), "the newest file is rejected: {ready}");
    let error = &s.status()["lastReloadError"]["errors"];
    assert_eq!(error[0]["pointer"], json!("/flags/rate/environments/dev/enabled"), "for its schema error: {error}");
    assert_eq!(error.as_array().map(Vec::len), Some(1), "{error}");

    // Memory at the end of the load, still under load.
    let rss_warm = rss_warm.unwrap_or(rss_peak);
    let rss_end_loaded = s.server.rss_kib();
    let open_fds = fs::read_dir(format!("/proc/{}/fd", s.server.child.id())).unwrap().count();
    rss_peak = rss_peak.max(rss_end_loaded);

    shared.stop.store(true, Ordering::Relaxed);
    let load_took = started.elapsed();
    let reports: Vec<Report> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let (hostile_answered, hostile_wrong) = hostile.join().unwrap();

    // Over the bound: give jemalloc a bounded moment to return freed pages.
    let limit = rss_warm + rss_warm / 10;
    let mut rss_end = rss_end_loaded;
    let settle_started = Instant::now();
    while rss_end > limit && settle_started.elapsed() < SETTLE {
        std::thread::sleep(Duration::from_millis(250));
        rss_end = rss_end.min(s.server.rss_kib());
    }
    let settled = (rss_end != rss_end_loaded).then(|| settle_started.elapsed());

    let (accepted, rejected) = s.reloads();
    let (bulk_total, single_total) = reports.iter().fold((0, 0), |(b, sgl), r| (b + r.bulk, sgl + r.single));
    let requests = bulk_total + single_total;
    let failures: usize = reports.iter().map(|r| r.failures).sum();
    let examples: Vec<&String> = reports.iter().flat_map(|r| &r.kept).take(10).collect();
    let invalid = (1..=CHANGES).filter(|n| !is_valid(*n)).count();
    let valid_written = (1..=CHANGES).filter(|n| is_valid(*n)).count();
    let halves = (1..=CHANGES).filter(|n| kind(*n) == Kind::Halves).count();
    let connection_errors = s.server.log().lines().filter(|l| l.contains("connection ended with an error")).count();

    eprintln!(
        "soak: {CLIENTS} clients for {load_took:.1?} (BURGEE_SOAK_SECONDS={}), {CHANGES} changes in {changes_took:.1?}",
        load.as_secs()
    );
    eprintln!(
        "soak: {requests} requests ({bulk_total} bulk, {single_total} single), {:.0}/s, {failures} failed",
        requests as f64 / load_took.as_secs_f64()
    );
    eprintln!(
        "soak: changes: {valid_written} valid ({} by rename, {halves} in halves, {} by symlink swap), {invalid} invalid",
        (1..=CHANGES).filter(|n| kind(*n) == Kind::Rename).count(),
        (1..=CHANGES).filter(|n| kind(*n) == Kind::Swap).count(),
    );
    eprintln!(
        "soak: /v1/status reloads: {accepted} accepted (the first load included), {rejected} rejected \
         ({invalid} invalid versions + {halves_rejected} truncated halves seen)"
    );
    eprintln!(
        "soak: VmRSS: {rss_warm} KiB after {warmup:?} of load, {rss_end_loaded} KiB at the end under load, \
         {rss_end} KiB at the end{}, peak {rss_peak} KiB; end/warm-up {:.3}",
        settled.map(|d| format!(" after settling {d:.1?} without load")).unwrap_or_default(),
        rss_end as f64 / rss_warm as f64
    );
    let mean = seen_after.iter().sum::<Duration>() / u32::try_from(seen_after.len()).unwrap();
    let slowest = seen_after.iter().max().unwrap();
    eprintln!("soak: a change showed over HTTP after {mean:.0?} on average, {slowest:.0?} at most (debounce 50 ms)");
    eprintln!("soak: the sidecar had {open_fds} open file descriptors at the end of the load (keep-alive connections)");
    eprintln!("soak: server debug log: {connection_errors} connections ended with an error");
    eprintln!("soak: the hostile client got {hostile_answered} answers to shaped 1 MiB bodies");

    assert!(hostile_wrong.is_empty(), "hostile bodies answered wrongly: {hostile_wrong:?}");
    assert!(hostile_answered > 0, "the hostile client ran");

    assert!(failures == 0, "{failures} of {requests} answers failed, e.g.: {examples:#?}");
    assert!(requests >= CLIENTS * 10, "the load ran: {requests} requests");
    assert!(reports.iter().all(|r| r.bulk > 0 && r.single > 0), "every client made both kinds of request");
    assert_eq!(accepted, 1 + valid_written as u64, "one accepted reload per valid version, plus the first load");
    assert_eq!(rejected, (invalid + halves_rejected) as u64, "one rejected reload per invalid version or half seen");
    assert!(
        rss_end <= limit,
        "resident memory {rss_end} KiB at the end is over 110% of {rss_warm} KiB after warm-up (peak {rss_peak} KiB)"
    );
    assert!(!s.server.log().contains("panicked"), "stderr:\n{}", s.server.log());
}

/// Until the load stops: 1 MiB bodies nested 8 deep or 500,000 wide (each
/// must get `400`, or `503` when the server is busy with others), and every
/// second, a few event streams and bodies opened and left unread or
/// unfinished. The number of answers, and what was wrong.
fn hostile_client(shared: &Shared, addr: &str) -> (usize, Vec<String>) {
    use std::io::Read;
    let nested = format!(
        r#"{{"context": {{{}}}}}"#,
        (0..38_000).map(|i| format!(r#""x{i}":[[[[[[[[1]]]]]]]]"#)).collect::<Vec<_>>().join(",")
    );
    let wide = format!(r#"{{"context": {{"x": [{}]}}}}"#, vec!["1"; 500_000].join(","));
    let (mut answered, mut wrong, mut held) = (0, Vec::new(), Vec::new());
    let mut last_batch = Instant::now() - Duration::from_secs(1);
    while !shared.stop.load(Ordering::Relaxed) && Instant::now() < shared.until {
        for body in [&nested, &wide] {
            let Ok(mut c) = std::net::TcpStream::connect(addr) else { continue };
            let _ = c.set_read_timeout(Some(WAIT));
            let head = format!(
                "POST /ofrep/v1/evaluate/flags/a HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = c.write_all(head.as_bytes()).and_then(|()| c.write_all(body.as_bytes()));
            let mut out = String::new();
            let _ = c.read_to_string(&mut out);
            match out.get(9..12) {
                Some("400" | "503") => answered += 1,
                _ if wrong.len() < KEPT_FAILURES => wrong.push(out.chars().take(200).collect()),
                _ => {}
            }
        }
        if last_batch.elapsed() >= Duration::from_secs(1) {
            last_batch = Instant::now();
            if held.len() >= 100 {
                held.drain(..50);
            }
            for _ in 0..5 {
                if let Ok(mut c) = std::net::TcpStream::connect(addr) {
                    let _ = c.write_all(format!("GET /v1/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes());
                    held.push(c);
                }
                if let Ok(mut c) = std::net::TcpStream::connect(addr) {
                    let head = format!(
                        "POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 1000\r\n\r\n{{"
                    );
                    let _ = c.write_all(head.as_bytes());
                    held.push(c);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (answered, wrong)
}
