//! The page of one flag: key (rename, duplicate, delete with what refers to
//! it), description, stage (applying the stage's template), variants with
//! value inputs by type (a JSON editor for objects) and deleting one after
//! a list of its uses, the off variant, and the per-environment settings in
//! tabs ([`super::rules::environment_ui`]).

use std::sync::Arc;

use burgee_rules::edit::{
    apply_stage_template, delete_flag, duplicate_flag, references_to_flag, references_to_variant, rename_flag,
    rename_variant,
};
use burgee_rules::model::FlagFile;
use eframe::egui::{self, RichText};
use serde_json::{Number, Value};

use super::field::{Applied, FieldSpec, applied, commit_field, draft_field, live_field, refuse};
use super::rules::SampleFacts;
use super::{diagnostics_at, flag_pointer, inline_diagnostics, unique_key};
use crate::document::Document;

/// What the flag page remembers between frames.
#[derive(Debug, Clone, Default)]
pub struct FlagView {
    /// The environment tab shown.
    pub environment: Option<String>,
    /// Apply the stage's template when the stage changes (default on).
    pub keep_template_off: bool,
    /// The last result message and the flag it is about ("Renamed …"):
    /// shown on that flag's page only, cleared when the person moves on.
    pub message: Option<(String, String)>,
    /// The flag whose deletion waits for confirmation.
    pub confirm_delete: Option<String>,
    /// The (flag, variant) whose deletion waits for confirmation.
    pub confirm_delete_variant: Option<(String, String)>,
}

impl FlagView {
    /// Say `text` on flag `flag`'s page.
    pub fn say(&mut self, flag: &str, text: impl Into<String>) {
        self.message = Some((flag.to_owned(), text.into()));
    }
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

    /// Its name for people.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Boolean => "Boolean",
            ValueType::String => "String",
            ValueType::Number => "Number",
            ValueType::Object => "Object",
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

/// How a flag rename typed in its key field is applied (now, or by the app
/// when the field lost focus without being drawn again).
pub fn rename_flag_apply(from: &str) -> super::field::Apply {
    let from = from.to_owned();
    Arc::new(move |doc: &mut Document, text: &str| {
        let to = text.trim().to_owned();
        let result = doc.try_edit("Rename flag", |m| rename_flag(m, &from, &to));
        applied(result, |references| Applied::FlagRenamed { from: from.clone(), to, references })
    })
}

/// The flag page of `key`. `sample` holds what the preview found about the
/// rules of the environment shown (for warnings on the rules). Returns what
/// the app should do with the selection.
pub fn flag_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    view: &mut FlagView,
    key: &str,
    sample: Option<&SampleFacts>,
) -> FlagAction {
    let Some(file) = doc.shared_model() else { return FlagAction::None };
    let Some(flag) = file.flags.get(key) else {
        ui.label(format!("There is no flag `{key}`."));
        return FlagAction::Deleted;
    };
    let mut action = FlagAction::None;
    let pointer = flag_pointer(key);

    ui.horizontal(|ui| {
        ui.heading(RichText::new(key).monospace().strong());
        let l = ui.label("Flag key");
        let spec = FieldSpec::new(key, format!("key of flag `{key}`"), &pointer).labelled_by(l.id);
        let id = egui::Id::unique(("flag-key", key));
        if let Some(Applied::FlagRenamed { from, to, references }) =
            commit_field(ui, doc, id, spec, rename_flag_apply(key))
        {
            view.say(&to, super::renamed_message(&from, &to, references));
            action = FlagAction::Select(to);
        }
        if ui.button("Duplicate flag").clicked() {
            let new = unique_key(&format!("{key}-copy"), |k| file.flags.contains_key(k));
            match doc.try_edit("Duplicate flag", |m| duplicate_flag(m, key, &new)) {
                Some(Ok(())) => {
                    view.say(&new, format!("Duplicated `{key}` as `{new}`."));
                    action = FlagAction::Select(new);
                }
                Some(Err(e)) => view.say(key, e.to_string()),
                None => {}
            }
        }
        if ui.button("Delete flag").clicked() {
            view.confirm_delete = Some(key.to_owned());
        }
    });
    if view.confirm_delete.as_deref() == Some(key) {
        let refs = references_to_flag(&file, key);
        let question = format!("Delete flag `{key}`?");
        match super::confirm_delete_ui(ui, "delete-flag", &question, &refs, "Delete flag") {
            Some(true) => {
                if let Some(Err(e)) = doc.try_edit("Delete flag", |m| delete_flag(m, key)) {
                    view.say(key, e.to_string());
                } else {
                    action = FlagAction::Deleted;
                }
                view.confirm_delete = None;
            }
            Some(false) => view.confirm_delete = None,
            None => {}
        }
    }
    if let Some((about, message)) = &view.message
        && about == key
    {
        ui.label(RichText::new(message).color(ui.visuals().weak_text_color()));
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
    super::rules::environment_ui(ui, doc, &file, key, &env, sample.filter(|s| s.is_for(key, &env)));
    action
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
                    Some(Ok(())) => view.say(key, format!("Moved to stage `{stage}` and applied its template.")),
                    Some(Err(e)) => view.say(key, format!("Stage not changed: {e}")),
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
        inline_diagnostics(ui, doc, &format!("{}/stage", flag_pointer(key)));
    });
}

fn variants_ui(ui: &mut egui::Ui, doc: &mut Document, view: &mut FlagView, file: &FlagFile, key: &str) {
    let Some(flag) = file.flags.get(key) else { return };
    let pointer = flag_pointer(key);
    let value_type = flag.variants.values().next().map_or(ValueType::Boolean, ValueType::of);
    let names: Vec<String> = flag.variants.keys().cloned().collect();
    ui.label(RichText::new(format!("Variants ({} values)", value_type.name())).strong());
    egui::Grid::new(("variants", key)).num_columns(3).striped(true).show(ui, |ui| {
        for (i, (variant, value)) in flag.variants.iter().enumerate() {
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, super::variant_color(i));
                let at = format!("{pointer}/variants/{}", super::escape(variant));
                let spec = FieldSpec::new(variant, format!("Variant {variant} key"), at).min_width(100.0);
                let (flag_key, old) = (key.to_owned(), variant.clone());
                let apply: super::field::Apply = Arc::new(move |doc: &mut Document, text: &str| {
                    let new = text.trim().to_owned();
                    applied(doc.try_edit("Rename variant", |m| rename_variant(m, &flag_key, &old, &new)), |_| {
                        Applied::Done
                    })
                });
                if commit_field(ui, doc, egui::Id::unique(("variant-key", key, variant)), spec, apply).is_some() {
                    view.say(key, format!("Renamed variant `{variant}`; every rule, target and prerequisite follows."));
                }
            });
            if let Some(new) = value_ui(ui, key, variant, value) {
                doc.edit_merging("Edit variant value", |m| {
                    if let Some(v) = m.flags.get_mut(key).map(Arc::make_mut).and_then(|f| f.variants.get_mut(variant)) {
                        *v = new;
                    }
                });
            }
            ui.horizontal(|ui| {
                let remove = ui.small_button("x").on_hover_text("Delete this variant (asks first)");
                if remove.accessible_name(format!("Remove variant {variant}")).clicked() {
                    view.confirm_delete_variant = Some((key.to_owned(), variant.clone()));
                }
                inline_diagnostics(ui, doc, &format!("{pointer}/variants/{}", super::escape(variant)));
            });
            ui.end_row();
        }
    });
    if let Some((f, variant)) = view.confirm_delete_variant.clone()
        && f == key
    {
        let refs = references_to_variant(file, key, &variant);
        let question = format!("Delete variant `{variant}` of `{key}`?");
        match super::confirm_delete_ui(ui, "delete-variant", &question, &refs, "Delete variant") {
            Some(true) => {
                doc.edit("Delete variant", |m| {
                    if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                        f.variants.shift_remove(&variant);
                    }
                });
                view.confirm_delete_variant = None;
            }
            Some(false) => view.confirm_delete_variant = None,
            None => {}
        }
    }
    ui.horizontal(|ui| {
        let l = ui.label("New variant key");
        let id = egui::Id::unique(("new-variant", key));
        let spec = FieldSpec::new("", format!("new variant of `{key}`"), format!("{pointer}/variants"))
            .hint("key, then Enter")
            .min_width(120.0)
            .labelled_by(l.id);
        if let Some(text) = draft_field(ui, id, spec.clone()) {
            let new = text.trim().to_owned();
            if names.contains(&new) {
                refuse(ui.ctx(), id, &spec, &text, format!("`{key}` already has a variant `{new}`"));
            } else if !burgee_rules::model::is_valid_key(&new) {
                refuse(ui.ctx(), id, &spec, &text, "use 1 to 128 of A-Z a-z 0-9 _ - .");
            } else {
                doc.edit("Add variant", |m| {
                    if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                        f.variants.insert(new.clone(), value_type.empty());
                    }
                });
            }
        }
    });
    ui.horizontal(|ui| {
        if let Some(off) = super::choice(ui, ("off-variant", key), "Off variant", &flag.off, &names) {
            doc.edit("Change off variant", |m| {
                if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                    f.off = off;
                }
            });
        }
        ui.label(RichText::new("served wherever the flag is disabled").weak());
        diagnostics_at(ui, doc, &format!("{pointer}/off"));
    });
    diagnostics_at(ui, doc, &format!("{pointer}/variants"));
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
            let width = super::field::width_for(ui, &s, 200.0);
            let r = ui.add(egui::TextEdit::singleline(&mut s).desired_width(width)).accessible_name(name);
            r.changed().then_some(Value::String(s))
        }
        Value::Number(n) => {
            let text = n.to_string();
            let spec = FieldSpec::new(&text, name, flag_pointer(key)).hint("a number").min_width(100.0);
            let parse = |t: &str| t.trim().parse::<Number>().map_err(|_| format!("`{t}` is not a number"));
            live_field(ui, egui::Id::unique(("variant-number", key, variant)), spec, parse).map(Value::Number)
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
                ui.colored_label(ui.visuals().error_fg_color, "not applied: the value must be a JSON object");
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("not applied: not valid JSON: {e}"));
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
