//! `burgee-sidecar`: serves a flags file to apps over OFREP, and checks,
//! evaluates, formats and describes flags files from the command line.
//!
//! This file owns the command line, logging set-up and exit codes; the work
//! is in the `burgee_sidecar` library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use burgee_sidecar::{cli, log, serve};
use clap::{Parser, Subcommand, ValueEnum};

/// jemalloc hands the memory of a big file's parse back to the system after a
/// reload (glibc keeps it, fragmented), so idle memory tracks the file in service.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Burgee's flag sidecar and flags-file tool.
#[derive(Parser)]
#[command(name = "burgee-sidecar", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a flags file to apps over OFREP, reloading it when it changes.
    Serve {
        /// The flags file to serve.
        #[arg(long, short = 'f', value_name = "FILE")]
        file: PathBuf,
        /// Address and port to listen on; anything but loopback needs --token.
        #[arg(long, value_name = "ADDR:PORT", default_value = serve::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// The environment served when a request names none (default: the file's first).
        #[arg(long, short = 'e', value_name = "ENV")]
        environment: Option<String>,
        /// Require `Authorization: Bearer TOKEN` on every request but /healthz.
        #[arg(long, env = "BURGEE_TOKEN", hide_env_values = true, value_name = "TOKEN")]
        token: Option<String>,
        /// Send CORS headers to this origin (repeat for several; `*` for any).
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Without a token, also answer requests whose Host is NAME (repeat for several;
        /// loopback names always work); others get 421, against DNS rebinding.
        #[arg(long = "allowed-host", value_name = "NAME")]
        allowed_hosts: Vec<String>,
        /// Also serve /healthz, /readyz and /metrics (only those, no token) here, for
        /// orchestrators that probe from outside the pod, e.g. 0.0.0.0:8014.
        #[arg(long, value_name = "ADDR:PORT")]
        health_listen: Option<SocketAddr>,
        /// How many event streams may be open at once; past this, 503 with Retry-After.
        #[arg(long, value_name = "N", default_value_t = serve::app::MAX_STREAMS as u32,
              value_parser = clap::value_parser!(u32).range(1..))]
        max_streams: u32,
        /// A flags file bigger than this is rejected without being read, e.g. 64MiB.
        #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
        max_file_size: u64,
        /// Also re-read the file this often, e.g. `2s` (for filesystems without change events).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        poll_interval: Option<Duration>,
        /// Start even without a valid file; /readyz answers 503 until one appears.
        #[arg(long)]
        wait_for_file: bool,
        /// How many connections are served at once; past this, new ones wait to be accepted.
        #[arg(long, value_name = "N", default_value_t = serve::MAX_CONNECTIONS as u32,
              value_parser = clap::value_parser!(u32).range(1..))]
        max_connections: u32,
        /// How long a client may take to send its request headers (default 10 s; tests shorten it).
        #[arg(long, hide = true, value_name = "DURATION", value_parser = parse_duration)]
        header_read_timeout: Option<Duration>,
        /// How long the body may take after the headers (default 10 s; tests shorten it).
        #[arg(long, hide = true, value_name = "DURATION", value_parser = parse_duration)]
        body_read_timeout: Option<Duration>,
        /// How long a write to a client that does not read may stay pending before
        /// its connection is closed (default 30 s; tests shorten it).
        #[arg(long, hide = true, value_name = "DURATION", value_parser = parse_duration)]
        write_timeout: Option<Duration>,
        /// `text` for people, `json` for log shippers.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Log level or filter (`info`, `debug`, `burgee_sidecar=debug`); RUST_LOG also works.
        #[arg(long, value_name = "FILTER", default_value = "info")]
        log_level: String,
    },
    /// Check flags files: exit 0 when all are valid, 1 when any is not.
    Check {
        /// The files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// `human` (default) or `json` for tools.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat warnings as errors (exit 1 when there are any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Evaluate a flag (or every flag) for one context; prints OFREP-shaped JSON.
    Eval {
        /// The flags file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The flag to evaluate.
        #[arg(long, value_name = "KEY", required_unless_present = "all", conflicts_with = "all")]
        flag: Option<String>,
        /// Evaluate every flag (the OFREP bulk shape).
        #[arg(long)]
        all: bool,
        /// The environment (default: the file's first).
        #[arg(long, short = 'e', value_name = "ENV")]
        environment: Option<String>,
        /// The evaluation context as a JSON object, e.g. '{"targetingKey": "user-1"}'.
        #[arg(long, short = 'c', value_name = "JSON", default_value = "{}")]
        context: String,
        /// Also print, step by step, why (as `trace`).
        #[arg(long)]
        explain: bool,
    },
    /// Rewrite flags files in the canonical form the editor writes.
    Fmt {
        /// The files to format.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 when a file is not in canonical form.
        #[arg(long)]
        check: bool,
    },
    /// Print the JSON Schema of the flags file.
    Schema,
}

/// How `check` reports.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people.
    Human,
    /// For tools: one JSON document.
    Json,
}

/// How `serve` logs.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = number.parse().map_err(|_| format!("`{s}` is not a duration like 500ms, 2s or 1m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("`{s}`: use ms, s or m")),
    };
    if !(0.01..=86_400.0).contains(&secs) {
        return Err(format!("`{s}` is out of range (10ms to 24h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A size such as `1048576`, `512KiB`, `64MiB`, `1GiB` (or `K`, `M`, `G`, `KB`, `MB`, `GB`: powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let at = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(at);
    let n: u64 = number.parse().map_err(|_| format!("`{s}` is not a size like 64MiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{s}`: use a number of bytes, or KiB, MiB or GiB")),
    };
    n.checked_mul(1 << shift).filter(|&b| b > 0).ok_or_else(|| format!("`{s}` is out of range"))
}

/// How long, at exit, the runtime waits for blocking work (a reload stuck
/// on a slow filesystem) before the process ends anyway.
const EXIT_WAIT: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            file,
            listen,
            environment,
            token,
            cors_origins,
            allowed_hosts,
            health_listen,
            max_streams,
            max_file_size,
            poll_interval,
            wait_for_file,
            max_connections,
            header_read_timeout,
            body_read_timeout,
            write_timeout,
            log_format,
            log_level,
        } => {
            let format = if log_format == LogFormat::Json { log::Format::Json } else { log::Format::Text };
            let _log = log::init(format, &log_level);
            // Hand freed memory back in the background (about 10 s after a
            // reload), not only when the next allocation happens to come.
            if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
                tracing::debug!(error = %e, "jemalloc background thread unavailable");
            }
            let config = serve::ServeConfig {
                file,
                listen,
                environment,
                token,
                cors_origins,
                poll_interval,
                wait_for_file,
                header_read_timeout: header_read_timeout.unwrap_or(serve::HEADER_READ_TIMEOUT),
                body_read_timeout: body_read_timeout.unwrap_or(serve::body::BODY_TIME),
                write_timeout: write_timeout.unwrap_or(serve::WRITE_TIMEOUT),
                max_connections: max_connections as usize,
                allowed_hosts,
                max_streams: max_streams as usize,
                max_file_size,
                health_listen,
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(4).build()
            {
                Ok(r) => r,
                Err(e) => {
                    log::say(log::Stream::Stderr, &format!("burgee-sidecar: cannot start: {e}"));
                    return ExitCode::from(1);
                }
            };
            let served = runtime.block_on(serve::run(config));
            // A reload blocked on a filesystem must not keep the process from ending.
            runtime.shutdown_timeout(EXIT_WAIT);
            return match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    if log_format == LogFormat::Json {
                        tracing::error!("{e:#}");
                    }
                    log::say(log::Stream::Stderr, &format!("burgee-sidecar: {e:#}"));
                    ExitCode::from(1)
                }
            };
        }
        Command::Check { files, format, deny_warnings } => {
            cli::check::run(&files, format == Format::Json, deny_warnings)
        }
        Command::Eval { file, flag, all, environment, context, explain } => cli::eval::run(&cli::eval::Request {
            file,
            flag: if all { None } else { flag },
            environment,
            context,
            explain,
        }),
        Command::Fmt { files, check } => cli::fmt::run(&files, check),
        Command::Schema => {
            print!("{}", burgee_rules::schema::json_schema_text());
            Ok(true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("burgee-sidecar: {e:#}");
            ExitCode::from(2)
        }
    }
}
