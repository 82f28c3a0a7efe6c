//! The editor's views: plain `*_ui` functions over the [`crate::document::Document`]
//! and a little view state, one module per concept. [`crate::app::BurgeeApp`]
//! lays them out.
//!
//! Every interactive widget has an accessible name (a visible label tied with
//! `labelled_by`, the button's text, or a hint), so screen readers and the
//! egui_kittest tests find them by label.

pub mod condition;
pub mod diff;
pub mod field;
pub mod flag;
pub mod flags;
pub mod preview;
pub mod rules;
pub mod save;
pub mod segments;
pub mod stages;

use burgee_rules::edit::Reference;
use eframe::egui::{self, RichText};

use crate::document::Document;
pub use crate::preview::chart::{color_of, variant_color};

/// A single-line text field with a visible label before it; the label is its
/// accessible name. Returns the field's response.
pub fn labelled_text(ui: &mut egui::Ui, label: &str, text: &mut String) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(egui::TextEdit::singleline(text).desired_width(220.0)).labelled_by(l.id)
    })
    .inner
}

/// A variant's name in its colour (a small swatch, then the name).
pub fn variant_chip(ui: &mut egui::Ui, variants: &[String], variant: &str) -> egui::Response {
    let color = color_of(variants, variant);
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
        ui.painter().rect_filled(rect, 2.0, color);
        ui.label(RichText::new(variant).monospace())
    })
    .inner
}

/// Where the person asked to go (a problem clicked in the list): the
/// diagnostic with this pointer scrolls into view and is outlined when drawn.
fn goto_id() -> egui::Id {
    egui::Id::unique("burgee-goto-pointer")
}

/// Ask for the diagnostic at `pointer` to be shown (see [`inline_diagnostics`]).
pub fn go_to(ctx: &egui::Context, pointer: &str) {
    ctx.data_mut(|d| d.insert_temp(goto_id(), pointer.to_owned()));
}

/// The pointer waiting to be shown, if any.
pub fn going_to(ctx: &egui::Context) -> Option<String> {
    ctx.data(|d| d.get_temp::<String>(goto_id()))
}

/// The errors and warnings at `pointer` or inside it, in the error or
/// warning colour, right where the field at fault is shown: on the same
/// row when called inside a row, so nothing below moves.
pub fn inline_diagnostics(ui: &mut egui::Ui, doc: &Document, pointer: &str) {
    inline_diagnostics_filtered(ui, doc, pointer, |_| true);
}

/// [`inline_diagnostics`] for the diagnostics exactly at `pointer` (not inside it).
pub fn diagnostics_at(ui: &mut egui::Ui, doc: &Document, pointer: &str) {
    inline_diagnostics_filtered(ui, doc, pointer, |p| p == pointer);
}

fn inline_diagnostics_filtered(ui: &mut egui::Ui, doc: &Document, pointer: &str, keep: impl Fn(&str) -> bool) {
    let target = going_to(ui.ctx());
    for d in doc.diagnostics_under(pointer).filter(|d| keep(&d.pointer)) {
        let (color, word) =
            if d.is_error() { (ui.visuals().error_fg_color, "error") } else { (ui.visuals().warn_fg_color, "warning") };
        let text = RichText::new(format!("{word}: {}", d.message)).color(color);
        let label = egui::Label::new(text).wrap();
        if target.as_deref() == Some(d.pointer.as_str()) {
            let r =
                egui::Frame::new().stroke(egui::Stroke::new(2.0, color)).inner_margin(2.0).show(ui, |ui| ui.add(label));
            r.response.scroll_to_me(Some(egui::Align::Center));
            ui.ctx().data_mut(|data| data.remove::<String>(goto_id()));
        } else {
            ui.add(label);
        }
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

/// A modal asking to confirm a delete, listing the places that refer to
/// what is deleted: `Some(true)` confirmed (the button or Enter),
/// `Some(false)` cancelled (the button or Esc), `None` still open.
pub fn confirm_delete_ui(
    ui: &mut egui::Ui,
    id: &str,
    question: &str,
    refs: &[Reference],
    confirm: &str,
) -> Option<bool> {
    let mut answer = None;
    let modal = egui::Modal::new(egui::Id::unique(id)).show(ui.ctx(), |ui| {
        ui.set_max_width(520.0);
        ui.heading(question);
        if refs.is_empty() {
            ui.label("Nothing in the file refers to it.");
        } else {
            ui.label(
                RichText::new(format!(
                    "{} in the file use it and will become errors until you change them:",
                    plural(refs.len(), "place")
                ))
                .color(ui.visuals().warn_fg_color),
            );
            egui::ScrollArea::vertical().max_height(240.0).show(ui, |ui| {
                for r in refs {
                    ui.label(format!("• {}", r.description));
                }
            });
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui.button(confirm).clicked() {
                answer = Some(true);
            }
            if ui.button("Cancel").clicked() {
                answer = Some(false);
            }
        });
        ui.label(RichText::new("Enter deletes, Esc cancels. Undo brings it back.").weak().small());
    });
    if answer.is_none() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
        answer = Some(true);
    }
    if answer.is_none() && modal.should_close() {
        answer = Some(false);
    }
    answer
}

/// The message after a rename: `Renamed `a` to `b` (2 references updated).`
pub fn renamed_message(from: &str, to: &str, references: usize) -> String {
    let refs = plural(references, "reference");
    format!("Renamed `{from}` to `{to}` ({refs} updated).")
}

/// One diagnostic as a row: severity and code, where, what. With `link`,
/// the row is a button (returns whether it was clicked).
pub fn diagnostic_row(ui: &mut egui::Ui, d: &burgee_rules::Diagnostic, link: bool) -> bool {
    let color = if d.is_error() { ui.visuals().error_fg_color } else { ui.visuals().warn_fg_color };
    let severity = if d.is_error() { "error" } else { "warning" };
    let place = match d.location {
        Some(l) => format!("line {}, column {}", l.line, l.column),
        None if d.pointer.is_empty() => "the file".to_owned(),
        None => d.pointer.clone(),
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{severity}[{}]", d.code)).color(color).strong());
        let clicked = if link {
            ui.link(RichText::new(&place).monospace()).on_hover_text("Go to the field").clicked()
        } else {
            ui.label(RichText::new(&place).monospace());
            false
        };
        ui.label(&d.message);
        clicked
    })
    .inner
}

/// Errors and warnings, one a line: severity and code, where, what.
pub fn diagnostics_list(ui: &mut egui::Ui, diagnostics: &[burgee_rules::Diagnostic]) {
    for d in diagnostics {
        diagnostic_row(ui, d, false);
    }
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

    #[test]
    fn a_rename_message_counts_references() {
        assert_eq!(renamed_message("a", "b", 1), "Renamed `a` to `b` (1 reference updated).");
        assert_eq!(renamed_message("a", "b", 0), "Renamed `a` to `b` (0 references updated).");
    }
}
