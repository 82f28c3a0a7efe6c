//! The pending changes before a save: the line diff of the file as saved
//! against the text about to be written ([`Document::pending_diff`]).

use eframe::egui::{self, Color32, RichText};

use crate::document::{DiffKind, DiffLine, Document};

/// What the person chose in the diff window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffChoice {
    /// Still looking.
    Open,
    /// Write the file.
    Save,
    /// Close the window without saving.
    Cancel,
}

/// One diff line as text: `+ 12     "enabled": true,` style.
pub fn line_text(line: &DiffLine) -> String {
    let mark = match line.kind {
        DiffKind::Same => ' ',
        DiffKind::Removed => '-',
        DiffKind::Added => '+',
        DiffKind::Gap => return "...".to_owned(),
    };
    let number = line.new_line.or(line.old_line).map_or_else(String::new, |n| n.to_string());
    format!("{mark} {number:>5} {}", line.text)
}

/// The body of the diff window: the lines, coloured, and Save / Cancel.
pub fn diff_ui(ui: &mut egui::Ui, doc: &Document) -> DiffChoice {
    let lines = doc.pending_diff();
    let mut choice = DiffChoice::Open;
    if lines.is_empty() {
        ui.label("Nothing to save: the file is as it is on disk.");
    } else {
        let added = lines.iter().filter(|l| l.kind == DiffKind::Added).count();
        let removed = lines.iter().filter(|l| l.kind == DiffKind::Removed).count();
        ui.label(format!("{added} line(s) added, {removed} removed"));
    }
    egui::ScrollArea::vertical().max_height(420.0).auto_shrink([false, true]).show(ui, |ui| {
        for line in &lines {
            let color = match line.kind {
                DiffKind::Added => Color32::from_rgb(0x16, 0xa3, 0x4a),
                DiffKind::Removed => ui.visuals().error_fg_color,
                DiffKind::Same | DiffKind::Gap => ui.visuals().weak_text_color(),
            };
            ui.label(RichText::new(line_text(line)).monospace().color(color));
        }
    });
    ui.separator();
    ui.horizontal(|ui| {
        let errors = doc.error_count();
        let save = ui.add_enabled(errors == 0 && !lines.is_empty(), egui::Button::new("Save these changes"));
        if save.clicked() {
            choice = DiffChoice::Save;
        }
        if ui.button("Cancel").clicked() {
            choice = DiffChoice::Cancel;
        }
    });
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_a_unified_diff() {
        let l = DiffLine { kind: DiffKind::Added, old_line: None, new_line: Some(7), text: "  \"x\": 1".into() };
        assert_eq!(line_text(&l), "+     7   \"x\": 1");
        let gap = DiffLine { kind: DiffKind::Gap, old_line: None, new_line: None, text: String::new() };
        assert_eq!(line_text(&gap), "...");
    }
}
