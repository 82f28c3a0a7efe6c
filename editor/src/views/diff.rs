//! A line diff shown as text: the file as saved against the text about to
//! be written ([`crate::document::Document::pending_diff`]), one click away
//! in the save review.

use eframe::egui::{self, Color32, RichText};

use crate::document::{DiffKind, DiffLine};

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

/// The lines of a line diff, coloured (added green, removed red), in a
/// scroll area of their own.
pub fn diff_lines_ui(ui: &mut egui::Ui, lines: &[DiffLine]) {
    if lines.is_empty() {
        ui.label("The text is the same.");
        return;
    }
    let added = lines.iter().filter(|l| l.kind == DiffKind::Added).count();
    let removed = lines.iter().filter(|l| l.kind == DiffKind::Removed).count();
    ui.label(format!("{added} line(s) added, {removed} removed"));
    egui::ScrollArea::vertical().max_height(360.0).id_salt("text-diff").auto_shrink([false, true]).show(ui, |ui| {
        for line in lines {
            let color = match line.kind {
                DiffKind::Added => Color32::from_rgb(0x16, 0xa3, 0x4a),
                DiffKind::Removed => ui.visuals().error_fg_color,
                DiffKind::Same | DiffKind::Gap => ui.visuals().weak_text_color(),
            };
            ui.label(RichText::new(line_text(line)).monospace().color(color));
        }
    });
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
