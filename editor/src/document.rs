//! The document being edited: a flags file's model, its undo history, its
//! diagnostics and compiled form, and what is on disk — with no egui in it.
//!
//! - **Opening**: [`Document::open`] reads a file; one that does not parse
//!   opens read-only ([`Document::model`] is `None`, [`Document::load_errors`]
//!   says why) instead of failing.
//! - **Editing**: every change goes through [`Document::edit`] (or
//!   [`Document::try_edit`], [`Document::edit_merging`]), which records an undo
//!   step, re-validates and bumps [`Document::revision`].
//! - **Saving**: [`Document::save`] refuses while the model has errors or when
//!   the file on disk is not the version it was read from, and writes
//!   atomically with [`burgee_files::write_atomically`]. An untouched document
//!   saves its text exactly as read (byte for byte, canonical or not); an
//!   edited one saves the canonical text ([`burgee_rules::serialize::to_string`]).
//! - **Disk**: [`Document::disk_state`] is cheap to poll (metadata first, the
//!   content hash only when the metadata moved). When someone else changed the
//!   file, [`Document::read_disk`] reads their version ([`DiskVersion`]), and
//!   the person chooses: [`Document::merge_disk`] (a three-way merge with
//!   [`burgee_rules::merge`], base = what was read), [`Document::reload_from_disk`]
//!   (theirs), or [`Document::save_over`] (mine, over exactly the version they
//!   were shown — never over one they were not).
//! - **Unfinished rules**: a rule added in the editor serves nothing until the
//!   person picks a variant ([`is_unfinished`]); it blocks saving, and previews
//!   evaluate the file without it, so adding a rule moves nobody.

use std::collections::VecDeque;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use burgee_files::FileError;
use burgee_rules::diff::Subject;
use burgee_rules::merge::{self, Conflict, Side};
use burgee_rules::model::{FlagFile, Rule, Serve};
use burgee_rules::validate::Revalidator;
use burgee_rules::{Code, CompiledFile, Diagnostic, compile, serialize};

/// How many undo steps are kept; older ones are dropped.
pub const UNDO_LIMIT: usize = 200;

/// Why a save did not happen; the message is fit to show a person.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The model has errors; saving would write a file the sidecar rejects.
    #[error("the file has {0} error(s); fix them before saving")]
    HasErrors(usize),
    /// The file was opened read-only because it does not parse.
    #[error("the file could not be read as a flags file, so it is open read-only")]
    ReadOnly,
    /// The file on disk is not the one that was read (someone else, a git
    /// pull), or not the one the person was shown: look at it first
    /// ([`Document::read_disk`]), then merge, reload or save over it.
    #[error("the file changed on disk since it was read; look at the change before saving")]
    ChangedOnDisk,
    /// The file was removed from disk since it was read.
    #[error("the file was removed from disk since it was read; confirm to write it again")]
    MissingOnDisk,
    /// The document has no file yet: use [`Document::save_as`].
    #[error("the document has no file yet; choose where to save it")]
    NoPath,
    /// Writing failed; the old file is untouched.
    #[error(transparent)]
    File(#[from] FileError),
}

/// The file on disk compared with the version this document is based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskState {
    /// The same content as last read or saved (or there is no file yet).
    Unchanged,
    /// Different content: someone else wrote it.
    Changed,
    /// The file is gone.
    Missing,
}

/// One line of [`Document::pending_diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// Unchanged context, removed, added, or a gap between hunks.
    pub kind: DiffKind,
    /// 1-based line number in the saved text (`None` for added lines and gaps).
    pub old_line: Option<usize>,
    /// 1-based line number in the text to be saved (`None` for removed lines and gaps).
    pub new_line: Option<usize>,
    /// The line, without its newline (empty for a gap).
    pub text: String,
}

/// What a [`DiffLine`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    /// Context: the same on both sides.
    Same,
    /// Only in the saved text: saving removes it.
    Removed,
    /// Only in the text to be saved.
    Added,
    /// Unchanged lines left out between two hunks.
    Gap,
}

/// Lines of context around each change in [`Document::pending_diff`].
const DIFF_CONTEXT: usize = 3;

/// What identifies the file's content on disk: metadata for a quick check,
/// and a hash of the content for the real one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
    hash: u64,
}

impl Stamp {
    fn quick(meta: &fs::Metadata) -> (u64, Option<SystemTime>, u64) {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        (meta.len(), meta.modified().ok(), inode)
    }

    fn new(meta: &fs::Metadata, text: &[u8]) -> Stamp {
        let (len, modified, inode) = Stamp::quick(meta);
        Stamp { len, modified, inode, hash: content_hash(text) }
    }
}

/// The file on disk as it was just read, for the person to look at before
/// their edits meet it: its text and, when it parses, its model.
#[derive(Debug, Clone)]
pub struct DiskVersion {
    /// `None`: there is no file.
    read: Option<(String, Stamp)>,
    model: Option<Arc<FlagFile>>,
    load_errors: Vec<Diagnostic>,
}

impl DiskVersion {
    /// Whether there is a file at all.
    pub fn exists(&self) -> bool {
        self.read.is_some()
    }

    /// The file's text (empty when there is no file).
    pub fn text(&self) -> &str {
        self.read.as_ref().map_or("", |(text, _)| text)
    }

    /// Its model, when it parses.
    pub fn model(&self) -> Option<&FlagFile> {
        self.model.as_deref()
    }

    /// Why it does not parse (empty when it does, or when there is no file).
    pub fn load_errors(&self) -> &[Diagnostic] {
        &self.load_errors
    }

    fn hash(&self) -> Option<u64> {
        self.read.as_ref().map(|(_, stamp)| stamp.hash)
    }
}

fn content_hash(bytes: &[u8]) -> u64 {
    // SipHash with fixed keys: stable within the process, which is all it needs.
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// A state the undo history can go back to.
#[derive(Debug, Clone)]
struct Snapshot {
    label: String,
    model: Option<Arc<FlagFile>>,
    load_errors: Vec<Diagnostic>,
}

/// The flags a slice was compiled for, and the slice (`None`: the model has errors).
type CompiledSlice = (Vec<String>, Option<Arc<CompiledFile>>);

/// A flags file open in the editor. See the [module docs](self).
#[derive(Debug)]
pub struct Document {
    path: Option<PathBuf>,
    /// `None` when the text did not parse (read-only). Shared, so views can
    /// hold the current version for a frame without copying it.
    model: Option<Arc<FlagFile>>,
    load_errors: Vec<Diagnostic>,
    /// Errors and warnings of `model`.
    diagnostics: Vec<Diagnostic>,
    /// Re-checks only the flags an edit changed (a big file stays quick to edit).
    revalidator: Revalidator,
    revision: u64,
    undo: VecDeque<Snapshot>,
    redo: Vec<Snapshot>,
    /// Whether the last edit may absorb the next [`Document::edit_merging`] with its label.
    mergeable: bool,
    /// The text as last read or saved, and its model (when it parsed).
    saved_text: String,
    saved_model: Option<Arc<FlagFile>>,
    saved_compiled: Option<Arc<CompiledFile>>,
    /// What we expect on disk: `None` means "no file" (not written yet).
    base: Option<Stamp>,
    /// Increases whenever the saved base changes (open, save, reload, merge).
    saved_revision: u64,
    /// Rules the person added and has not finished (they serve no variant
    /// yet), as (flag, environment, index); see [`is_unfinished`].
    unfinished: Vec<(String, String, usize)>,
    /// Per revision.
    compiled: OnceLock<Option<Arc<CompiledFile>>>,
    /// Per revision: the last slice compiled for previews, by the flags asked for.
    compiled_slice: Mutex<Option<CompiledSlice>>,
    text_to_save: OnceLock<String>,
    dirty: OnceLock<bool>,
}

impl Document {
    /// Read and open the file at `path` (read-only when it does not parse).
    pub fn open(path: impl AsRef<Path>) -> Result<Document, FileError> {
        let path = path.as_ref();
        let (text, stamp) = read_with_stamp(path)?;
        Ok(Document::new(Some(path.to_path_buf()), text, Some(stamp)))
    }

    /// A document from text, e.g. a new file (`path: None`) or one read by
    /// the caller. With a path, the file on disk is taken as it is now as the
    /// base for change detection (absent: a file not written yet).
    pub fn from_text(path: Option<PathBuf>, text: impl Into<String>) -> Document {
        let base = path.as_deref().and_then(|p| read_with_stamp(p).ok()).map(|(_, stamp)| stamp);
        Document::new(path, text.into(), base)
    }

    fn new(path: Option<PathBuf>, text: String, base: Option<Stamp>) -> Document {
        let (model, load_errors) = match burgee_rules::read(&text) {
            Ok(model) => (Some(model), Vec::new()),
            Err(errors) => (None, errors),
        };
        let mut doc = Document {
            path,
            model: None,
            load_errors: Vec::new(),
            diagnostics: Vec::new(),
            revalidator: Revalidator::new(),
            revision: 0,
            undo: VecDeque::new(),
            redo: Vec::new(),
            mergeable: false,
            saved_text: String::new(),
            saved_model: None,
            saved_compiled: None,
            base,
            saved_revision: 0,
            unfinished: Vec::new(),
            compiled: OnceLock::new(),
            compiled_slice: Mutex::new(None),
            text_to_save: OnceLock::new(),
            dirty: OnceLock::new(),
        };
        doc.set_state(model.map(Arc::new), load_errors);
        doc.mark_saved(text, doc.model.clone());
        doc
    }

    /// The file's path, if it has one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The model, or `None` when the file did not parse (see [`Document::load_errors`]).
    pub fn model(&self) -> Option<&FlagFile> {
        self.model.as_deref()
    }

    /// The model, shared: cheap to keep while editing through `&mut self`
    /// (the views hold it for a frame; a 35 MB file is not copied per frame).
    pub fn shared_model(&self) -> Option<Arc<FlagFile>> {
        self.model.clone()
    }

    /// Whether the document can be edited (its file parsed).
    pub fn is_read_only(&self) -> bool {
        self.model.is_none()
    }

    /// Why the file could not be read as a flags file (syntax and structure
    /// errors, with pointers and line/column); empty when it parsed.
    pub fn load_errors(&self) -> &[Diagnostic] {
        &self.load_errors
    }

    /// Increases with every change of the model (edit, undo, redo, reload);
    /// previews recompute when it moves.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Apply `f` to the model as one undoable step labelled `label` ("Rename
    /// flag"), then re-validate. Returns whether the model changed (an edit
    /// that changes nothing records no step). Does nothing when read-only.
    pub fn edit(&mut self, label: &str, f: impl FnOnce(&mut FlagFile)) -> bool {
        self.edit_inner(label, false, f)
    }

    /// Like [`Document::edit`], but merged into the previous step when that
    /// was also a merging edit with the same label and nothing happened in
    /// between: a slider drag or typing in a field is one undo step.
    pub fn edit_merging(&mut self, label: &str, f: impl FnOnce(&mut FlagFile)) -> bool {
        self.edit_inner(label, true, f)
    }

    /// Like [`Document::edit`] for an edit that can be refused (such as
    /// [`burgee_rules::edit::rename_flag`]): on `Err` the model is left as it
    /// was and no step is recorded. `None` when read-only.
    pub fn try_edit<T, E>(
        &mut self,
        label: &str,
        f: impl FnOnce(&mut FlagFile) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let current = self.model.as_mut()?;
        let before = Arc::clone(current);
        let result = f(Arc::make_mut(current));
        if result.is_err() {
            self.model = Some(before);
            return Some(result);
        }
        self.record(label, false, before);
        Some(result)
    }

    fn edit_inner(&mut self, label: &str, merging: bool, f: impl FnOnce(&mut FlagFile)) -> bool {
        let Some(current) = self.model.as_mut() else { return false };
        let before = Arc::clone(current);
        f(Arc::make_mut(current));
        self.record(label, merging, before)
    }

    /// After the model was changed from `before`: the undo step, validation, revision.
    fn record(&mut self, label: &str, merging: bool, before: Arc<FlagFile>) -> bool {
        if self.model.as_ref() == Some(&before) {
            return false;
        }
        let merge = merging && self.mergeable && self.undo.back().is_some_and(|s| s.label == label);
        if !merge {
            self.push_undo(Snapshot { label: label.to_string(), model: Some(before), load_errors: Vec::new() });
        }
        self.mergeable = merging;
        self.redo.clear();
        self.changed();
        true
    }

    fn push_undo(&mut self, snapshot: Snapshot) {
        self.undo.push_back(snapshot);
        while self.undo.len() > UNDO_LIMIT {
            self.undo.pop_front();
        }
    }

    fn current_snapshot(&self, label: String) -> Snapshot {
        Snapshot { label, model: self.model.clone(), load_errors: self.load_errors.clone() }
    }

    /// Undo the last step; returns whether there was one.
    pub fn undo(&mut self) -> bool {
        let Some(step) = self.undo.pop_back() else { return false };
        let current = self.current_snapshot(step.label.clone());
        self.redo.push(current);
        self.set_state(step.model, step.load_errors);
        true
    }

    /// Redo the last undone step; returns whether there was one.
    pub fn redo(&mut self) -> bool {
        let Some(step) = self.redo.pop() else { return false };
        let current = self.current_snapshot(step.label.clone());
        self.push_undo(current);
        self.set_state(step.model, step.load_errors);
        true
    }

    /// Whether [`Document::undo`] would do something.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether [`Document::redo`] would do something.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// The label of the step [`Document::undo`] would undo ("Undo {label}").
    pub fn undo_label(&self) -> Option<&str> {
        self.undo.back().map(|s| s.label.as_str())
    }

    /// The label of the step [`Document::redo`] would redo.
    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    /// Replace the whole state (model or load errors) and recompute what depends on it.
    fn set_state(&mut self, model: Option<Arc<FlagFile>>, load_errors: Vec<Diagnostic>) {
        self.model = model;
        self.load_errors = load_errors;
        self.mergeable = false;
        self.changed();
    }

    /// The model changed: re-validate, bump the revision, drop caches.
    fn changed(&mut self) {
        self.diagnostics = self.model.as_deref().map(|m| self.revalidator.validate(m)).unwrap_or_default();
        self.unfinished = match self.model.as_deref() {
            Some(model) => mark_unfinished(model, &mut self.diagnostics),
            None => Vec::new(),
        };
        self.revision += 1;
        self.compiled = OnceLock::new();
        self.compiled_slice = Mutex::new(None);
        self.text_to_save = OnceLock::new();
        self.dirty = OnceLock::new();
    }

    /// Errors and warnings of the current model, errors first within each
    /// place; the load errors when read-only.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        if self.model.is_some() { &self.diagnostics } else { &self.load_errors }
    }

    /// The diagnostics at `pointer_prefix` or inside it, for showing next to a
    /// field: `/flags/a` matches `/flags/a` and `/flags/a/off`, not `/flags/ab`.
    /// `""` matches all.
    pub fn diagnostics_under<'a>(&'a self, pointer_prefix: &'a str) -> impl Iterator<Item = &'a Diagnostic> + 'a {
        self.diagnostics().iter().filter(move |d| pointer_is_under(&d.pointer, pointer_prefix))
    }

    /// How many errors the document has (load errors when read-only).
    pub fn error_count(&self) -> usize {
        self.diagnostics().iter().filter(|d| d.is_error()).count()
    }

    /// Rules added in the editor that serve nothing yet, as (flag,
    /// environment, index); they block saving and previews leave them out.
    pub fn unfinished_rules(&self) -> &[(String, String, usize)] {
        &self.unfinished
    }

    /// The current model compiled, ready for previews; `None` while it has
    /// errors (or is read-only). Computed once per revision.
    pub fn compiled(&self) -> Option<Arc<CompiledFile>> {
        self.compiled
            .get_or_init(|| {
                let model = self.model.as_ref()?;
                compile::compile_validated(model, self.diagnostics.clone()).ok().map(Arc::new)
            })
            .clone()
    }

    /// What previews of `flags` evaluate: the current model compiled with
    /// [`compile::compile_slice`] (those flags, their prerequisites and every
    /// segment), so that after an edit to a file of 10,000 flags the preview
    /// recompiles one flag, not all of them; the saved file's compiled form
    /// while nothing is edited. Evaluating any of `flags` gives exactly what
    /// the whole file gives. Unfinished rules are left out (they serve
    /// nothing yet, so they decide no one). `None` while the document has
    /// other errors (or is read-only). Computed once per revision for the
    /// flags last asked for.
    pub fn compiled_for(&self, flags: &[&str]) -> Option<Arc<CompiledFile>> {
        if !self.is_dirty() && self.saved_compiled.is_some() {
            return self.saved_compiled.clone();
        }
        let mut slice = self.compiled_slice.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((keys, compiled)) = slice.as_ref()
            && keys.iter().map(String::as_str).eq(flags.iter().copied())
        {
            return compiled.clone();
        }
        let compiled = self.model.as_ref().and_then(|model| {
            if self.unfinished.is_empty() {
                return compile::compile_slice(model, flags, self.diagnostics.clone()).ok();
            }
            let finished = without_unfinished(model, &self.unfinished);
            let others = self.diagnostics.iter().filter(|d| !is_unfinished_diagnostic(d)).cloned().collect();
            compile::compile_slice(&finished, flags, others).ok()
        });
        let compiled = compiled.map(Arc::new);
        *slice = Some((flags.iter().map(|f| (*f).to_owned()).collect(), compiled.clone()));
        compiled
    }

    /// The file as last opened, saved, reloaded or merged with (the base of
    /// change-impact previews and of a merge); `None` for a read-only document.
    pub fn saved_model(&self) -> Option<&FlagFile> {
        self.saved_model.as_deref()
    }

    /// [`Document::saved_model`], shared.
    pub fn shared_saved_model(&self) -> Option<Arc<FlagFile>> {
        self.saved_model.clone()
    }

    /// The saved base compiled (for change-impact previews); `None` when
    /// that version had errors.
    pub fn saved_compiled(&self) -> Option<Arc<CompiledFile>> {
        self.saved_compiled.clone()
    }

    /// Increases whenever the saved base changes (a save, a reload, a
    /// merge): previews of "the change against the saved file" recompute.
    pub fn saved_revision(&self) -> u64 {
        self.saved_revision
    }

    /// Whether there is something to save: the model differs from the file as
    /// last read or saved (undoing back to it makes the document clean again).
    pub fn is_dirty(&self) -> bool {
        *self.dirty.get_or_init(|| self.model.is_some() && self.model != self.saved_model)
    }

    /// The text [`Document::save`] would write: the text as read when the
    /// model is untouched (so load-then-save is byte-identical), else the
    /// canonical text of the model. Empty when read-only.
    pub fn text_to_save(&self) -> &str {
        self.text_to_save.get_or_init(|| match &self.model {
            None => String::new(),
            Some(m) if Some(m) == self.saved_model.as_ref() => self.saved_text.clone(),
            Some(m) => serialize::to_string(m),
        })
    }

    /// The text as last read or saved.
    pub fn saved_text(&self) -> &str {
        &self.saved_text
    }

    /// What saving would change: a line diff of the saved text against
    /// [`Document::text_to_save`] ([`line_diff`]). Empty when there is
    /// nothing to save.
    pub fn pending_diff(&self) -> Vec<DiffLine> {
        if self.model.is_none() {
            return Vec::new();
        }
        line_diff(&self.saved_text, self.text_to_save())
    }

    /// Write the document to its file, atomically. Refused while the model
    /// has errors, when read-only, and when the file on disk is not the
    /// version this document is based on (changed or removed since): then
    /// [`Document::read_disk`] shows the person what is there, and
    /// [`Document::merge_disk`] or [`Document::save_over`] follow.
    /// Afterwards the written text is the new base (clean, saved compiled form).
    pub fn save(&mut self) -> Result<(), SaveError> {
        let Some(path) = self.path.clone() else { return Err(SaveError::NoPath) };
        self.check_savable()?;
        match self.disk_state() {
            DiskState::Unchanged => {}
            DiskState::Changed => return Err(SaveError::ChangedOnDisk),
            DiskState::Missing => return Err(SaveError::MissingOnDisk),
        }
        self.write_to(&path)
    }

    /// Save over `seen`, the version of the file on disk the person was
    /// shown and chose to replace (or its absence). Refused with
    /// [`SaveError::ChangedOnDisk`] when the disk has moved on since: nothing
    /// is overwritten that the person has not seen.
    pub fn save_over(&mut self, seen: &DiskVersion) -> Result<(), SaveError> {
        let Some(path) = self.path.clone() else { return Err(SaveError::NoPath) };
        self.check_savable()?;
        if self.read_disk()?.hash() != seen.hash() {
            return Err(SaveError::ChangedOnDisk);
        }
        self.write_to(&path)
    }

    /// Write the document to `path` (the caller asked the person about
    /// replacing an existing file), which becomes the document's file.
    pub fn save_as(&mut self, path: impl Into<PathBuf>) -> Result<(), SaveError> {
        self.check_savable()?;
        let path = path.into();
        self.write_to(&path)?;
        self.path = Some(path);
        Ok(())
    }

    fn check_savable(&self) -> Result<(), SaveError> {
        if self.model.is_none() {
            return Err(SaveError::ReadOnly);
        }
        match self.error_count() {
            0 => Ok(()),
            n => Err(SaveError::HasErrors(n)),
        }
    }

    fn write_to(&mut self, path: &Path) -> Result<(), SaveError> {
        let text = self.text_to_save().to_string();
        burgee_files::write_atomically(path, &text)?;
        let meta = fs::metadata(path).map_err(|source| FileError::Read { path: path.to_path_buf(), source })?;
        self.base = Some(Stamp::new(&meta, text.as_bytes()));
        self.mergeable = false;
        self.mark_saved(text, self.model.clone());
        Ok(())
    }

    /// Make `text` (just read or written) and its model `saved` the saved base.
    fn mark_saved(&mut self, text: String, saved: Option<Arc<FlagFile>>) {
        self.saved_compiled = if saved == self.model {
            self.compiled()
        } else {
            saved.as_deref().and_then(|m| compile::compile(m).ok()).map(Arc::new)
        };
        self.saved_model = saved;
        self.saved_text = text;
        self.saved_revision += 1;
        self.text_to_save = OnceLock::new();
        self.dirty = OnceLock::new();
    }

    /// The file on disk against the version this document is based on. Cheap:
    /// one `stat`, and a read only when the metadata moved (then the content
    /// decides, so a `touch` is not a change). A document without a file is
    /// always [`DiskState::Unchanged`].
    pub fn disk_state(&self) -> DiskState {
        let Some(path) = &self.path else { return DiskState::Unchanged };
        let Ok(meta) = fs::metadata(path) else {
            return if self.base.is_none() { DiskState::Unchanged } else { DiskState::Missing };
        };
        let Some(base) = &self.base else { return DiskState::Changed };
        if Stamp::quick(&meta) == (base.len, base.modified, base.inode) {
            return DiskState::Unchanged;
        }
        match fs::read(path) {
            Ok(bytes) if content_hash(&bytes) == base.hash => DiskState::Unchanged,
            Ok(_) => DiskState::Changed,
            Err(_) => DiskState::Missing,
        }
    }

    /// Read the file on disk as it is now (a missing file is a
    /// [`DiskVersion`] that does not exist; other read errors are errors).
    pub fn read_disk(&self) -> Result<DiskVersion, FileError> {
        let Some(path) = &self.path else {
            return Ok(DiskVersion { read: None, model: None, load_errors: Vec::new() });
        };
        let (text, stamp) = match read_with_stamp(path) {
            Ok(read) => read,
            Err(FileError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DiskVersion { read: None, model: None, load_errors: Vec::new() });
            }
            Err(e) => return Err(e),
        };
        let (model, load_errors) = match burgee_rules::read(&text) {
            Ok(model) => (Some(Arc::new(model)), Vec::new()),
            Err(errors) => (None, errors),
        };
        Ok(DiskVersion { read: Some((text, stamp)), model, load_errors })
    }

    /// Whether the file on disk still looks like `disk` (same size, time and
    /// inode; no read): for noticing that it changed again.
    pub fn still_on_disk(&self, disk: &DiskVersion) -> bool {
        let meta = self.path.as_deref().and_then(|p| fs::metadata(p).ok());
        match (meta, &disk.read) {
            (None, None) => true,
            (Some(meta), Some((_, stamp))) => Stamp::quick(&meta) == (stamp.len, stamp.modified, stamp.inode),
            _ => false,
        }
    }

    /// Whether `disk` is the version this document is based on (so saving
    /// over it throws nothing away that was not read).
    pub fn is_base(&self, disk: &DiskVersion) -> bool {
        disk.hash() == self.base.as_ref().map(|b| b.hash)
    }

    /// The subjects (flags, environments of a flag, segments, stages) that
    /// both the unsaved edits and `disk` changed, differently, since the
    /// version this document was read from; empty when they merge cleanly
    /// (or when either side is not a valid flags file).
    pub fn conflicts_with(&self, disk: &DiskVersion) -> Vec<Conflict> {
        match (&self.saved_model, &self.model, &disk.model) {
            (Some(base), Some(ours), Some(theirs)) => merge::conflicts(base, ours, theirs),
            _ => Vec::new(),
        }
    }

    /// Merge `disk` (their version) into the unsaved edits: a three-way
    /// merge with [`burgee_rules::merge`], base = the version this document
    /// was read from; `choose` settles the conflicts. The merge is one undo
    /// step ("Merge changes from disk": undo brings back the edits as they
    /// were, as unsaved changes over their version) and `disk` becomes the
    /// saved base, so the pending diff shows exactly what saving changes in
    /// the file on disk. `Err` with the conflicts `choose` left open, or
    /// [`MergeError::NotAFlagsFile`] when either side cannot be merged.
    pub fn merge_disk(
        &mut self,
        disk: &DiskVersion,
        choose: impl Fn(&Subject) -> Option<Side>,
    ) -> Result<(), MergeError> {
        let (Some(base), Some(ours), Some(theirs), Some((text, stamp))) =
            (&self.saved_model, &self.model, &disk.model, &disk.read)
        else {
            return Err(MergeError::NotAFlagsFile);
        };
        let merged = merge::merge(base, ours, theirs, choose).map_err(MergeError::Conflicts)?;
        let before = Arc::clone(ours);
        let theirs = Arc::clone(theirs);
        // Their own flag objects where the merge took theirs, so an untouched
        // file shares them (and saves byte for byte when nothing of ours is left).
        let merged = if merged == *theirs { Arc::clone(&theirs) } else { Arc::new(merged) };
        self.model = Some(merged);
        self.record("Merge changes from disk", false, before);
        self.base = Some(stamp.clone());
        self.mark_saved(text.clone(), Some(theirs));
        Ok(())
    }

    /// Discard the current model and read the file again; it becomes the new
    /// base (clean, and the saved compiled form for change impact). The
    /// reload is itself an undo step ("Reload from disk"): undo brings the
    /// discarded version back, as unsaved changes over the reloaded file. A
    /// file that no longer parses makes the document read-only (undo still
    /// brings the model back).
    pub fn reload_from_disk(&mut self) -> Result<(), FileError> {
        let Some(path) = self.path.clone() else { return Ok(()) };
        let (text, stamp) = read_with_stamp(&path)?;
        let (model, load_errors) = match burgee_rules::read(&text) {
            Ok(model) => (Some(Arc::new(model)), Vec::new()),
            Err(errors) => (None, errors),
        };
        if model != self.model || load_errors != self.load_errors {
            let before = self.current_snapshot("Reload from disk".to_string());
            self.push_undo(before);
            self.redo.clear();
            self.set_state(model, load_errors);
        }
        self.base = Some(stamp);
        self.mark_saved(text, self.model.clone());
        Ok(())
    }

    /// The document's name for a window title: the file name, marked `*`
    /// in front when there are unsaved changes, `(read-only)` after it when
    /// the file did not parse; `untitled` before the first save.
    pub fn title(&self) -> String {
        let name = self
            .path
            .as_deref()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "untitled".to_string());
        if self.is_read_only() {
            format!("{name} (read-only)")
        } else if self.is_dirty() {
            format!("*{name}")
        } else {
            name
        }
    }
}

/// Why [`Document::merge_disk`] did not merge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// The file on disk (or the document, or the version it was read from)
    /// is not a valid flags file, so there is nothing to merge at the level
    /// of flags: reload it, or save over it.
    #[error("the file on disk is not a valid flags file, so it cannot be merged")]
    NotAFlagsFile,
    /// These subjects were changed on both sides and no side was chosen.
    #[error("{} change(s) on disk conflict with yours; choose a version for each", .0.len())]
    Conflicts(Vec<Conflict>),
}

/// Whether `rule` is one the person added and has not finished: it serves
/// no variant yet (the editor's "Add rule" starts it so), so it decides no
/// one and the file cannot be saved until a variant is chosen.
pub fn is_unfinished(rule: &Rule) -> bool {
    matches!(&rule.serve, Serve::Variant(v) if v.is_empty())
}

/// The message an unfinished rule's diagnostic carries.
const UNFINISHED: &str = "this rule is not finished: choose what it serves (until then it decides no one)";

fn is_unfinished_diagnostic(d: &Diagnostic) -> bool {
    d.code == Code::UnknownVariant && d.message == UNFINISHED
}

/// Find the unfinished rules among the validation errors (an unknown variant
/// `""` at a rule's serve) and give those errors a message that says what to
/// do; returns where the rules are.
fn mark_unfinished(model: &FlagFile, diagnostics: &mut [Diagnostic]) -> Vec<(String, String, usize)> {
    let mut found = Vec::new();
    for d in diagnostics.iter_mut().filter(|d| d.code == Code::UnknownVariant) {
        let Some(place) = rule_at(&d.pointer) else { continue };
        let rule = model
            .flags
            .get(&place.0)
            .and_then(|f| f.environments.get(&place.1))
            .and_then(|e| e.rules.as_ref())
            .and_then(|r| r.get(place.2));
        if rule.is_some_and(is_unfinished) && d.pointer.ends_with("/serve/variant") {
            d.message = UNFINISHED.to_owned();
            if !found.contains(&place) {
                found.push(place);
            }
        }
    }
    found
}

/// `/flags/{f}/environments/{e}/rules/{i}/…` → (f, e, i).
fn rule_at(pointer: &str) -> Option<(String, String, usize)> {
    let mut parts = pointer.strip_prefix('/')?.split('/');
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    match (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?) {
        ("flags", flag, "environments", env, "rules", index) => {
            Some((unescape(flag), unescape(env), index.parse().ok()?))
        }
        _ => None,
    }
}

/// `model` without the unfinished rules `at` (what previews evaluate).
fn without_unfinished(model: &FlagFile, at: &[(String, String, usize)]) -> FlagFile {
    let mut out = model.clone();
    for (flag, env, _) in at {
        if let Some(e) = out.flags.get_mut(flag).map(Arc::make_mut).and_then(|f| f.environments.get_mut(env))
            && let Some(rules) = e.rules.as_mut()
        {
            rules.retain(|r| !is_unfinished(r));
        }
    }
    out
}

/// A line diff of `old` against `new`: hunks with 3 lines of context
/// separated by [`DiffKind::Gap`] lines; empty when they are equal.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    if old == new {
        return Vec::new();
    }
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for (i, group) in diff.grouped_ops(DIFF_CONTEXT).iter().enumerate() {
        if i > 0 {
            out.push(DiffLine { kind: DiffKind::Gap, old_line: None, new_line: None, text: String::new() });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    similar::ChangeTag::Equal => DiffKind::Same,
                    similar::ChangeTag::Delete => DiffKind::Removed,
                    similar::ChangeTag::Insert => DiffKind::Added,
                };
                out.push(DiffLine {
                    kind,
                    old_line: change.old_index().map(|i| i + 1),
                    new_line: change.new_index().map(|i| i + 1),
                    text: change.value().trim_end_matches(['\n', '\r']).to_string(),
                });
            }
        }
    }
    out
}

/// Whether JSON pointer `pointer` is `prefix` or inside it (whole segments).
pub fn pointer_is_under(pointer: &str, prefix: &str) -> bool {
    pointer.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'))
}

/// The file's text and what identifies it on disk (metadata taken before the
/// read, so a write racing with the read shows up as a change later).
fn read_with_stamp(path: &Path) -> Result<(String, Stamp), FileError> {
    let meta = fs::metadata(path).map_err(|source| FileError::Read { path: path.to_path_buf(), source })?;
    let text = burgee_files::read(path)?;
    let stamp = Stamp::new(&meta, text.as_bytes());
    Ok((text, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn example() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flags.json");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flags.json");
        fs::copy(example, &path).unwrap();
        (dir, path)
    }

    fn first_flag(doc: &Document) -> String {
        doc.model().unwrap().flags.keys().next().unwrap().clone()
    }

    fn set_description(doc: &mut Document, text: &str) -> bool {
        let key = first_flag(doc);
        doc.edit("Edit description", |m| Arc::make_mut(&mut m.flags[&key]).description = Some(text.to_string()))
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// Write `text` to `path` the way another program would (new content, new mtime).
    fn write_externally(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
    }

    #[test]
    fn untouched_file_saves_byte_identical() {
        let (_dir, path) = example();
        let before = fs::read(&path).unwrap();
        let mut doc = Document::open(&path).unwrap();
        assert!(!doc.is_dirty());
        assert!(doc.pending_diff().is_empty());
        assert_eq!(doc.title(), "flags.json");
        doc.save().unwrap();
        assert_eq!(fs::read(&path).unwrap(), before);
    }

    #[test]
    fn example_is_canonical_so_an_edit_changes_only_its_lines() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        assert_eq!(serialize::to_string(doc.model().unwrap()), doc.saved_text());
        set_description(&mut doc, "Changed");
        let diff = doc.pending_diff();
        let changed: Vec<&DiffLine> = diff.iter().filter(|l| l.kind != DiffKind::Same).collect();
        assert!(changed.len() <= 2, "{changed:?}");
        assert!(changed.iter().any(|l| l.kind == DiffKind::Added && l.text.contains("\"Changed\"")));
        assert!(diff.iter().all(|l| l.kind != DiffKind::Gap));
    }

    #[test]
    fn untouched_non_canonical_file_is_clean_and_saves_as_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let text = r#"{"version":1,"environments":["p"],"flags":{}}"#;
        fs::write(&path, text).unwrap();
        let mut doc = Document::open(&path).unwrap();
        assert!(!doc.is_dirty());
        doc.save().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        doc.edit("Add environment", |m| m.environments.push("q".into()));
        assert!(doc.text_to_save().starts_with("{\n  \"version\": 1,"), "an edited file is written canonically");
    }

    #[test]
    fn dirty_tracking_follows_edits_undo_and_save() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let rev = doc.revision();
        assert!(set_description(&mut doc, "New"));
        assert!(doc.revision() > rev);
        assert!(doc.is_dirty());
        assert_eq!(doc.title(), "*flags.json");
        assert!(!set_description(&mut doc, "New"), "an edit that changes nothing is not a step");
        doc.undo();
        assert!(!doc.is_dirty(), "back to the saved version");
        doc.redo();
        assert!(doc.is_dirty());
        doc.save().unwrap();
        assert!(!doc.is_dirty());
        assert!(doc.pending_diff().is_empty());
        assert!(fs::read_to_string(&path).unwrap().contains("\"New\""));
    }

    #[test]
    fn undo_and_redo_walk_the_history_with_labels() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        assert!(!doc.can_undo() && !doc.can_redo());
        let original = doc.model().unwrap().clone();
        set_description(&mut doc, "one");
        let key = first_flag(&doc);
        doc.edit("Delete flag", |m| {
            m.flags.shift_remove(&key);
        });
        assert_eq!(doc.undo_label(), Some("Delete flag"));
        assert!(doc.undo());
        assert_eq!(doc.redo_label(), Some("Delete flag"));
        assert_eq!(doc.undo_label(), Some("Edit description"));
        assert!(doc.undo());
        assert_eq!(doc.model().unwrap(), &original);
        assert!(!doc.undo());
        assert!(doc.redo() && doc.redo());
        assert!(!doc.model().unwrap().flags.contains_key(&key));
        assert!(!doc.redo());
        doc.undo();
        set_description(&mut doc, "two");
        assert!(!doc.can_redo(), "a new edit clears redo");
    }

    #[test]
    fn history_is_bounded_and_merging_edits_are_one_step() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        for i in 0..UNDO_LIMIT + 20 {
            set_description(&mut doc, &i.to_string());
        }
        let mut steps = 0;
        while doc.undo() {
            steps += 1;
        }
        assert_eq!(steps, UNDO_LIMIT);

        let mut doc = Document::open(&path).unwrap();
        let key = first_flag(&doc);
        for i in 0..10 {
            doc.edit_merging("Drag weight", |m| Arc::make_mut(&mut m.flags[&key]).description = Some(i.to_string()));
        }
        set_description(&mut doc, "after");
        doc.edit_merging("Drag weight", |m| Arc::make_mut(&mut m.flags[&key]).description = Some("x".into()));
        assert!(doc.undo() && doc.undo() && doc.undo());
        assert!(!doc.can_undo());
    }

    #[test]
    fn try_edit_keeps_the_model_on_refusal() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let key = first_flag(&doc);
        let result = doc.try_edit("Rename flag", |m| burgee_rules::edit::rename_flag(m, &key, "bad key"));
        assert!(result.unwrap().is_err());
        assert!(!doc.is_dirty() && !doc.can_undo());
        let result = doc.try_edit("Rename flag", |m| burgee_rules::edit::rename_flag(m, &key, "renamed"));
        assert!(result.unwrap().is_ok());
        assert_eq!(doc.undo_label(), Some("Rename flag"));
        assert_eq!(doc.error_count(), 0);
    }

    #[test]
    fn save_is_refused_while_there_are_errors_and_errors_are_found_by_pointer() {
        let (_dir, path) = example();
        let before = fs::read(&path).unwrap();
        let mut doc = Document::open(&path).unwrap();
        let key = first_flag(&doc);
        doc.edit("Set off", |m| Arc::make_mut(&mut m.flags[&key]).off = "no-such-variant".into());
        assert!(doc.error_count() >= 1);
        assert!(doc.compiled().is_none());
        assert!(doc.saved_compiled().is_some());
        let at = format!("/flags/{key}");
        assert!(doc.diagnostics_under(&at).any(|d| d.pointer == format!("{at}/off") && d.is_error()));
        let off = format!("{at}/off");
        assert!(doc.diagnostics_under(&off).count() >= 1);
        assert!(doc.diagnostics_under(&off).all(|d| d.pointer == off));
        assert!(matches!(doc.save(), Err(SaveError::HasErrors(n)) if n == doc.error_count()));
        assert_eq!(fs::read(&path).unwrap(), before);
        doc.undo();
        assert!(doc.compiled().is_some());
    }

    #[test]
    fn pointer_prefixes_match_whole_segments() {
        assert!(pointer_is_under("/flags/a", "/flags/a"));
        assert!(pointer_is_under("/flags/a/off", "/flags/a"));
        assert!(!pointer_is_under("/flags/ab", "/flags/a"));
        assert!(pointer_is_under("/flags/ab", ""));
        assert!(!pointer_is_under("/flags", "/flags/a"));
    }

    #[test]
    fn save_replaces_the_file_by_rename_and_leaves_no_temp_file() {
        use std::os::unix::fs::MetadataExt;
        let (dir, path) = example();
        let inode = fs::metadata(&path).unwrap().ino();
        let mut doc = Document::open(&path).unwrap();
        set_description(&mut doc, "atomic");
        doc.save().unwrap();
        assert_ne!(fs::metadata(&path).unwrap().ino(), inode);
        assert_eq!(files_in(dir.path()), ["flags.json"]);
        // The saved file is what `burgee-sidecar check` accepts, and it is now the base.
        let loaded = burgee_rules::load(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(&loaded.file, doc.model().unwrap());
        assert_eq!(doc.disk_state(), DiskState::Unchanged);
        set_description(&mut doc, "again");
        doc.save().unwrap();
    }

    #[test]
    fn an_external_change_refuses_save_until_the_person_has_seen_it() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        assert_eq!(doc.disk_state(), DiskState::Unchanged);
        set_description(&mut doc, "mine");
        let theirs = fs::read_to_string(&path).unwrap().replacen("\"version\": 1", "\"version\":  1", 1);
        write_externally(&path, &theirs);
        assert_eq!(doc.disk_state(), DiskState::Changed);
        assert!(matches!(doc.save(), Err(SaveError::ChangedOnDisk)));
        assert_eq!(fs::read_to_string(&path).unwrap(), theirs, "their file is untouched");

        let seen = doc.read_disk().unwrap();
        assert!(!doc.is_base(&seen) && seen.exists() && seen.text() == theirs);
        doc.save_over(&seen).unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("\"mine\""));
        assert!(!doc.is_dirty());
        assert_eq!(doc.disk_state(), DiskState::Unchanged);
    }

    #[test]
    fn three_disk_changes_in_a_row_are_never_overwritten_unseen() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        set_description(&mut doc, "mine");
        write_externally(&path, &fs::read_to_string(&path).unwrap().replace("One-page", "First change"));
        let first = doc.read_disk().unwrap();
        write_externally(&path, &fs::read_to_string(&path).unwrap().replace("\"version\": 1", "\"version\":   1"));
        assert!(matches!(doc.save_over(&first), Err(SaveError::ChangedOnDisk)), "the second change was not seen");
        let second = doc.read_disk().unwrap();
        let third_text = fs::read_to_string(&path).unwrap().replace("\"version\":   1", "\"version\":    1");
        write_externally(&path, &third_text);
        assert!(matches!(doc.save_over(&second), Err(SaveError::ChangedOnDisk)));
        assert!(matches!(doc.save(), Err(SaveError::ChangedOnDisk)));
        assert_eq!(fs::read_to_string(&path).unwrap(), third_text, "nothing was written");
        let third = doc.read_disk().unwrap();
        doc.save_over(&third).unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("\"mine\""));
    }

    #[test]
    fn a_removed_file_is_missing_and_written_again_only_when_confirmed() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        fs::remove_file(&path).unwrap();
        assert_eq!(doc.disk_state(), DiskState::Missing);
        set_description(&mut doc, "x");
        assert!(matches!(doc.save(), Err(SaveError::MissingOnDisk)));
        write_externally(&path, &text);
        assert_eq!(doc.disk_state(), DiskState::Unchanged, "same content back: new inode, same hash");
        fs::remove_file(&path).unwrap();
        let gone = doc.read_disk().unwrap();
        assert!(!gone.exists());
        doc.save_over(&gone).unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("\"x\""));
    }

    /// The example with `f(flag)` applied to flag `key`, as text.
    fn edited_text(doc: &Document, key: &str, f: impl FnOnce(&mut burgee_rules::model::Flag)) -> String {
        let mut theirs = doc.saved_model().unwrap().clone();
        f(Arc::make_mut(&mut theirs.flags[key]));
        serialize::to_string(&theirs)
    }

    #[test]
    fn a_disk_change_to_another_flag_merges_with_unsaved_edits_and_undo_takes_it_back() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let mine = first_flag(&doc);
        let other = doc.model().unwrap().flags.keys().nth(1).unwrap().clone();
        set_description(&mut doc, "mine");
        write_externally(&path, &edited_text(&doc, &other, |f| f.description = Some("theirs".into())));
        let disk = doc.read_disk().unwrap();
        assert!(doc.conflicts_with(&disk).is_empty());
        doc.merge_disk(&disk, |_| None).unwrap();
        let model = doc.model().unwrap();
        assert_eq!(model.flags[&mine].description.as_deref(), Some("mine"));
        assert_eq!(model.flags[&other].description.as_deref(), Some("theirs"));
        assert!(doc.is_dirty() && doc.is_base(&disk));
        assert_eq!(doc.saved_text(), disk.text(), "the pending diff is against their version");
        let original = doc.model().unwrap().flags[&mine].clone();

        // Undo takes the merge back: mine alone, as unsaved changes over theirs,
        // so the diff shows saving would put their flag back as it was.
        assert_eq!(doc.undo_label(), Some("Merge changes from disk"));
        doc.undo();
        assert_ne!(doc.model().unwrap().flags[&other].description.as_deref(), Some("theirs"));
        assert!(doc.pending_diff().iter().any(|l| l.kind == DiffKind::Removed && l.text.contains("theirs")));
        doc.redo();
        assert_eq!(doc.model().unwrap().flags[&mine], original);
        doc.save().unwrap();
        let saved = fs::read_to_string(&path).unwrap();
        assert!(saved.contains("\"mine\"") && saved.contains("\"theirs\""));
    }

    #[test]
    fn edits_of_the_same_flag_on_both_sides_conflict_until_a_side_is_chosen() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let key = first_flag(&doc);
        set_description(&mut doc, "mine");
        write_externally(&path, &edited_text(&doc, &key, |f| f.description = Some("theirs".into())));
        let disk = doc.read_disk().unwrap();
        let conflicts = doc.conflicts_with(&disk);
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].subject, Subject::Flag(key.clone()));
        assert!(matches!(doc.merge_disk(&disk, |_| None), Err(MergeError::Conflicts(c)) if c.len() == 1));
        assert_eq!(doc.model().unwrap().flags[&key].description.as_deref(), Some("mine"), "nothing changed");
        doc.merge_disk(&disk, |_| Some(Side::Theirs)).unwrap();
        assert_eq!(doc.model().unwrap().flags[&key].description.as_deref(), Some("theirs"));
        assert!(!doc.is_dirty(), "their version everywhere: nothing left to save");
        doc.undo();
        assert_eq!(doc.model().unwrap().flags[&key].description.as_deref(), Some("mine"));
        assert!(doc.is_dirty());
    }

    #[test]
    fn a_file_on_disk_that_does_not_parse_cannot_be_merged() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        set_description(&mut doc, "mine");
        write_externally(&path, "{ not json");
        let disk = doc.read_disk().unwrap();
        assert!(disk.model().is_none() && !disk.load_errors().is_empty());
        assert_eq!(doc.merge_disk(&disk, |_| Some(Side::Ours)), Err(MergeError::NotAFlagsFile));
    }

    #[test]
    fn an_unfinished_rule_blocks_saving_and_previews_leave_it_out() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let key = first_flag(&doc);
        let env = doc.model().unwrap().flags[&key].environments.keys().next().unwrap().clone();
        let before = doc.compiled().unwrap();
        doc.edit("Add rule", |m| {
            let e = Arc::make_mut(&mut m.flags[&key]).environments.get_mut(&env).unwrap();
            let rule = Rule {
                id: "new".into(),
                description: None,
                segment: None,
                matches: None,
                serve: Serve::Variant(String::new()),
            };
            e.rules.get_or_insert_with(Vec::new).insert(0, rule);
        });
        assert_eq!(doc.unfinished_rules(), [(key.clone(), env.clone(), 0)]);
        assert!(doc.diagnostics().iter().any(|d| d.message.contains("not finished")));
        assert!(matches!(doc.save(), Err(SaveError::HasErrors(1))));
        let preview = doc.compiled_for(&[&key]).expect("previews work without the unfinished rule");
        let e = (before.environment(&env).unwrap(), preview.environment(&env).unwrap());
        for user in ["user-1", "user-42", "someone"] {
            let context = burgee_rules::Context::with_key(user);
            assert_eq!(before.evaluate(&key, e.0, &context), preview.evaluate(&key, e.1, &context), "{user}");
        }
    }

    #[test]
    fn reload_takes_the_disk_version_and_can_be_undone() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        set_description(&mut doc, "mine");
        let mut theirs = doc.model().unwrap().clone();
        let key = first_flag(&doc);
        Arc::make_mut(&mut theirs.flags[&key]).description = Some("theirs".into());
        write_externally(&path, &serialize::to_string(&theirs));
        assert_eq!(doc.disk_state(), DiskState::Changed);
        let rev = doc.revision();
        doc.reload_from_disk().unwrap();
        assert!(doc.revision() > rev);
        assert_eq!(doc.model().unwrap(), &theirs);
        assert!(!doc.is_dirty());
        assert_eq!(doc.disk_state(), DiskState::Unchanged);
        assert_eq!(doc.undo_label(), Some("Reload from disk"));
        doc.undo();
        assert_eq!(doc.model().unwrap().flags[&key].description.as_deref(), Some("mine"));
        assert!(doc.is_dirty());
        doc.save().unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("\"mine\""));
    }

    #[test]
    fn a_broken_file_opens_read_only_with_its_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.json");
        fs::write(&path, "{\"version\": 1,\n  \"environments\": [\"p\"]\n  \"flags\": {}}").unwrap();
        let mut doc = Document::open(&path).unwrap();
        assert!(doc.model().is_none() && doc.is_read_only());
        assert_eq!(doc.load_errors().len(), 1);
        assert_eq!(doc.load_errors()[0].location.map(|l| l.line), Some(3));
        assert_eq!(doc.error_count(), 1);
        assert_eq!(doc.title(), "broken.json (read-only)");
        assert!(!doc.edit("x", |m| m.environments.clear()));
        assert!(doc.compiled().is_none() && doc.pending_diff().is_empty() && !doc.is_dirty());
        assert!(matches!(doc.save(), Err(SaveError::ReadOnly)));

        // Fixed on disk: reloading makes it editable.
        write_externally(&path, r#"{"version": 1, "environments": ["p"], "flags": {}}"#);
        doc.reload_from_disk().unwrap();
        assert!(doc.model().is_some() && doc.load_errors().is_empty());
    }

    #[test]
    fn unknown_fields_are_load_errors_too() {
        let doc = Document::from_text(None, r#"{"version": 1, "environments": ["p"], "flags": {}, "colour": 1}"#);
        assert!(doc.is_read_only());
        assert_eq!(doc.load_errors()[0].pointer, "/colour");
    }

    #[test]
    fn a_new_document_saves_as_and_then_saves() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = Document::from_text(None, "{\"version\": 1, \"environments\": [\"production\"], \"flags\": {}}");
        assert_eq!(doc.title(), "untitled");
        assert_eq!(doc.disk_state(), DiskState::Unchanged);
        assert!(matches!(doc.save(), Err(SaveError::NoPath)));
        let path = dir.path().join("new.json");
        doc.save_as(&path).unwrap();
        assert_eq!(doc.path(), Some(path.as_path()));
        assert_eq!(doc.title(), "new.json");
        doc.edit("Add environment", |m| m.environments.push("staging".into()));
        doc.save().unwrap();
        assert!(burgee_rules::load(&fs::read_to_string(&path).unwrap()).is_ok());
    }

    #[test]
    fn compiled_for_a_flag_is_the_saved_form_until_an_edit_then_a_slice_that_evaluates_alike() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let key = first_flag(&doc);
        assert!(Arc::ptr_eq(&doc.compiled_for(&[&key]).unwrap(), &doc.saved_compiled().unwrap()));
        set_description(&mut doc, "edited");
        let slice = doc.compiled_for(&[&key]).unwrap();
        assert!(Arc::ptr_eq(&slice, &doc.compiled_for(&[&key]).unwrap()), "cached per revision");
        let whole = doc.compiled().unwrap();
        assert!(slice.flag_count() <= whole.flag_count());
        for env in whole.environment_keys() {
            for user in ["user-1", "user-1001", "user-2002", "anyone"] {
                let context = burgee_rules::Context::with_key(user);
                let (a, b) = (whole.environment(env).unwrap(), slice.environment(env).unwrap());
                assert_eq!(whole.evaluate(&key, a, &context), slice.evaluate(&key, b, &context), "{env} {user}");
            }
        }
        doc.edit("Break", |m| Arc::make_mut(&mut m.flags[&key]).off = "no-such-variant".into());
        assert!(doc.compiled_for(&[&key]).is_none());
    }

    #[test]
    fn compiled_is_cached_per_revision_and_saved_compiled_follows_saves() {
        let (_dir, path) = example();
        let mut doc = Document::open(&path).unwrap();
        let a = doc.compiled().unwrap();
        assert!(Arc::ptr_eq(&a, &doc.compiled().unwrap()));
        assert!(Arc::ptr_eq(&a, &doc.saved_compiled().unwrap()));
        let key = first_flag(&doc);
        let env = doc.model().unwrap().flags[&key].environments.keys().next().unwrap().clone();
        doc.edit("Toggle", |m| {
            let e = &mut Arc::make_mut(&mut m.flags[&key]).environments[&env];
            e.enabled = !e.enabled;
        });
        let b = doc.compiled().unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(&a, &doc.saved_compiled().unwrap()));
        doc.save().unwrap();
        assert!(Arc::ptr_eq(&b, &doc.saved_compiled().unwrap()));
    }
}
