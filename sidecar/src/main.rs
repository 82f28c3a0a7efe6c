//! `burgee-sidecar`: serves a flags file to apps over OFREP, and checks,
//! evaluates, formats and describes flags files from the command line.
//!
//! This file owns the command line, logging set-up and exit codes; the work
//! is in the `burgee_sidecar` library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use burgee_sidecar::{cli, serve};
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

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            file,
            listen,
            environment,
            token,
            cors_origins,
            poll_interval,
            wait_for_file,
            max_connections,
            header_read_timeout,
            log_format,
            log_level,
        } => {
            init_logging(log_format, &log_level);
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
                max_connections: max_connections as usize,
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(4).build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("burgee-sidecar: cannot start: {e}");
                    return ExitCode::from(1);
                }
            };
            return match runtime.block_on(serve::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    if log_format == LogFormat::Json {
                        tracing::error!("{e:#}");
                    }
                    eprintln!("burgee-sidecar: {e:#}");
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
