//! `burgee-sidecar check FILE…`: every error and warning of every file, with
//! its place, for people or (`--format json`) for tools.

use std::path::Path;

use anyhow::Result;
use burgee_rules::{Code, Diagnostic, Severity, load_joined};
use serde_json::{Value, json};

/// Check `files`; `Ok(false)` when any is invalid (or has warnings and
/// `deny_warnings` is set).
pub fn run(files: &[impl AsRef<Path>], as_json: bool, deny_warnings: bool) -> Result<bool> {
    let mut all_ok = true;
    let mut reports = Vec::new();
    for path in files {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let (diagnostics, summary) = match crate::files::read(path) {
            Err(e) => (Err(format!("{e:#}")), None),
            Ok(text) => match load_joined(&text, &crate::files::OnTwoThreads) {
                Ok(loaded) => {
                    let found = (
                        Ok(loaded.compiled.warnings().to_vec()),
                        Some((loaded.compiled.flag_count(), loaded.compiled.segment_count())),
                    );
                    // Freeing a big file's millions of small allocations takes
                    // a tenth of its load: another thread does it, and the
                    // process does not wait for it at exit.
                    std::thread::spawn(move || drop(loaded));
                    found
                }
                Err(rejected) => (Ok(rejected.diagnostics), None),
            },
        };
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = match &diagnostics {
            Ok(ds) => ds.iter().cloned().partition(Diagnostic::is_error),
            Err(_) => (Vec::new(), Vec::new()),
        };
        let valid = diagnostics.is_ok() && errors.is_empty();
        all_ok &= valid && (warnings.is_empty() || !deny_warnings);

        if as_json {
            let mut report = json!({
                "path": shown,
                "valid": valid,
                "errors": errors,
                "warnings": warnings,
            });
            if let Err(message) = &diagnostics {
                report["errors"] = json!([Diagnostic::error(Code::Unreadable, "", message.clone())]);
            }
            if let Some((flags, segments)) = summary {
                report["flags"] = flags.into();
                report["segments"] = segments.into();
            }
            reports.push(report);
            continue;
        }

        match &diagnostics {
            Err(message) => println!("{shown}: error: {message}"),
            Ok(_) => {
                for d in errors.iter().chain(&warnings) {
                    println!("{}", human_line(&shown, d));
                }
                match summary {
                    Some((flags, segments)) => println!(
                        "{shown}: ok: {flags} flag{}, {segments} segment{}, {} warning{}",
                        plural(flags),
                        plural(segments),
                        warnings.len(),
                        plural(warnings.len())
                    ),
                    None => println!(
                        "{shown}: invalid: {} error{}, {} warning{}",
                        errors.len(),
                        plural(errors.len()),
                        warnings.len(),
                        plural(warnings.len())
                    ),
                }
            }
        }
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&json!({"valid": all_ok, "files": Value::Array(reports)}))?);
    }
    Ok(all_ok)
}

/// `path:LINE:COL: error[code]: message` for syntax errors,
/// `path: error[code] at /json/pointer: message` otherwise.
pub fn human_line(path: &str, d: &Diagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    match d.location {
        Some(l) => format!("{path}:{}:{}: {severity}[{}]: {}", l.line, l.column, d.code, d.message),
        None if d.pointer.is_empty() => format!("{path}: {severity}[{}]: {}", d.code, d.message),
        None => format!("{path}: {severity}[{}] at {}: {}", d.code, d.pointer, d.message),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
