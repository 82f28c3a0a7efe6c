//! The segments page: a list of segments and, for the selected one, its
//! description, included and excluded keys, the condition-tree builder, and
//! how many sample users it holds; create, rename (references follow) and
//! delete (listing what refers to it).

use std::sync::Arc;

use burgee_rules::edit::{delete_segment, references_to_segment, rename_segment};
use burgee_rules::model::{Condition, Segment};
use eframe::egui::{self, RichText};

use super::condition::{ConditionAt, condition_ui, new_leaf};
use super::field::{Applied, Apply, FieldSpec, applied, commit_field, draft_field};
use super::preview::PreviewPanel;
use super::{diagnostics_at, inline_diagnostics, unique_key};
use crate::document::Document;
use crate::preview::chart::segment_label;

/// What the segments page remembers.
#[derive(Debug, Clone, Default)]
pub struct SegmentsView {
    /// The selected segment.
    pub selected: Option<String>,
    /// The last result message and the segment it is about: shown on that
    /// segment's page only, cleared when the person moves on.
    pub message: Option<(String, String)>,
    /// Waiting for confirmation to delete this segment.
    pub confirm_delete: Option<String>,
}

fn edit_segment(doc: &mut Document, label: &str, key: &str, f: impl FnOnce(&mut Segment)) {
    doc.edit(label, |m| {
        if let Some(s) = m.segments.as_mut().and_then(|s| s.get_mut(key).map(Arc::make_mut)) {
            f(s);
        }
    });
}

/// The list of segments (for the left panel).
/// With each segment, how many sample users it holds.
pub fn segment_list_ui(ui: &mut egui::Ui, doc: &mut Document, view: &mut SegmentsView, preview: &mut PreviewPanel) {
    let Some(file) = doc.shared_model() else { return };
    let keys: Vec<String> = file.segments.as_ref().map(|s| s.keys().cloned().collect()).unwrap_or_default();
    // Only the visible rows are laid out and counted, so a file of 1,000
    // segments scrolls as smoothly as one of ten.
    let row_height = ui.spacing().interact_size.y;
    let scroll = egui::ScrollArea::vertical().id_salt("segment-list").max_height(ui.available_height() - 40.0);
    scroll.show_rows(ui, row_height, keys.len(), |ui, rows| {
        for key in &keys[rows] {
            ui.horizontal(|ui| {
                let selected = view.selected.as_deref() == Some(key.as_str());
                if ui.selectable_label(selected, RichText::new(key).monospace()).clicked() {
                    view.selected = Some(key.clone());
                }
                if let Some(n) = preview.segment_count(doc, key) {
                    // Cut short rather than widen the panel (it keeps its width on every page).
                    let count = RichText::new(format!("{} users", crate::preview::chart::thousands(n))).weak();
                    ui.add(egui::Label::new(count).truncate());
                }
            });
        }
    });
    if ui.button("New segment").clicked() {
        let key = unique_key("new-segment", |k| file.segments.as_ref().is_some_and(|s| s.contains_key(k)));
        doc.edit("Create segment", |m| {
            m.segments.get_or_insert_with(Default::default).insert(key.clone(), Arc::default());
        });
        view.selected = Some(key);
    }
}

/// A list of targeting keys with remove buttons and a field to add one
/// (type a key, press Enter).
fn key_list_ui(ui: &mut egui::Ui, id: egui::Id, what: &str, pointer: &str, keys: &[String]) -> Option<Vec<String>> {
    let mut out = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{what}:")).strong());
        for (i, k) in keys.iter().enumerate() {
            ui.label(k);
            if ui.small_button("x").accessible_name(format!("Remove {k} from {what}")).clicked() {
                let mut next = keys.to_vec();
                next.remove(i);
                out = Some(next);
            }
        }
        let spec = FieldSpec::new("", format!("Add key to {what}"), pointer).hint("targeting key, then Enter");
        if let Some(new) = draft_field(ui, id, spec)
            && !keys.contains(&new)
        {
            let mut next = keys.to_vec();
            next.push(new);
            out = Some(next);
        }
    });
    out
}

/// How a segment rename typed in its key field is applied (now, or by the
/// app when the field lost focus without being drawn again).
pub fn rename_segment_apply(from: &str) -> Apply {
    let from = from.to_owned();
    Arc::new(move |doc: &mut Document, text: &str| {
        let to = text.trim().to_owned();
        let result = doc.try_edit("Rename segment", |m| rename_segment(m, &from, &to));
        applied(result, |references| Applied::SegmentRenamed { from: from.clone(), to, references })
    })
}

/// The page of the selected segment.
pub fn segment_ui(ui: &mut egui::Ui, doc: &mut Document, view: &mut SegmentsView, preview: &mut PreviewPanel) {
    let Some(file) = doc.shared_model() else { return };
    let Some(key) = view.selected.clone() else {
        ui.label("Select a segment on the left.");
        return;
    };
    let Some(segment) = file.segments.as_ref().and_then(|s| s.get(&key)) else {
        view.selected = None;
        return;
    };
    let pointer = format!("/segments/{}", super::escape(&key));
    ui.horizontal(|ui| {
        ui.heading(RichText::new(&key).monospace());
        let l = ui.label("Segment key");
        let spec = FieldSpec::new(&key, format!("key of segment `{key}`"), &pointer).labelled_by(l.id);
        let id = egui::Id::unique(("segment-key", &key));
        if let Some(Applied::SegmentRenamed { from, to, references }) =
            commit_field(ui, doc, id, spec, rename_segment_apply(&key))
        {
            view.message = Some((to.clone(), super::renamed_message(&from, &to, references)));
            view.selected = Some(to);
        }
        if ui.button("Delete segment").clicked() {
            view.confirm_delete = Some(key.clone());
        }
    });
    if view.confirm_delete.as_deref() == Some(key.as_str()) {
        let refs = references_to_segment(&file, &key);
        let question = format!("Delete segment `{key}`?");
        match super::confirm_delete_ui(ui, "delete-segment", &question, &refs, "Delete segment") {
            Some(true) => {
                let _ = doc.try_edit("Delete segment", |m| delete_segment(m, &key));
                view.confirm_delete = None;
                view.selected = None;
            }
            Some(false) => view.confirm_delete = None,
            None => {}
        }
    }
    if let Some((about, m)) = &view.message
        && *about == key
    {
        ui.label(RichText::new(m).color(ui.visuals().weak_text_color()));
    }
    diagnostics_at(ui, doc, &pointer);
    if let Some(n) = preview.segment_count(doc, &key) {
        ui.label(RichText::new(segment_label(&key, n, preview.population.len())).strong());
    }
    let mut description = segment.description.clone().unwrap_or_default();
    ui.horizontal(|ui| {
        let l = ui.label("Description");
        let r = ui.add(egui::TextEdit::multiline(&mut description).desired_rows(2)).labelled_by(l.id);
        if r.changed() {
            doc.edit_merging("Edit segment description", |m| {
                if let Some(s) = m.segments.as_mut().and_then(|s| s.get_mut(&key).map(Arc::make_mut)) {
                    s.description = (!description.is_empty()).then(|| description.clone());
                }
            });
        }
    });
    let included = segment.included.clone().unwrap_or_default();
    let at = format!("{pointer}/included");
    if let Some(list) = key_list_ui(ui, egui::Id::unique(("seg-inc", &key)), "included", &at, &included) {
        edit_segment(doc, "Edit included keys", &key, |s| s.included = (!list.is_empty()).then_some(list));
    }
    inline_diagnostics(ui, doc, &at);
    let excluded = segment.excluded.clone().unwrap_or_default();
    let at = format!("{pointer}/excluded");
    if let Some(list) = key_list_ui(ui, egui::Id::unique(("seg-exc", &key)), "excluded", &at, &excluded) {
        edit_segment(doc, "Edit excluded keys", &key, |s| s.excluded = (!list.is_empty()).then_some(list));
    }
    inline_diagnostics(ui, doc, &at);
    let segments: Vec<String> = file.segments.as_ref().map(|s| s.keys().cloned().collect()).unwrap_or_default();
    match &segment.matches {
        Some(cond) => {
            let at = ConditionAt::segment(&key);
            condition_ui(ui, doc, &at, cond, &segments);
            if ui.small_button("Remove segment condition").clicked() {
                at.set_root(doc, "Remove segment condition", None);
            }
        }
        None => {
            ui.label(RichText::new("No condition: only the included keys are members.").weak());
            if ui.button("Add segment condition").clicked() {
                edit_segment(doc, "Add segment condition", &key, |s| {
                    s.matches = Some(Condition::Any(vec![new_leaf()]))
                });
            }
        }
    }
}
