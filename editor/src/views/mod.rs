//! The editor's views: plain `*_ui` functions over the [`crate::document::Document`]
//! and a little view state, one module per concept. [`crate::app::BurgeeApp`]
//! lays them out.
//!
//! Every interactive widget has an accessible name (a visible label tied with
//! `labelled_by`, the button's text, or a hint), so screen readers and the
//! egui_kittest tests find them by label.

pub mod condition;
pub mod diff;
pub mod flag;
pub mod flags;
pub mod preview;
pub mod rules;
pub mod segments;
pub mod stages;

use eframe::egui::{self, RichText};

use crate::document::Document;

/// A single-line text field with a visible label before it; the label is its
/// accessible name. Returns the field's response.
pub fn labelled_text(ui: &mut egui::Ui, label: &str, text: &mut String) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(egui::TextEdit::singleline(text).desired_width(220.0)).labelled_by(l.id)
    })
    .inner
}

/// A labelled single-line field that edits a copy of `current` and reports
/// the new text only when the person commits it (Enter or leaving the
/// field) and it differs; while the field is not being edited it shows
/// `current`. For keys and lists, where every keystroke would be a bad edit.
pub fn committed_text(ui: &mut egui::Ui, id: egui::Id, label: &str, current: &str, hint: &str) -> Option<String> {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        committed_text_field(ui, id, current, hint, 220.0, Some(l.id))
    })
    .inner
}

/// [`committed_text`] without the label row: the caller names the field with
/// `label_id`, or the hint names it.
pub fn committed_text_field(
    ui: &mut egui::Ui,
    id: egui::Id,
    current: &str,
    hint: &str,
    width: f32,
    label_id: Option<egui::Id>,
) -> Option<String> {
    let mut buffer: String = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| current.to_owned());
    let mut edit = egui::TextEdit::singleline(&mut buffer).id(id).desired_width(width);
    if !hint.is_empty() {
        edit = edit.hint_text(hint);
    }
    let mut response = ui.add(edit);
    match label_id {
        Some(label_id) => response = response.labelled_by(label_id),
        None if !hint.is_empty() => response = response.accessible_name(hint),
        None => {}
    }
    let committed = response.lost_focus() && buffer != current;
    if response.has_focus() {
        ui.data_mut(|d| d.insert_temp(id, buffer.clone()));
    } else {
        ui.data_mut(|d| d.remove::<String>(id));
    }
    committed.then_some(buffer)
}

/// The errors and warnings at `pointer` or inside it, in the error or
/// warning colour, right where the field at fault is shown.
pub fn inline_diagnostics(ui: &mut egui::Ui, doc: &Document, pointer: &str) {
    inline_diagnostics_filtered(ui, doc, pointer, |_| true);
}

/// [`inline_diagnostics`] for the diagnostics exactly at `pointer` (not inside it).
pub fn diagnostics_at(ui: &mut egui::Ui, doc: &Document, pointer: &str) {
    inline_diagnostics_filtered(ui, doc, pointer, |p| p == pointer);
}

fn inline_diagnostics_filtered(ui: &mut egui::Ui, doc: &Document, pointer: &str, keep: impl Fn(&str) -> bool) {
    for d in doc.diagnostics_under(pointer).filter(|d| keep(&d.pointer)) {
        let (color, word) =
            if d.is_error() { (ui.visuals().error_fg_color, "error") } else { (ui.visuals().warn_fg_color, "warning") };
        ui.label(RichText::new(format!("{word}: {}", d.message)).color(color).small());
    }
}

/// `1 error`, `2 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// JSON pointer segment escaping (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The pointer of flag `key`: `/flags/{key}`.
pub fn flag_pointer(key: &str) -> String {
    format!("/flags/{}", escape(key))
}

/// The pointer of a flag environment: `/flags/{flag}/environments/{env}`.
pub fn env_pointer(flag: &str, env: &str) -> String {
    format!("/flags/{}/environments/{}", escape(flag), escape(env))
}

/// A key not in `taken`: `base`, else `base-2`, `base-3`, ….
pub fn unique_key(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2..).map(|n| format!("{base}-{n}")).find(|k| !taken(k)).unwrap_or_else(|| base.to_owned())
}

/// A combo box with a visible label (its accessible name) choosing one of
/// `options`; returns the newly chosen option.
pub fn choice(
    ui: &mut egui::Ui,
    id: impl std::hash::Hash + std::fmt::Debug,
    label: &str,
    selected: &str,
    options: &[String],
) -> Option<String> {
    let mut chosen = None;
    egui::ComboBox::new(id, label).selected_text(selected).show_ui(ui, |ui| {
        for option in options {
            if ui.selectable_label(option == selected, option.as_str()).clicked() && option != selected {
                chosen = Some(option.clone());
            }
        }
    });
    chosen
}

/// Like [`choice`], with a short visible label before the combo box and a
/// longer accessible name that tells it apart from its neighbours
/// ("segment" on screen, "Rule staff segment" for screen readers and tests).
pub fn choice_named(
    ui: &mut egui::Ui,
    id: impl std::hash::Hash + std::fmt::Debug,
    visible: &str,
    name: &str,
    selected: &str,
    options: &[String],
) -> Option<String> {
    let mut chosen = None;
    if !visible.is_empty() {
        ui.label(visible);
    }
    let r = egui::ComboBox::from_id_salt(id).selected_text(selected).show_ui(ui, |ui| {
        for option in options {
            if ui.selectable_label(option == selected, option.as_str()).clicked() && option != selected {
                chosen = Some(option.clone());
            }
        }
    });
    let _ = r.response.accessible_name(name);
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_keys_count_up() {
        assert_eq!(unique_key("rule", |_| false), "rule");
        assert_eq!(unique_key("rule", |k| k == "rule" || k == "rule-2"), "rule-3");
    }

    #[test]
    fn pointers_escape_keys() {
        assert_eq!(env_pointer("a/b", "prod"), "/flags/a~1b/environments/prod");
        assert_eq!(plural(1, "error"), "1 error");
        assert_eq!(plural(3, "warning"), "3 warnings");
    }
}
