//! The stages page: the release stages in force (the file's, or the four
//! defaults), each with its name and description editable, and adding a
//! stage. Editing the defaults writes them into the file first.

use burgee_rules::model::{FlagFile, Stage};
use eframe::egui::{self, RichText};

use super::{inline_diagnostics, unique_key};
use crate::document::Document;

/// Apply `f` to the file's stages, writing the default stages into the file
/// first when it has none; typing merges into one undo step.
fn edit_stages(doc: &mut Document, label: &str, typing: bool, f: impl FnOnce(&mut Vec<Stage>)) {
    let apply = |m: &mut FlagFile| {
        let mut stages = m.effective_stages();
        f(&mut stages);
        m.stages = Some(stages);
    };
    if typing {
        doc.edit_merging(label, apply);
    } else {
        doc.edit(label, apply);
    }
}

/// A labelled one-line text field applied as it is typed; returns the new text.
fn text_row(ui: &mut egui::Ui, label: &str, hint: &str, current: &str) -> Option<String> {
    let mut text = current.to_owned();
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let edit = egui::TextEdit::singleline(&mut text).hint_text(hint).desired_width(f32::INFINITY);
        let r = ui.add(edit).labelled_by(l.id);
        r.changed().then_some(text)
    })
    .inner
}

/// The stages page.
pub fn stages_ui(ui: &mut egui::Ui, doc: &mut Document) {
    let Some(file) = doc.shared_model() else { return };
    ui.heading("Stages");
    if file.stages.is_none() {
        ui.label(RichText::new("The file lists no stages, so the four default stages apply.").weak());
    }
    let stages = file.effective_stages();
    for (i, stage) in stages.iter().enumerate() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let users = file.flags.values().filter(|f| f.stage.as_deref() == Some(stage.key.as_str())).count();
            ui.label(RichText::new(format!("{} ({users} flag(s))", stage.key)).monospace().strong());
            if let Some(name) = text_row(ui, &format!("Name of {}", stage.key), "", &stage.name) {
                edit_stages(doc, "Rename stage", true, |s| {
                    if let Some(st) = s.get_mut(i) {
                        st.name = name;
                    }
                });
            }
            let current = stage.description.clone().unwrap_or_default();
            if let Some(d) = text_row(ui, &format!("Description of {}", stage.key), "what it means", &current) {
                edit_stages(doc, "Edit stage description", true, |s| {
                    if let Some(st) = s.get_mut(i) {
                        st.description = (!d.is_empty()).then_some(d);
                    }
                });
            }
            if let Some(t) = &stage.template {
                let envs: Vec<&str> = t.keys().map(String::as_str).collect();
                ui.label(RichText::new(format!("template for: {}", envs.join(", "))).weak());
            }
            inline_diagnostics(ui, doc, &format!("/stages/{i}"));
        });
    }
    if ui.button("Add stage").clicked() {
        let key = unique_key("new-stage", |k| stages.iter().any(|s| s.key == k));
        edit_stages(doc, "Add stage", false, |s| {
            s.push(Stage { key: key.clone(), name: key, description: None, template: None });
        });
    }
}
