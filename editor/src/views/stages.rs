//! The stages page: the release stages in force (the file's, or the four
//! defaults), each with its name and description editable, and adding a
//! stage. Editing the defaults writes them into the file first.

use burgee_rules::model::{FlagFile, Stage};
use eframe::egui::{self, RichText};

use super::{committed_text, inline_diagnostics, unique_key};
use crate::document::Document;

/// Apply `f` to the file's stages, writing the default stages into the file first when it has none.
fn edit_stages(doc: &mut Document, label: &str, f: impl FnOnce(&mut Vec<Stage>)) {
    doc.edit(label, |m: &mut FlagFile| {
        let mut stages = m.effective_stages();
        f(&mut stages);
        m.stages = Some(stages);
    });
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
            let id = egui::Id::unique(("stage-name", i));
            if let Some(name) = committed_text(ui, id, &format!("Name of {}", stage.key), &stage.name, "") {
                edit_stages(doc, "Rename stage", |s| {
                    if let Some(st) = s.get_mut(i) {
                        st.name = name;
                    }
                });
            }
            let id = egui::Id::unique(("stage-desc", i));
            let current = stage.description.clone().unwrap_or_default();
            if let Some(d) = committed_text(ui, id, &format!("Description of {}", stage.key), &current, "what it means")
            {
                edit_stages(doc, "Edit stage description", |s| {
                    if let Some(st) = s.get_mut(i) {
                        st.description = (!d.trim().is_empty()).then_some(d);
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
        edit_stages(doc, "Add stage", |s| {
            s.push(Stage { key: key.clone(), name: key, description: None, template: None });
        });
    }
}
