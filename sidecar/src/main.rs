//! `burgee-sidecar`: serves a flags file to apps over OFREP, and checks,
//! evaluates, formats and describes flags files from the command line.
//!
//! This file owns the command line and exit codes; the work is in [`cli`].

mod cli;
mod files;
mod ofrep;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Burgee's flag sidecar and flags-file tool.
#[derive(Parser)]
#[command(name = "burgee-sidecar", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
