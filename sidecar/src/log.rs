//! Logging that cannot stop the server: log lines go through a bounded queue
//! to a thread of their own that writes them to stderr. A full stderr (the
//! log shipper stopped reading) fills the queue and further lines are
//! dropped; a closed one (the shipper died) fails each write and the line
//! is dropped. Either way answers and reloads go on, and `/metrics` counts
//! the lines dropped ([`dropped_lines`]).

use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};

/// How many lines may wait for stderr before new ones are dropped.
const QUEUE_LINES: usize = 4096;

/// Lines the writer thread could not write (stderr closed or failing).
static WRITE_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Lines dropped because the queue was full.
static QUEUE_FULL: OnceLock<ErrorCounter> = OnceLock::new();

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Stderr, where a failed write drops the line instead of failing.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match io::stderr().write_all(bytes) {
            Ok(()) => {}
            Err(_) => {
                WRITE_FAILURES.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = io::stderr().flush();
        Ok(())
    }
}

/// Keeps the log writer thread; dropping it writes out what is queued, for
/// up to [`FLUSH_WAIT`] (a stderr nobody reads must not keep the process
/// from exiting).
pub struct Guard(Option<WorkerGuard>);

/// How long, at exit, queued log lines may take to be written.
pub const FLUSH_WAIT: Duration = Duration::from_secs(2);

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(guard) = self.0.take() else { return };
        // The worker guard waits for the writer thread (and may itself
        // print to stderr): let a thread of its own wait, for a while.
        let (done, finished) = std::sync::mpsc::channel();
        let flushing = std::thread::Builder::new().name("burgee-log-flush".into()).spawn(move || {
            drop(guard);
            let _ = done.send(());
        });
        if flushing.is_ok() {
            let _ = finished.recv_timeout(FLUSH_WAIT);
        }
    }
}

/// Log to stderr at `level` (a filter such as `info` or
/// `burgee_sidecar=debug`; `RUST_LOG` wins when set). Keep the guard for as
/// long as the process logs.
pub fn init(format: Format, level: &str) -> Guard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUE_LINES)
        .thread_name("burgee-log")
        .finish(Stderr);
    let _ = QUEUE_FULL.set(writer.error_counter());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .log_internal_errors(false);
    match format {
        Format::Text => builder.init(),
        Format::Json => builder.json().flatten_event(true).init(),
    }
    Guard(Some(guard))
}

/// How many log lines were dropped since start (a full queue or a failing
/// stderr).
pub fn dropped_lines() -> u64 {
    let full = QUEUE_FULL.get().map_or(0, |c| c.dropped_lines() as u64);
    full + WRITE_FAILURES.load(Ordering::Relaxed)
}

/// Write a line to stdout or stderr for a person or a script to read,
/// ignoring a closed stream (where `println!` would panic).
pub fn say(to: Stream, line: &str) {
    let _ = match to {
        Stream::Stdout => writeln!(io::stdout().lock(), "{line}").and_then(|()| io::stdout().flush()),
        Stream::Stderr => writeln!(io::stderr().lock(), "{line}"),
    };
}

/// Where [`say`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}
