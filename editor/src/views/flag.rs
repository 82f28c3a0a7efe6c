//! The page of one flag: key (rename, duplicate, delete with what refers to
//! it), description, stage (applying the stage's template), variants with
//! value inputs by type (a JSON editor for objects), the off variant, and
//! the per-environment settings in tabs ([`super::rules::environment_ui`]).

use std::sync::Arc;

use burgee_rules::edit::{
    apply_stage_template, delete_flag, duplicate_flag, references_to_flag, rename_flag, rename_variant,
};
use burgee_rules::model::FlagFile;
use eframe::egui::{self, RichText};
use serde_json::{Number, Value};

use super::{committed_text, committed_text_field, diagnostics_at, flag_pointer, inline_diagnostics, unique_key};
use crate::document::Document;

/// What the flag page remembers between frames.
#[derive(Debug, Clone, Default)]
pub struct FlagView {
    /// The environment tab shown.
    pub environment: Option<String>,
    /// Apply the stage's template when the stage changes (default on).
    pub keep_template_off: bool,
    /// The last refusal or result message ("stage `beta` serves …").
    pub message: Option<String>,
    /// The flag whose deletion waits for confirmation.
    pub confirm_delete: Option<String>,
    /// The key typed for a new variant.
    pub new_variant: String,
}

/// The JSON type of a flag's values, from its first variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `true` / `false`.
    Boolean,
    /// Text.
    String,
    /// A number.
    Number,
    /// A JSON object.
    Object,
}

impl ValueType {
    /// The type of `value` (anything else counts as an object).
    pub fn of(value: &Value) -> ValueType {
        match value {
            Value::Bool(_) => ValueType::Boolean,
            Value::String(_) => ValueType::String,
            Value::Number(_) => ValueType::Number,
            _ => ValueType::Object,
        }
    }

    /// A starting value of this type.
    pub fn empty(self) -> Value {
        match self {
            ValueType::Boolean => Value::Bool(false),
            ValueType::String => Value::String(String::new()),
            ValueType::Number => Value::Number(Number::from(0)),
            ValueType::Object => Value::Object(Default::default()),
        }
    }
}

/// What the page asks the app to do after this frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagAction {
    /// Nothing.
    None,
    /// Select this flag instead (after a rename or duplicate).
    Select(String),
    /// The flag was deleted: select nothing.
    Deleted,
}

/// The flag page of `key`. Returns what the app should do with the selection.
pub fn flag_ui(ui: &mut egui::Ui, doc: &mut Document, view: &mut FlagView, key: &str) -> FlagAction {
    let Some(file) = doc.shared_model() else { return FlagAction::None };
    let Some(flag) = file.flags.get(key) else {
        ui.label(format!("There is no flag `{key}`."));
        return FlagAction::Deleted;
    };
    let mut action = FlagAction::None;
    let pointer = flag_pointer(key);

    ui.horizontal(|ui| {
        ui.heading(RichText::new(key).monospace().strong());
        if let Some(new) = committed_text(ui, egui::Id::unique(("flag-key", key)), "Flag key", key, "") {
            let new = new.trim().to_owned();
            match doc.try_edit("Rename flag", |m| rename_flag(m, key, &new)) {
                Some(Ok(n)) => {
                    view.message = Some(format!("Renamed `{key}` to `{new}` ({n} reference(s) updated)."));
                    action = FlagAction::Select(new);
                }
                Some(Err(e)) => view.message = Some(e.to_string()),
                None => {}
            }
        }
        if ui.button("Duplicate flag").clicked() {
            let new = unique_key(&format!("{key}-copy"), |k| file.flags.contains_key(k));
            match doc.try_edit("Duplicate flag", |m| duplicate_flag(m, key, &new)) {
                Some(Ok(())) => action = FlagAction::Select(new),
                Some(Err(e)) => view.message = Some(e.to_string()),
                None => {}
            }
        }
        if ui.button("Delete flag").clicked() {
            view.confirm_delete = Some(key.to_owned());
        }
    });
    if view.confirm_delete.as_deref() == Some(key) {
        delete_confirmation(ui, doc, view, &file, key, &mut action);
    }
    if let Some(message) = &view.message {
        ui.label(RichText::new(message).color(ui.visuals().warn_fg_color));
    }
    diagnostics_at(ui, doc, &pointer);

    // Description.
    let mut description = flag.description.clone().unwrap_or_default();
    ui.horizontal(|ui| {
        let l = ui.label("Description");
        let r = ui
            .add(egui::TextEdit::multiline(&mut description).desired_rows(2).desired_width(f32::INFINITY))
            .labelled_by(l.id);
        if r.changed() {
            doc.edit_merging("Edit description", |m| {
                if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                    f.description = (!description.is_empty()).then(|| description.clone());
                }
            });
        }
    });

    stage_ui(ui, doc, view, &file, key);
    ui.separator();
    variants_ui(ui, doc, view, &file, key);
    ui.separator();

    // Environment tabs.
    let env = match &view.environment {
        Some(e) if file.environments.contains(e) => e.clone(),
        _ => file.environments.first().cloned().unwrap_or_default(),
    };
    ui.horizontal(|ui| {
        for e in &file.environments {
            let state = match flag.environments.get(e) {
                Some(fe) if fe.enabled => "[on]",
                _ => "[off]",
            };
            let r = ui.selectable_label(*e == env, format!("{state} {e}")).accessible_name(format!("Environment {e}"));
            if r.clicked() {
                view.environment = Some(e.clone());
            }
        }
    });
    let env = view.environment.clone().unwrap_or(env);
    view.environment = Some(env.clone());
    super::rules::environment_ui(ui, doc, &file, key, &env);
    action
}

fn delete_confirmation(
    ui: &mut egui::Ui,
    doc: &mut Document,
    view: &mut FlagView,
    file: &FlagFile,
    key: &str,
    action: &mut FlagAction,
) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        let refs = references_to_flag(file, key);
        if refs.is_empty() {
            ui.label(format!("Delete `{key}`? Nothing refers to it."));
        } else {
            ui.label(
                RichText::new(format!("Delete `{key}`? These places refer to it and will become errors:"))
                    .color(ui.visuals().warn_fg_color),
            );
            for r in &refs {
                ui.label(format!("• {}", r.description));
            }
        }
        ui.horizontal(|ui| {
            if ui.button("Confirm delete").clicked() {
                if let Some(Err(e)) = doc.try_edit("Delete flag", |m| delete_flag(m, key)) {
                    view.message = Some(e.to_string());
                } else {
                    *action = FlagAction::Deleted;
                }
                view.confirm_delete = None;
            }
            if ui.button("Cancel delete").clicked() {
                view.confirm_delete = None;
            }
        });
    });
}

fn stage_ui(ui: &mut egui::Ui, doc: &mut Document, view: &mut FlagView, file: &FlagFile, key: &str) {
    let Some(flag) = file.flags.get(key) else { return };
    let stages = file.effective_stages();
    ui.horizontal(|ui| {
        let current = flag
            .stage
            .as_ref()
            .map(|s| stages.iter().find(|st| &st.key == s).map_or_else(|| s.clone(), |st| st.name.clone()))
            .unwrap_or_else(|| "(no stage)".to_owned());
        let mut chosen: Option<Option<String>> = None;
        egui::ComboBox::new(("flag-stage", key), "Stage").selected_text(current).show_ui(ui, |ui| {
            if ui.selectable_label(flag.stage.is_none(), "(no stage)").clicked() && flag.stage.is_some() {
                chosen = Some(None);
            }
            for s in &stages {
                let selected = flag.stage.as_deref() == Some(s.key.as_str());
                if ui.selectable_label(selected, s.name.as_str()).clicked() && !selected {
                    chosen = Some(Some(s.key.clone()));
                }
            }
        });
        let mut apply = !view.keep_template_off;
        if ui.checkbox(&mut apply, "Apply the stage's template").changed() {
            view.keep_template_off = !apply;
        }
        match chosen {
            Some(Some(stage)) if apply => {
                match doc.try_edit("Change stage", |m| apply_stage_template(m, key, &stage)) {
                    Some(Ok(())) => view.message = Some(format!("Moved to stage `{stage}` and applied its template.")),
                    Some(Err(e)) => view.message = Some(format!("Stage not changed: {e}")),
                    None => {}
                }
            }
            Some(stage) => {
                doc.edit("Change stage", |m| {
                    if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                        f.stage = stage;
                    }
                });
            }
            None => {}
        }
    });
    inline_diagnostics(ui, doc, &format!("{}/stage", flag_pointer(key)));
}

fn variants_ui(ui: &mut egui::Ui, doc: &mut Document, view: &mut FlagView, file: &FlagFile, key: &str) {
    let Some(flag) = file.flags.get(key) else { return };
    let pointer = flag_pointer(key);
    let value_type = flag.variants.values().next().map_or(ValueType::Boolean, ValueType::of);
    ui.label(RichText::new(format!("Variants ({value_type:?} values)")).strong());
    egui::Grid::new(("variants", key)).num_columns(3).striped(true).show(ui, |ui| {
        for (variant, value) in &flag.variants {
            let id = egui::Id::unique(("variant-key", key, variant));
            let name = format!("Variant {variant} key");
            if let Some(new) = committed_text_field(ui, id, variant, &name, 120.0, None) {
                let new = new.trim().to_owned();
                match doc.try_edit("Rename variant", |m| rename_variant(m, key, variant, &new)) {
                    Some(Ok(n)) => {
                        view.message =
                            Some(format!("Renamed variant `{variant}` to `{new}` ({n} reference(s) updated)."))
                    }
                    Some(Err(e)) => view.message = Some(e.to_string()),
                    None => {}
                }
            }
            if let Some(new) = value_ui(ui, key, variant, value) {
                doc.edit_merging("Edit variant value", |m| {
                    if let Some(v) = m.flags.get_mut(key).map(Arc::make_mut).and_then(|f| f.variants.get_mut(variant)) {
                        *v = new;
                    }
                });
            }
            ui.horizontal(|ui| {
                if ui.small_button("x").accessible_name(format!("Remove variant {variant}")).clicked() {
                    doc.edit("Remove variant", |m| {
                        if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                            f.variants.shift_remove(variant);
                        }
                    });
                }
                inline_diagnostics(ui, doc, &format!("{pointer}/variants/{}", super::escape(variant)));
            });
            ui.end_row();
        }
    });
    ui.horizontal(|ui| {
        let l = ui.label("New variant key");
        ui.add(egui::TextEdit::singleline(&mut view.new_variant).desired_width(120.0)).labelled_by(l.id);
        let new = view.new_variant.trim().to_owned();
        let ok = !new.is_empty() && !flag.variants.contains_key(&new);
        if ui.add_enabled(ok, egui::Button::new("Add variant")).clicked() {
            doc.edit("Add variant", |m| {
                if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                    f.variants.insert(new.clone(), value_type.empty());
                }
            });
            view.new_variant.clear();
        }
    });
    ui.horizontal(|ui| {
        let variants: Vec<String> = flag.variants.keys().cloned().collect();
        if let Some(off) = super::choice(ui, ("off-variant", key), "Off variant", &flag.off, &variants) {
            doc.edit("Change off variant", |m| {
                if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                    f.off = off;
                }
            });
        }
        ui.label(RichText::new("served wherever the flag is disabled").weak());
    });
    diagnostics_at(ui, doc, &format!("{pointer}/variants"));
    diagnostics_at(ui, doc, &format!("{pointer}/off"));
}

/// The value input of one variant, by type; returns the new value.
fn value_ui(ui: &mut egui::Ui, key: &str, variant: &str, value: &Value) -> Option<Value> {
    let name = format!("Value of {variant}");
    match value {
        Value::Bool(b) => {
            let mut b = *b;
            let text = if b { "true" } else { "false" };
            ui.checkbox(&mut b, text).accessible_name(name).changed().then_some(Value::Bool(b))
        }
        Value::String(s) => {
            let mut s = s.clone();
            let r = ui.add(egui::TextEdit::singleline(&mut s).desired_width(200.0)).accessible_name(name);
            r.changed().then_some(Value::String(s))
        }
        Value::Number(n) => {
            let id = egui::Id::unique(("variant-number", key, variant));
            let new = committed_text_field(ui, id, &n.to_string(), "a number", 120.0, None)?;
            serde_json::from_str::<Number>(new.trim()).ok().map(Value::Number)
        }
        other => json_editor(ui, egui::Id::unique(("variant-json", key, variant)), &name, other),
    }
}

/// A JSON text editor for an object value: shows the parse error while the
/// text is not a JSON object, and returns the value once it is.
pub fn json_editor(ui: &mut egui::Ui, id: egui::Id, name: &str, value: &Value) -> Option<Value> {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut text: String = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| pretty.clone());
    let mut out = None;
    ui.vertical(|ui| {
        let r = ui
            .add(egui::TextEdit::multiline(&mut text).id(id).code_editor().desired_rows(3).desired_width(320.0))
            .accessible_name(name);
        let parsed = serde_json::from_str::<Value>(&text);
        match &parsed {
            Ok(Value::Object(_)) => {}
            Ok(_) => {
                ui.colored_label(ui.visuals().error_fg_color, "the value must be a JSON object");
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("not valid JSON: {e}"));
            }
        }
        if r.changed()
            && let Ok(v @ Value::Object(_)) = parsed
            && &v != value
        {
            out = Some(v);
        }
        if r.has_focus() || text != pretty && serde_json::from_str::<Value>(&text).ok().as_ref() != Some(value) {
            ui.data_mut(|d| d.insert_temp(id, text.clone()));
        } else {
            ui.data_mut(|d| d.remove::<String>(id));
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_types_give_fitting_empty_values() {
        assert_eq!(ValueType::of(&Value::Bool(true)).empty(), Value::Bool(false));
        assert_eq!(ValueType::of(&Value::from("x")).empty(), Value::from(""));
        assert_eq!(ValueType::of(&serde_json::json!({"a": 1})), ValueType::Object);
        assert!(ValueType::Number.empty().is_number());
    }
}
