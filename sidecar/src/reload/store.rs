//! The store of the file in service: the last accepted version, swapped in
//! whole (so every request sees one version), and the outcome of the last
//! reload attempt (so a rejected file shows on `/readyz`, `/v1/status`,
//! `/metrics` and as an event, while the last good one keeps serving).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use burgee_rules::{Code, CompiledFile, Diagnostic};
use tokio::sync::broadcast;

use crate::metrics::{FlagCounters, Metrics};

/// One accepted version of the flags file, ready to evaluate.
pub struct Snapshot {
    /// The compiled file.
    pub compiled: CompiledFile,
    /// The version: a hash of the file's bytes, as hex.
    pub version: String,
    /// When it was accepted.
    pub loaded_at: SystemTime,
    /// Evaluation counters per flag (by flag index) and reason.
    pub counters: Vec<FlagCounters>,
}

/// Something the `/v1/events` stream tells subscribers.
#[derive(Debug, Clone)]
pub enum Event {
    /// A new version was accepted.
    ConfigurationChange {
        /// The new version.
        version: String,
    },
    /// A changed file was rejected; the old version keeps serving.
    ReloadFailed {
        /// The first [`EVENT_ERRORS`] problems.
        errors: Vec<Diagnostic>,
        /// How many problems there are in all.
        count: usize,
    },
}

/// At most this many of a rejected file's errors go into one event.
pub const EVENT_ERRORS: usize = 100;

/// How many events a subscriber may be behind before it is dropped
/// (`/v1/events` then ends the stream of a client that does not read).
pub const EVENT_BACKLOG: usize = 16;

/// The default `--max-file-size`: a bigger flags file is rejected unread.
pub const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// One event as sent to every subscriber: the event, and its wire form,
/// made once by the first stream that sends it and shared by the others (so
/// two thousand streams cost one copy of a big `reload_failed`).
#[derive(Debug)]
pub struct Published {
    /// The event.
    pub event: Event,
    /// Its encoding, filled by the first sender.
    pub encoded: OnceLock<bytes::Bytes>,
}

/// The last rejected file.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// When it was seen.
    pub at: SystemTime,
    /// Every problem.
    pub errors: Vec<Diagnostic>,
}

/// What a reload attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new version is in service.
    Accepted,
    /// The content is the version in service, or the one last rejected.
    Unchanged,
    /// The file was rejected; the last accepted version keeps serving.
    Rejected,
}

#[derive(Default)]
struct Attempts {
    /// Hash of the content in service.
    serving_hash: Option<u64>,
    /// Hash of the content last rejected (not retried until it changes).
    rejected_hash: Option<u64>,
    /// The newest file on disk is rejected (cleared by the next acceptance).
    rejection: Option<Rejection>,
    accepted: u64,
    rejected: u64,
}

/// The file in service and the reload history.
pub struct Store {
    path: PathBuf,
    environment: Option<String>,
    max_file_size: u64,
    current: ArcSwapOption<Snapshot>,
    attempts: Mutex<Attempts>,
    events: broadcast::Sender<Arc<Published>>,
    metrics: Arc<Metrics>,
}

/// What `/v1/status` and `/readyz` report about reloads.
pub struct ReloadStatus {
    /// The newest file's problems, when it was rejected.
    pub rejection: Option<Rejection>,
    /// Reloads accepted since start (including the first load).
    pub accepted: u64,
    /// Reloads rejected since start.
    pub rejected: u64,
}

impl Store {
    /// A store for the file at `path`. `environment`, when given, must exist
    /// in every accepted version.
    pub fn new(path: PathBuf, environment: Option<String>, metrics: Arc<Metrics>) -> Self {
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        Store {
            path,
            environment,
            max_file_size: MAX_FILE_SIZE,
            current: ArcSwapOption::empty(),
            attempts: Mutex::default(),
            events,
            metrics,
        }
    }

    /// Reject files bigger than `bytes` without reading them (default [`MAX_FILE_SIZE`]).
    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// The path being served.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment served when a request names none.
    pub fn configured_environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }

    /// The version in service, if any.
    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.load_full()
    }

    /// Subscribe to reload events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }

    /// The reload history.
    pub fn status(&self) -> ReloadStatus {
        let a = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        ReloadStatus { rejection: a.rejection.clone(), accepted: a.accepted, rejected: a.rejected }
    }

    /// Read the file and, if its content changed, load it: swap it in when
    /// valid, record and report every problem when not. Blocking (file I/O and
    /// compilation): run it off the request path.
    pub fn reload(&self) -> Outcome {
        // A version replaced earlier may have been dropped since by the last
        // request that held it (on a thread that does not purge).
        return_freed_pages();
        let bytes = match read_regular_file(&self.path, self.max_file_size) {
            Ok(b) => b,
            Err(message) => return self.reject(None, vec![Diagnostic::error(Code::Unreadable, "", message)]),
        };
        let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
        {
            let mut a = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
            if a.serving_hash == Some(hash) {
                // The file on disk is the one in service again (say, after a
                // delete and recreate): nothing to reload, nothing degraded.
                a.rejection = None;
                a.rejected_hash = None;
                return Outcome::Unchanged;
            }
            if a.rejected_hash == Some(hash) {
                return Outcome::Unchanged;
            }
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let message = format!("the flags file is not UTF-8 text (byte {})", e.utf8_error().valid_up_to());
                return self.reject(Some(hash), vec![Diagnostic::error(Code::Syntax, "", message)]);
            }
        };
        let compiled = parse_and_compile(text);
        // The model is freed (and, for a rejected file, the text too).
        return_freed_pages();
        let compiled = match compiled {
            Ok(c) => c,
            Err(diagnostics) => {
                return self.reject(Some(hash), diagnostics.into_iter().filter(Diagnostic::is_error).collect());
            }
        };
        if let Some(env) = &self.environment
            && compiled.environment(env).is_none()
        {
            let message = format!("the served environment `{env}` is not in the file's environments");
            return self
                .reject(Some(hash), vec![Diagnostic::error(Code::UnknownEnvironment, "/environments", message)]);
        }
        for w in compiled.warnings() {
            tracing::warn!(code = %w.code, pointer = %w.pointer, "{}", w.message);
        }
        let version = format!("{hash:016x}");
        let counters = self.metrics.flag_counters(&compiled);
        let snapshot = Snapshot { compiled, version: version.clone(), loaded_at: SystemTime::now(), counters };
        tracing::info!(
            version = %version,
            flags = snapshot.compiled.flag_count(),
            segments = snapshot.compiled.segment_count(),
            "flags file accepted"
        );
        self.current.store(Some(Arc::new(snapshot)));
        // The version replaced is freed here unless a request still holds it.
        return_freed_pages();
        {
            let mut a = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
            a.serving_hash = Some(hash);
            a.rejected_hash = None;
            a.rejection = None;
            a.accepted += 1;
        }
        self.metrics.reload_accepted();
        self.publish(Event::ConfigurationChange { version });
        Outcome::Accepted
    }

    fn publish(&self, event: Event) {
        let _ = self.events.send(Arc::new(Published { event, encoded: OnceLock::new() }));
    }
}

/// Hand the pages freed so far back to the system now rather than in
/// jemalloc's usual ten seconds: a reload of a big file frees its text, then
/// its model, then the version it replaces, and back-to-back reloads would
/// otherwise hold all of those at once (the peak of a reload, measured in
/// `bench/scale.sh`). Setting an arena's decay time purges its unused pages
/// at once (jemalloc's `arena.<i>.dirty_decay_ms` and `muzzy_decay_ms`); each
/// is set back as it was. Under another allocator (the library's tests)
/// nothing of theirs is touched.
fn return_freed_pages() {
    let Ok(arenas) = tikv_jemalloc_ctl::arenas::narenas::read() else { return };
    for arena in 0..arenas {
        drop(PagesReturnedAtOnce::in_arena(arena));
    }
}

/// While it lives, one jemalloc arena hands each page back to the system as
/// soon as nothing is left on it (decay times of zero); then the decay times
/// are set back as they were.
struct PagesReturnedAtOnce {
    /// Each decay setting changed, with its value before.
    changed: Vec<(String, isize)>,
}

impl PagesReturnedAtOnce {
    fn in_arena(arena: u32) -> Self {
        use tikv_jemalloc_ctl::{Access, AsName as _};
        let mut changed = Vec::new();
        for kind in ["dirty", "muzzy"] {
            let name = format!("arena.{arena}.{kind}_decay_ms\0");
            if let Ok(ms) = Access::<isize>::read(name.as_str().name())
                && ms > 0
                && name.as_str().name().write(0isize).is_ok()
            {
                changed.push((name, ms));
            }
        }
        PagesReturnedAtOnce { changed }
    }
}

impl Drop for PagesReturnedAtOnce {
    fn drop(&mut self) {
        use tikv_jemalloc_ctl::{Access as _, AsName as _};
        for (name, ms) in &self.changed {
            let _ = name.as_str().name().write(*ms);
        }
    }
}

/// The file's bytes, when it is a regular file of at most `max` bytes. It is
/// opened without blocking (a FIFO put in its place would otherwise wait for
/// a writer forever) and checked before it is read; a file that grows while
/// it is read is cut off past `max`, never read whole.
fn read_regular_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot read the flags file: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read the flags file: {e}"))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(format!("the flags file is {what}, not a regular file"));
    }
    let too_big = |n: u64| format!("the flags file is {n} bytes, over the limit of {max} (--max-file-size)");
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read the flags file: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The jemalloc arenas of reloads: one for reading files, two for the
/// compiled versions in turn. Kept apart, the model a reload reads leaves
/// whole pages behind when it is freed (no compiled file, no request's
/// memory lies among them), and a version in service never shares an arena
/// with the one replacing it, whose pages then go back when it is dropped.
struct ReloadArenas {
    read: u32,
    compiled: [u32; 2],
    /// How many compiles have started (which of the two is next).
    compiles: std::sync::atomic::AtomicUsize,
}

impl ReloadArenas {
    /// Made on first use; `None` under another allocator.
    fn get() -> Option<&'static ReloadArenas> {
        use tikv_jemalloc_ctl::{Access, AsName as _};
        static ARENAS: OnceLock<Option<ReloadArenas>> = OnceLock::new();
        ARENAS
            .get_or_init(|| {
                let create = || Access::<u32>::read(b"arenas.create\0".name()).ok();
                Some(ReloadArenas { read: create()?, compiled: [create()?, create()?], compiles: Default::default() })
            })
            .as_ref()
    }

    /// The arena for the next compile.
    fn next_compiled(&self) -> u32 {
        self.compiled[self.compiles.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2]
    }
}

/// While it lives, the calling thread allocates from `arena`; then from the
/// arena it had before.
struct InArena {
    before: Option<u32>,
}

impl InArena {
    fn bind(arena: u32) -> Self {
        use tikv_jemalloc_ctl::{Access, AsName as _};
        InArena { before: Access::<u32>::update(b"thread.arena\0".name(), arena).ok() }
    }
}

impl Drop for InArena {
    fn drop(&mut self) {
        use tikv_jemalloc_ctl::{Access as _, AsName as _};
        if let Some(before) = self.before {
            let _ = b"thread.arena\0".name().write(before);
        }
    }
}

/// Parse and validate here, compile on a thread of its own. The compiled file
/// is what stays in memory for as long as it serves; built in an arena of
/// its own ([`ReloadArenas`]), it is not scattered among the parse's
/// temporary allocations, so when those are freed their pages can go back
/// to the system whole. The model is freed flag by flag as the compile goes
/// ([`burgee_rules::compile::compile_owned_freeing`]): with the version in
/// service, the whole model and the whole new compiled form are never all
/// in memory at once.
fn parse_and_compile(text: String) -> Result<CompiledFile, Vec<Diagnostic>> {
    let arenas = ReloadArenas::get();
    let reading = arenas.map(|a| InArena::bind(a.read));
    let file = burgee_rules::read_joined(&text, &crate::files::OnTwoThreads)?;
    // The text is not needed past the parse: its memory goes back before
    // validation and compilation add theirs.
    drop(text);
    return_freed_pages();
    let diagnostics = burgee_rules::validate::validate(&file);
    // The model was read on this thread, into its arena: as the compile
    // frees it flag by flag, its pages go back at once, so the model and
    // the new compiled form do not both stay resident.
    let _model_pages = arenas.map(|a| PagesReturnedAtOnce::in_arena(a.read));
    let compiled_arena = arenas.map(ReloadArenas::next_compiled);
    let compiled = std::thread::scope(|scope| {
        // What the compile is done with comes back here to be freed, into
        // the model's arena and this thread's cache: the compile's own
        // allocations never reuse the model's freed pieces (which would
        // scatter the compiled file over the model's pages and keep them
        // resident), and it keeps its thread cache (its allocations stay fast).
        let (freed, to_free) = std::sync::mpsc::channel();
        let compile = std::thread::Builder::new()
            .name("burgee-compile".into())
            .spawn_scoped(scope, move || {
                let _arena = compiled_arena.map(InArena::bind);
                burgee_rules::compile::compile_owned_freeing(file, diagnostics, |settings| {
                    let _ = freed.send(settings);
                })
            })
            .map_err(|e| {
                vec![Diagnostic::error(burgee_rules::Code::Internal, "", format!("cannot start a thread: {e}"))]
            })?;
        // Until the compile ends (and drops its sender).
        to_free.into_iter().for_each(drop);
        compile.join().unwrap_or_else(|_| {
            Err(vec![Diagnostic::error(burgee_rules::Code::Internal, "", "compiling the file failed (a bug)")])
        })
    });
    drop(reading);
    compiled
}

impl Store {
    fn reject(&self, hash: Option<u64>, errors: Vec<Diagnostic>) -> Outcome {
        {
            let mut a = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
            if hash.is_none() && a.rejection.as_ref().is_some_and(|r| r.errors == errors) {
                // The file is still unreadable: already reported.
                return Outcome::Unchanged;
            }
            a.rejected_hash = hash;
            a.rejection = Some(Rejection { at: SystemTime::now(), errors: errors.clone() });
            a.rejected += 1;
        }
        for e in &errors {
            tracing::error!(code = %e.code, pointer = %e.pointer, "{}", e.message);
        }
        let serving = self.current().map(|s| s.version.clone());
        tracing::error!(
            errors = errors.len(),
            serving = serving.as_deref().unwrap_or("nothing"),
            "flags file rejected"
        );
        self.metrics.reload_rejected();
        let count = errors.len();
        let first = errors.into_iter().take(EVENT_ERRORS).collect();
        self.publish(Event::ReloadFailed { errors: first, count });
        Outcome::Rejected
    }
}
