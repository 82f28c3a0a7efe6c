//! `burgee-rules`: the one crate that reads, checks, evaluates and writes
//! Burgee flags files, used by both the sidecar and the editor so that an
//! editor preview is exactly what the sidecar serves.
//!
//! **Pure**: no I/O, no threads, no clock. Callers own files, sockets and time.
//!
//! The path of a file: text → [`read`] ([`parse::parse`]) → [`model::FlagFile`] (what the
//! editor edits) → [`validate::validate`] (errors and warnings with JSON
//! pointers) → [`compile::compile`] → [`CompiledFile`] (evaluation-ready) →
//! [`CompiledFile::evaluate`]. [`serialize::to_string`] writes a model back
//! in canonical form. [`load`] does text → compiled in one call.
//!
//! ```
//! use burgee_rules::{Context, load};
//! let file = load(r#"{"version": 1, "environments": ["production"], "flags": {
//!   "dark-mode": {"variants": {"on": true, "off": false}, "off": "off",
//!     "environments": {"production": {"enabled": true, "default": {"variant": "on"}}}}}}"#).unwrap();
//! let env = file.compiled.environment("production").unwrap();
//! let result = file.compiled.evaluate("dark-mode", env, &Context::with_key("user-1")).unwrap();
//! assert_eq!((result.variant, result.reason.as_str()), ("on", "STATIC"));
//! ```

pub mod bucket;
pub mod compile;
pub mod context;
pub mod diagnostic;
pub mod diff;
pub mod edit;
pub mod eval;
pub mod merge;
pub mod model;
mod ops;
pub mod parse;
pub mod schema;
pub mod serialize;
pub mod validate;
pub mod weight;

pub use compile::{CompiledFile, EnvId, FlagId, SegmentId};
pub use context::{Context, ContextError, ContextSeed, ContextTextError};
pub use diagnostic::{Code, Diagnostic, Location, Severity};
pub use eval::{EvalError, EvalResult, Evaluation, Reason, Step};
pub use model::FlagFile;
pub use weight::Weight;

/// A file that passed every check: its model and its compiled form.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file as written (for editing and writing back).
    pub file: FlagFile,
    /// The file ready to evaluate; its warnings are in [`CompiledFile::warnings`].
    pub compiled: CompiledFile,
}

/// A file that was rejected, with every problem found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the flags file has {} error(s); first: {}", self.errors().count(), self.errors().next().map(ToString::to_string).unwrap_or_default())]
pub struct Rejected {
    /// Every error, and the warnings found alongside them.
    pub diagnostics: Vec<Diagnostic>,
}

impl Rejected {
    /// Just the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

/// Read a flags file's text into its model: [`parse::parse`], and for a
/// file with structure problems, also every error [`validate::validate`]
/// finds in the parts that did parse (so a typo in one flag does not hide an
/// unknown variant in another). A file that parses is returned as written,
/// not yet validated.
pub fn read(text: &str) -> Result<FlagFile, Vec<Diagnostic>> {
    read_joined(text, &parse::InTurn)
}

/// [`read`] with its passes over the text given to `join` (see
/// [`parse::parse_joined`]).
pub fn read_joined(text: &str, join: &impl parse::Join) -> Result<FlagFile, Vec<Diagnostic>> {
    let broken = match parse::parse_joined(text, join) {
        Ok(file) => return Ok(file),
        Err(broken) => broken,
    };
    let mut problems = broken.problems;
    if let Some(partial) = broken.partial {
        let parse::Partial { file, stubs } = *partial;
        let under_a_stub = |d: &Diagnostic| {
            stubs.iter().any(|b| {
                d.pointer.strip_prefix(b.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
        };
        problems.extend(validate::validate(&file).into_iter().filter(|d| d.is_error() && !under_a_stub(d)));
    }
    Err(problems)
}

/// Read, validate and compile a flags file's text.
pub fn load(text: &str) -> Result<Loaded, Rejected> {
    load_joined(text, &parse::InTurn)
}

/// [`load`] with the passes over the text given to `join` (see
/// [`parse::parse_joined`]).
pub fn load_joined(text: &str, join: &impl parse::Join) -> Result<Loaded, Rejected> {
    let file = read_joined(text, join).map_err(|diagnostics| Rejected { diagnostics })?;
    let compiled = compile::compile(&file).map_err(|diagnostics| Rejected { diagnostics })?;
    Ok(Loaded { file, compiled })
}
