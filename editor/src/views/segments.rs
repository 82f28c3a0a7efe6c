//! The segments page: a list of segments and, for the selected one, its
//! description, included and excluded keys, the condition-tree builder, and
//! how many sample users it holds; create, rename (references follow) and
//! delete (listing what refers to it).

use std::sync::Arc;

use burgee_rules::edit::{delete_segment, references_to_segment, rename_segment};
use burgee_rules::model::{Condition, Segment};
use eframe::egui::{self, RichText};

use super::condition::{condition_ui, new_leaf};
use super::preview::PreviewPanel;
use super::{committed_text, committed_text_field, inline_diagnostics, unique_key};
use crate::document::Document;
use crate::preview::chart::segment_label;

/// What the segments page remembers.
#[derive(Debug, Clone, Default)]
pub struct SegmentsView {
    /// The selected segment.
    pub selected: Option<String>,
    /// A refusal or result message.
    pub message: Option<String>,
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
                    ui.label(RichText::new(format!("{} users", crate::preview::chart::thousands(n))).weak());
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

/// A list of targeting keys with remove buttons and a field to add one.
fn key_list_ui(ui: &mut egui::Ui, id: egui::Id, what: &str, keys: &[String]) -> Option<Vec<String>> {
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
        if let Some(new) = committed_text_field(ui, id, "", &format!("Add key to {what}"), 170.0, None) {
            let new = new.trim().to_owned();
            if !new.is_empty() && !keys.contains(&new) {
                let mut next = keys.to_vec();
                next.push(new);
                out = Some(next);
            }
        }
    });
    out
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
        if let Some(new) = committed_text(ui, egui::Id::unique(("segment-key", &key)), "Segment key", &key, "") {
            let new = new.trim().to_owned();
            match doc.try_edit("Rename segment", |m| rename_segment(m, &key, &new)) {
                Some(Ok(n)) => {
                    view.message = Some(format!("Renamed `{key}` to `{new}` ({n} reference(s) updated)."));
                    view.selected = Some(new);
                }
                Some(Err(e)) => view.message = Some(e.to_string()),
                None => {}
            }
        }
        if ui.button("Delete segment").clicked() {
            view.confirm_delete = Some(key.clone());
        }
    });
    if view.confirm_delete.as_deref() == Some(key.as_str()) {
        let refs = references_to_segment(&file, &key);
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(format!("Delete segment `{key}`? {} place(s) refer to it and will become errors:", refs.len()));
            for r in &refs {
                ui.label(format!("• {}", r.description));
            }
            ui.horizontal(|ui| {
                if ui.button("Confirm delete").clicked() {
                    let _ = doc.try_edit("Delete segment", |m| delete_segment(m, &key));
                    view.confirm_delete = None;
                    view.selected = None;
                }
                if ui.button("Cancel delete").clicked() {
                    view.confirm_delete = None;
                }
            });
        });
    }
    if let Some(m) = &view.message {
        ui.label(RichText::new(m).color(ui.visuals().warn_fg_color));
    }
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
    if let Some(list) = key_list_ui(ui, egui::Id::unique(("seg-inc", &key)), "included", &included) {
        edit_segment(doc, "Edit included keys", &key, |s| s.included = (!list.is_empty()).then_some(list));
    }
    let excluded = segment.excluded.clone().unwrap_or_default();
    if let Some(list) = key_list_ui(ui, egui::Id::unique(("seg-exc", &key)), "excluded", &excluded) {
        edit_segment(doc, "Edit excluded keys", &key, |s| s.excluded = (!list.is_empty()).then_some(list));
    }
    let segments: Vec<String> = file.segments.as_ref().map(|s| s.keys().cloned().collect()).unwrap_or_default();
    match &segment.matches {
        Some(cond) => {
            if let Some(new) = condition_ui(ui, egui::Id::unique(("seg-match", &key)), cond, &segments) {
                edit_segment(doc, "Edit segment condition", &key, |s| s.matches = Some(new));
            }
            if ui.small_button("Remove segment condition").clicked() {
                edit_segment(doc, "Remove segment condition", &key, |s| s.matches = None);
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
    inline_diagnostics(ui, doc, &pointer);
}
