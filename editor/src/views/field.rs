//! Text fields whose typed text is never lost: what the person typed is
//! either applied to the file or kept, visibly marked "not applied" with the
//! reason, until they fix it, press Esc, or discard it.
//!
//! Two kinds:
//! - [`commit_field`] for keys and names whose every keystroke would be a bad
//!   edit (a flag key, a variant key, a rule id, a key to add to a list): the
//!   text is applied when the person presses Enter or the field loses focus
//!   in any way — a click elsewhere, another page, Save. The app applies
//!   entries whose field lost focus without being drawn again
//!   ([`Pending::commit_unfocused`]), so clicking another flag in the list
//!   still renames the one being edited. Refused text (an invalid or taken
//!   key) stays in the field with the reason.
//! - [`live_field`] for values applied as they are typed (a condition value,
//!   a number): text that does not read as a value stays in the field,
//!   marked, and nothing changes in the file.
//!
//! Esc in a field puts back the file's value. Every entry not applied is
//! listed by [`Pending::entries`] (the app shows the count in its toolbar).

use std::sync::Arc;

use eframe::egui::{self, RichText};

use crate::document::Document;

/// What applying a typed value did, for the app to follow (a rename moves
/// the selection to the new key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The edit was made; nothing else to do.
    Done,
    /// Flag `from` is now `to`.
    FlagRenamed {
        /// The old key.
        from: String,
        /// The new key.
        to: String,
        /// How many references were updated.
        references: usize,
    },
    /// Segment `from` is now `to`.
    SegmentRenamed {
        /// The old key.
        from: String,
        /// The new key.
        to: String,
        /// How many references were updated.
        references: usize,
    },
}

/// What [`Document::try_edit`] gave, as an [`Apply`] result: `done` of the
/// edit's value, its error in words, or "read-only".
pub fn applied<T, E: std::fmt::Display>(
    result: Option<Result<T, E>>,
    done: impl FnOnce(T) -> Applied,
) -> Result<Applied, String> {
    match result {
        Some(Ok(value)) => Ok(done(value)),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("the file is read-only".to_owned()),
    }
}

/// Applies typed text to the document: `Ok` with what it did, or `Err` with
/// why the text was refused (shown next to the field; nothing changed).
pub type Apply = Arc<dyn Fn(&mut Document, &str) -> Result<Applied, String> + Send + Sync>;

/// One field's typed text that is not in the file.
#[derive(Clone)]
pub struct Entry {
    /// The field.
    pub id: egui::Id,
    /// What the field is, for people: "flag key of `new-checkout`".
    pub what: String,
    /// Where in the file it belongs (a JSON pointer), to go there.
    pub pointer: String,
    /// The text as typed.
    pub text: String,
    /// Why it was not applied, once it was tried.
    pub error: Option<String>,
    /// How to apply it when its field loses focus (`None` for live fields,
    /// whose text cannot be applied as it is).
    apply: Option<Apply>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("what", &self.what).field("text", &self.text).field("error", &self.error).finish()
    }
}

/// Every field's text not applied yet, kept in egui's memory (like a text
/// field's cursor) so any view can reach it.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    entries: Vec<Entry>,
}

fn memory_id() -> egui::Id {
    egui::Id::unique("burgee-pending-fields")
}

impl Pending {
    /// A copy of what is pending now.
    pub fn get(ctx: &egui::Context) -> Pending {
        ctx.data(|d| d.get_temp::<Pending>(memory_id())).unwrap_or_default()
    }

    fn update<R>(ctx: &egui::Context, f: impl FnOnce(&mut Pending) -> R) -> R {
        ctx.data_mut(|d| f(d.get_temp_mut_or_default::<Pending>(memory_id())))
    }

    /// The entries, in the order they were typed.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// How many typed values are not in the file.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether every typed value is in the file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, id: egui::Id) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    fn put(&mut self, entry: Entry) {
        match self.entries.iter_mut().find(|e| e.id == entry.id) {
            Some(e) => *e = entry,
            None => self.entries.push(entry),
        }
    }

    /// Drop the typed text of field `id` (the field shows the file's value again).
    pub fn discard(ctx: &egui::Context, id: egui::Id) {
        Pending::update(ctx, |p| p.entries.retain(|e| e.id != id));
    }

    /// Drop every entry (another file was opened).
    pub fn clear(ctx: &egui::Context) {
        Pending::update(ctx, |p| p.entries.clear());
    }

    /// Apply every commit entry whose field does not have the keyboard (its
    /// field lost focus without being drawn again: the person clicked another
    /// flag, another page…). Returns what was applied; refused text stays.
    pub fn commit_unfocused(ctx: &egui::Context, doc: &mut Document) -> Vec<Applied> {
        let focused = ctx.memory(|m| m.focused());
        Pending::commit_where(ctx, doc, |e| Some(e.id) != focused && e.error.is_none())
    }

    /// Apply every commit entry, focused or not (before a save or a close).
    pub fn commit_all(ctx: &egui::Context, doc: &mut Document) -> Vec<Applied> {
        Pending::commit_where(ctx, doc, |_| true)
    }

    fn commit_where(ctx: &egui::Context, doc: &mut Document, which: impl Fn(&Entry) -> bool) -> Vec<Applied> {
        let todo: Vec<Entry> =
            Pending::get(ctx).entries.into_iter().filter(|e| e.apply.is_some() && which(e)).collect();
        let mut done = Vec::new();
        for entry in todo {
            let Some(apply) = &entry.apply else { continue };
            match apply(doc, &entry.text) {
                Ok(applied) => {
                    Pending::discard(ctx, entry.id);
                    done.push(applied);
                }
                Err(why) => Pending::update(ctx, |p| p.put(Entry { error: Some(why), ..entry.clone() })),
            }
        }
        done
    }
}

/// How a typed field looks and what it is.
#[derive(Debug, Clone)]
pub struct FieldSpec<'a> {
    /// The file's value, shown while nothing is typed.
    pub current: &'a str,
    /// Shown in an empty field.
    pub hint: &'a str,
    /// The smallest width; the field grows with its text.
    pub min_width: f32,
    /// The visible label naming the field, if any (else `what` names it).
    pub label: Option<egui::Id>,
    /// What the field is, for people and for the not-applied list.
    pub what: String,
    /// Where in the file it belongs.
    pub pointer: String,
    /// The caller shows the "not applied" mark itself ([`mark`]), e.g. at
    /// the end of a table row so nothing in the row moves.
    pub mark_elsewhere: bool,
}

impl<'a> FieldSpec<'a> {
    /// A field showing `current`, described as `what`, at `pointer`.
    pub fn new(current: &'a str, what: impl Into<String>, pointer: impl Into<String>) -> Self {
        FieldSpec {
            current,
            hint: "",
            min_width: 140.0,
            label: None,
            what: what.into(),
            pointer: pointer.into(),
            mark_elsewhere: false,
        }
    }

    /// With a hint shown while empty.
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = hint;
        self
    }

    /// At least this wide.
    pub fn min_width(mut self, width: f32) -> Self {
        self.min_width = width;
        self
    }

    /// The "not applied" mark is drawn by the caller with [`mark`].
    pub fn mark_elsewhere(mut self) -> Self {
        self.mark_elsewhere = true;
        self
    }

    /// Named by this visible label.
    pub fn labelled_by(mut self, label: egui::Id) -> Self {
        self.label = Some(label);
        self
    }
}

/// The width a field needs for `text` (at least `min`, at most 420 points).
pub fn width_for(ui: &egui::Ui, text: &str, min: f32) -> f32 {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let galley = ui.painter().layout_no_wrap(text.to_owned(), font, egui::Color32::WHITE);
    (galley.size().x + 24.0).clamp(min, 420.0)
}

/// Draw the text edit of field `id`; returns its response, the text in it,
/// and whether Esc was pressed in it this frame.
fn text_edit(
    ui: &mut egui::Ui,
    id: egui::Id,
    spec: &FieldSpec<'_>,
    shown: &mut String,
    marked: bool,
) -> egui::Response {
    let width = width_for(ui, if shown.is_empty() { spec.hint } else { shown }, spec.min_width);
    // Not clipped: the field is as wide as its text needs, wherever it sits.
    let mut edit = egui::TextEdit::singleline(shown).id(id).desired_width(width).clip_text(false);
    if !spec.hint.is_empty() {
        edit = edit.hint_text(spec.hint);
    }
    if marked {
        edit = edit.text_color(ui.visuals().warn_fg_color);
    }
    let response = ui.add(edit);
    match spec.label {
        Some(label) => response.labelled_by(label),
        None => response.accessible_name(&spec.what),
    }
}

/// The "not applied" mark after a field: the reason, on the same row.
fn not_applied_mark(ui: &mut egui::Ui, entry: Option<&Entry>) {
    let Some(entry) = entry else { return };
    let text = match &entry.error {
        Some(why) => format!("not applied: {why}"),
        None => "not applied yet (Enter applies, Esc puts back)".to_owned(),
    };
    let color = if entry.error.is_some() { ui.visuals().error_fg_color } else { ui.visuals().warn_fg_color };
    ui.label(RichText::new(text).color(color).small());
}

/// A field applied on Enter or when it loses focus (see the [module docs](self)).
/// Returns what applying did, on the frame it happened here.
pub fn commit_field(
    ui: &mut egui::Ui,
    doc: &mut Document,
    id: egui::Id,
    spec: FieldSpec<'_>,
    apply: Apply,
) -> Option<Applied> {
    let ctx = ui.ctx().clone();
    let entry = Pending::get(&ctx).entry(id).cloned();
    let mut shown = entry.as_ref().map_or_else(|| spec.current.to_owned(), |e| e.text.clone());
    let response = text_edit(ui, id, &spec, &mut shown, entry.is_some());
    let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
    let typed = |error: Option<String>| Entry {
        id,
        what: spec.what.clone(),
        pointer: spec.pointer.clone(),
        text: shown.clone(),
        error,
        apply: Some(Arc::clone(&apply)),
    };
    let mut applied = None;
    if response.lost_focus() && escape {
        Pending::discard(&ctx, id);
    } else if shown == spec.current {
        if entry.is_some() {
            Pending::discard(&ctx, id);
        }
    } else if response.lost_focus() {
        match apply(doc, &shown) {
            Ok(done) => {
                Pending::discard(&ctx, id);
                applied = Some(done);
            }
            Err(why) => Pending::update(&ctx, |p| p.put(typed(Some(why)))),
        }
    } else if response.changed() {
        Pending::update(&ctx, |p| p.put(typed(None)));
    }
    let entry = Pending::get(&ctx).entry(id).cloned();
    // While typing, no mark; once the field is left with text not applied, the reason.
    if !spec.mark_elsewhere && (!response.has_focus() || entry.as_ref().is_some_and(|e| e.error.is_some())) {
        not_applied_mark(ui, entry.as_ref());
    }
    applied
}

/// The "not applied" mark of field `id`, for a field whose spec said
/// [`FieldSpec::mark_elsewhere`].
pub fn mark(ui: &mut egui::Ui, id: egui::Id) {
    let focused = ui.ctx().memory(|m| m.has_focus(id));
    let entry = Pending::get(ui.ctx()).entry(id).cloned();
    if !focused || entry.as_ref().is_some_and(|e| e.error.is_some()) {
        not_applied_mark(ui, entry.as_ref());
    }
}

/// A field applied as it is typed: `parse` reads the text; while it fails,
/// the text stays in the field marked "not applied" and nothing changes.
/// Returns the value to apply, on the frame it was typed.
pub fn live_field<T>(
    ui: &mut egui::Ui,
    id: egui::Id,
    spec: FieldSpec<'_>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let ctx = ui.ctx().clone();
    let entry = Pending::get(&ctx).entry(id).cloned();
    let mut shown = entry.as_ref().map_or_else(|| spec.current.to_owned(), |e| e.text.clone());
    let response = text_edit(ui, id, &spec, &mut shown, entry.is_some());
    let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
    let mut out = None;
    if response.lost_focus() && escape {
        Pending::discard(&ctx, id);
    } else if response.changed() {
        match parse(&shown) {
            Ok(value) => {
                Pending::discard(&ctx, id);
                if shown != spec.current {
                    out = Some(value);
                }
            }
            Err(why) => Pending::update(&ctx, |p| {
                p.put(Entry {
                    id,
                    what: spec.what.clone(),
                    pointer: spec.pointer.clone(),
                    text: shown.clone(),
                    error: Some(why),
                    apply: None,
                })
            }),
        }
    }
    not_applied_mark(ui, Pending::get(&ctx).entry(id));
    out
}

/// A field that adds something when the person presses Enter (a value to a
/// list, a target key, a new variant's key). Returns the text on Enter; the
/// caller adds it, or calls [`refuse`] to say why not. Text typed and left
/// without Enter stays in the field, marked "not added yet".
pub fn draft_field(ui: &mut egui::Ui, id: egui::Id, spec: FieldSpec<'_>) -> Option<String> {
    let ctx = ui.ctx().clone();
    let entry = Pending::get(&ctx).entry(id).cloned();
    let mut shown = entry.as_ref().map_or_else(String::new, |e| e.text.clone());
    let response = text_edit(ui, id, &spec, &mut shown, entry.is_some());
    let (escape, enter) = ui.input(|i| (i.key_pressed(egui::Key::Escape), i.key_pressed(egui::Key::Enter)));
    let mut out = None;
    if response.lost_focus() && escape || shown.is_empty() {
        Pending::discard(&ctx, id);
    } else if response.lost_focus() && enter {
        Pending::discard(&ctx, id);
        out = Some(shown);
        // Ready for the next one.
        ctx.memory_mut(|m| m.request_focus(id));
    } else if response.changed() {
        Pending::update(&ctx, |p| {
            p.put(Entry {
                id,
                what: spec.what.clone(),
                pointer: spec.pointer.clone(),
                text: shown.clone(),
                error: None,
                apply: None,
            })
        });
    }
    if let Some(entry) = Pending::get(&ctx).entry(id).filter(|e| !response.has_focus() || e.error.is_some()) {
        let (text, color) = match &entry.error {
            Some(why) => (format!("not added: {why}"), ui.visuals().error_fg_color),
            None => ("not added yet: press Enter to add it, Esc to clear".to_owned(), ui.visuals().warn_fg_color),
        };
        ui.label(RichText::new(text).color(color).small());
    }
    out
}

/// Keep `text` in field `id` with the reason it was refused (after
/// [`draft_field`] returned it and adding it failed).
pub fn refuse(ctx: &egui::Context, id: egui::Id, spec: &FieldSpec<'_>, text: &str, why: impl Into<String>) {
    Pending::update(ctx, |p| {
        p.put(Entry {
            id,
            what: spec.what.clone(),
            pointer: spec.pointer.clone(),
            text: text.to_owned(),
            error: Some(why.into()),
            apply: None,
        })
    });
}
