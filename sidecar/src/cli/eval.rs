//! `burgee-sidecar eval FILE --flag K [--environment E] --context JSON`:
//! the OFREP-shaped result, exactly what the server would answer.

use std::path::PathBuf;

use anyhow::{Result, bail};
use burgee_rules::{Context, load};
use serde_json::{Value, json};

use crate::ofrep;

/// What to evaluate.
pub struct Request {
    /// The flags file.
    pub file: PathBuf,
    /// One flag, or `None` for all.
    pub flag: Option<String>,
    /// The environment; the file's first when `None`.
    pub environment: Option<String>,
    /// The context, as JSON text.
    pub context: String,
    /// Add the step-by-step trace.
    pub explain: bool,
}

/// Print the result; `Ok(false)` when the single flag's evaluation failed.
pub fn run(req: &Request) -> Result<bool> {
    let text = crate::files::read(&req.file)?;
    let loaded = match load(&text) {
        Ok(l) => l,
        Err(rejected) => {
            let shown = req.file.display().to_string();
            for d in rejected.errors() {
                eprintln!("{}", super::check::human_line(&shown, d));
            }
            bail!("{shown} is not a valid flags file");
        }
    };
    let file = &loaded.compiled;
    let env = match &req.environment {
        None => file.first_environment(),
        Some(e) => match file.environment(e) {
            Some(id) => id,
            None => bail!(
                "environment `{e}` is not in the file (it has: {})",
                file.environment_keys().collect::<Vec<_>>().join(", ")
            ),
        },
    };
    let key = req.flag.as_deref().unwrap_or_default();
    let context = match serde_json::from_str::<Value>(&req.context) {
        Err(e) => return print_error(key, "PARSE_ERROR", &format!("the context is not JSON: {e}")),
        Ok(v) => match Context::from_json(v) {
            Ok(c) => c,
            Err(e) => return print_error(key, "INVALID_CONTEXT", &e.to_string()),
        },
    };

    let Some(key) = req.flag.as_deref() else {
        let flags: Vec<Value> = file.evaluate_all(env, &context).map(|(k, r)| ofrep::result_json(k, &r)).collect();
        println!("{}", serde_json::to_string_pretty(&json!({"flags": flags}))?);
        return Ok(true);
    };
    let (result, steps) = if req.explain {
        let (r, s) = file.explain(key, env, &context);
        (r, Some(s))
    } else {
        (file.evaluate(key, env, &context), None)
    };
    let mut out = ofrep::result_json(key, &result);
    if let Some(steps) = steps {
        out["trace"] = steps.iter().map(|s| Value::String(s.to_string())).collect();
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(result.is_ok())
}

fn print_error(key: &str, code: &str, details: &str) -> Result<bool> {
    println!("{}", serde_json::to_string_pretty(&ofrep::error_json(key, code, details))?);
    Ok(false)
}
