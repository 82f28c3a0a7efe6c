//! The flag list: search by key and description, filter by stage and by
//! environment state (enabled / disabled), select a flag, create a new one.

use std::sync::Arc;

use burgee_rules::model::{Flag, FlagEnvironment, FlagFile, Serve};
use eframe::egui::{self, RichText};
use indexmap::IndexMap;

use super::flag::ValueType;
use super::unique_key;
use crate::document::Document;

/// The id of the flag search field (Edit ▸ Find, Ctrl+F, focuses it).
pub const SEARCH_ID: &str = "flag-search";

/// What the flag list remembers between frames.
#[derive(Debug, Clone)]
pub struct FlagListView {
    /// Text to find in keys and descriptions (case-insensitive).
    pub search: String,
    /// Only flags in this stage (by key).
    pub stage: Option<String>,
    /// Only flags enabled (`true`) or disabled (`false`) in this environment.
    pub environment: Option<(String, bool)>,
    /// The key typed for a new flag.
    pub new_flag: String,
    /// The value type of a new flag.
    pub new_type: ValueType,
}

impl Default for FlagListView {
    fn default() -> Self {
        FlagListView {
            search: String::new(),
            stage: None,
            environment: None,
            new_flag: String::new(),
            new_type: ValueType::Boolean,
        }
    }
}

/// Whether flag `flag` is enabled in `env` (a missing entry is disabled).
pub fn enabled_in(flag: &Flag, env: &str) -> bool {
    flag.environments.get(env).is_some_and(|e| e.enabled)
}

/// The keys of the flags the search and filters let through, in file order.
pub fn filter_flags(file: &FlagFile, view: &FlagListView) -> Vec<String> {
    let needle = view.search.trim().to_lowercase();
    file.flags
        .iter()
        .filter(|(key, flag)| {
            needle.is_empty()
                || key.to_lowercase().contains(&needle)
                || flag.description.as_deref().is_some_and(|d| d.to_lowercase().contains(&needle))
        })
        .filter(|(_, flag)| view.stage.as_ref().is_none_or(|s| flag.stage.as_ref() == Some(s)))
        .filter(|(_, flag)| view.environment.as_ref().is_none_or(|(env, on)| enabled_in(flag, env) == *on))
        .map(|(key, _)| key.clone())
        .collect()
}

/// A new flag of `value_type`: variants `on`/`off` for booleans, `a`/`b`
/// otherwise, off everywhere (each environment disabled, serving off).
pub fn new_flag(file: &FlagFile, value_type: ValueType) -> Flag {
    let variants: IndexMap<String, serde_json::Value> = match value_type {
        ValueType::Boolean => [("on".to_owned(), true.into()), ("off".to_owned(), false.into())].into_iter().collect(),
        ValueType::String => [("a".to_owned(), "a".into()), ("b".to_owned(), "b".into())].into_iter().collect(),
        ValueType::Number => [("a".to_owned(), 1.into()), ("b".to_owned(), 0.into())].into_iter().collect(),
        ValueType::Object => {
            [("a".to_owned(), serde_json::json!({})), ("b".to_owned(), serde_json::json!({}))].into_iter().collect()
        }
    };
    let off = variants.keys().nth(1).cloned().unwrap_or_default();
    let environments = file
        .environments
        .iter()
        .map(|e| {
            let env = FlagEnvironment {
                enabled: false,
                prerequisites: None,
                targets: None,
                rules: None,
                default: Serve::Variant(off.clone()),
            };
            (e.clone(), env)
        })
        .collect();
    Flag { description: None, stage: None, variants, off, environments }
}

/// The left panel's flag list. Clicking a flag sets `selected`.
pub fn flag_list_ui(ui: &mut egui::Ui, doc: &mut Document, view: &mut FlagListView, selected: &mut Option<String>) {
    let Some(file) = doc.shared_model() else { return };
    ui.horizontal(|ui| {
        ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(&mut view.search)
                .id(egui::Id::unique(SEARCH_ID))
                .hint_text("key or description (Ctrl+F)")
                .desired_width(f32::INFINITY),
        )
        .accessible_name("Search flags");
    });
    let stages = file.effective_stages();
    ui.horizontal(|ui| {
        let current = view
            .stage
            .as_ref()
            .map(|s| stages.iter().find(|st| &st.key == s).map_or_else(|| s.clone(), |st| st.name.clone()))
            .unwrap_or_else(|| "any stage".to_owned());
        egui::ComboBox::new("stage-filter", "Stage filter").selected_text(current).show_ui(ui, |ui| {
            ui.selectable_value(&mut view.stage, None, "any stage");
            for s in &stages {
                ui.selectable_value(&mut view.stage, Some(s.key.clone()), s.name.as_str());
            }
        });
    });
    ui.horizontal(|ui| {
        let current = match &view.environment {
            None => "any state".to_owned(),
            Some((env, true)) => format!("enabled in {env}"),
            Some((env, false)) => format!("disabled in {env}"),
        };
        egui::ComboBox::new("env-filter", "Environment filter").selected_text(current).show_ui(ui, |ui| {
            ui.selectable_value(&mut view.environment, None, "any state");
            for env in &file.environments {
                for on in [true, false] {
                    let text = if on { format!("enabled in {env}") } else { format!("disabled in {env}") };
                    ui.selectable_value(&mut view.environment, Some((env.clone(), on)), text);
                }
            }
        });
    });
    let keys = filter_flags(&file, view);
    ui.label(RichText::new(format!("{} of {} flags", keys.len(), file.flags.len())).weak());
    ui.separator();
    // Only the visible rows are laid out, so a file of 10,000 flags scrolls
    // as smoothly as one of ten.
    let row_height = ui.spacing().interact_size.y;
    let scroll = egui::ScrollArea::vertical().id_salt("flag-list").max_height(ui.available_height() - 70.0);
    scroll.show_rows(ui, row_height, keys.len(), |ui, rows| {
        for key in &keys[rows] {
            let errors = doc.diagnostics_under(&super::flag_pointer(key)).filter(|d| d.is_error()).count();
            // A flag with errors gets a red mark before its key (red text on the
            // selection colour would be hard to read).
            let mut job = egui::text::LayoutJob::default();
            let font = egui::TextStyle::Monospace.resolve(ui.style());
            let normal = ui.visuals().text_color();
            let mark = if errors > 0 { ("● ", ui.visuals().error_fg_color) } else { ("  ", normal) };
            job.append(mark.0, 0.0, egui::TextFormat::simple(font.clone(), mark.1));
            job.append(key, 0.0, egui::TextFormat::simple(font, normal));
            let r = ui.selectable_label(selected.as_deref() == Some(key.as_str()), job).accessible_name(key);
            let r = match file.flags.get(key).and_then(|f| f.description.as_deref()) {
                Some(d) => r.on_hover_text(d),
                None => r,
            };
            if r.clicked() {
                *selected = Some(key.clone());
            }
        }
    });
    ui.separator();
    ui.horizontal(|ui| {
        let l = ui.label("New flag key");
        ui.add(egui::TextEdit::singleline(&mut view.new_flag).desired_width(110.0)).labelled_by(l.id);
    });
    ui.horizontal(|ui| {
        egui::ComboBox::new("new-flag-type", "type").selected_text(format!("{:?}", view.new_type)).show_ui(ui, |ui| {
            for t in [ValueType::Boolean, ValueType::String, ValueType::Number, ValueType::Object] {
                ui.selectable_value(&mut view.new_type, t, format!("{t:?}"));
            }
        });
        let key = view.new_flag.trim().to_owned();
        let ok = !key.is_empty() && !file.flags.contains_key(&key);
        if ui.add_enabled(ok, egui::Button::new("Create flag")).clicked() {
            let flag = new_flag(&file, view.new_type);
            let key = unique_key(&key, |k| file.flags.contains_key(k));
            doc.edit("Create flag", |m| {
                m.flags.insert(key.clone(), Arc::new(flag));
            });
            *selected = Some(key);
            view.new_flag.clear();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> FlagFile {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
        burgee_rules::read(&text).unwrap()
    }

    #[test]
    fn search_finds_keys_and_descriptions() {
        let file = example();
        let mut view = FlagListView { search: "CHECKOUT".into(), ..Default::default() };
        let keys = filter_flags(&file, &view);
        assert!(keys.contains(&"new-checkout".to_owned()) && keys.contains(&"checkout-upsell".to_owned()));
        view.search = "one-page".into();
        assert_eq!(filter_flags(&file, &view), ["new-checkout"]);
    }

    #[test]
    fn filters_by_stage_and_environment_state() {
        let file = example();
        let view = FlagListView { stage: Some("in-development".into()), ..Default::default() };
        assert_eq!(filter_flags(&file, &view), ["realtime-collaboration"]);
        let view = FlagListView { environment: Some(("production".into(), false)), ..Default::default() };
        assert_eq!(filter_flags(&file, &view), ["realtime-collaboration"]);
        let view = FlagListView { environment: Some(("production".into(), true)), ..Default::default() };
        assert_eq!(filter_flags(&file, &view).len(), file.flags.len() - 1);
    }

    #[test]
    fn a_new_flag_is_valid_and_off() {
        let mut file = example();
        for t in [ValueType::Boolean, ValueType::String, ValueType::Number, ValueType::Object] {
            let flag = new_flag(&file, t);
            assert!(flag.environments.values().all(|e| !e.enabled));
            file.flags.insert(format!("new-{t:?}"), Arc::new(flag));
        }
        assert!(burgee_rules::validate::validate(&file).iter().all(|d| !d.is_error()));
    }
}
