//! The two dialogs of a save.
//!
//! - **Review** ([`SaveReview`]): what saving changes, by meaning, grouped
//!   by flag and environment, segment and stage ("new-checkout / production:
//!   rule `beta-10` added at position 1; default rollout on 5 % → 10 %"),
//!   with how many sample users move from which variant to which (counted on
//!   a background thread), and the text diff one click away. The changes
//!   come from [`burgee_rules::diff`], the same comparison
//!   `burgee-sidecar diff` prints.
//! - **The file changed on disk** ([`DiskReview`]): their changes and yours,
//!   side by side; when both changed the same flag, environment, segment or
//!   stage, the two versions of it side by side with a choice per item; then
//!   a merge that keeps both, or — after a second look at exactly what it
//!   throws away — saving yours over theirs.
//!
//! Both are modal, centred, closed by Esc and answered by Enter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use burgee_rules::diff::{Change, Subject, affected_flags, diff};
use burgee_rules::merge::{Conflict, Side};
use burgee_rules::{Context, FlagFile};
use eframe::egui::{self, Color32, RichText};

use super::diff::diff_lines_ui;
use crate::document::{DiskVersion, Document, line_diff};
use crate::preview::chart::{impact_summary, thousands};
use crate::preview::{Impact, impact_of_save};

/// What the person chose in a dialog this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Still looking.
    Open,
    /// The primary action: save (review), merge (disk), overwrite (its confirmation).
    Confirm,
    /// Save this version over theirs (the disk dialog's second action).
    Overwrite,
    /// Close without doing anything.
    Cancel,
}

/// Changes grouped by what they are about, in the order given.
pub fn grouped(changes: &[Change]) -> Vec<(&Subject, Vec<&Change>)> {
    let mut out: Vec<(&Subject, Vec<&Change>)> = Vec::new();
    for c in changes {
        match out.iter_mut().find(|(s, _)| **s == c.subject) {
            Some((_, list)) => list.push(c),
            None => out.push((&c.subject, vec![c])),
        }
    }
    out
}

/// How many sample users move for each changed flag and environment:
/// computed on a background thread when the review opens.
type Moves = Arc<Mutex<Option<Vec<(String, String, Impact)>>>>;

/// The review before a save. See the [module docs](self).
#[derive(Debug)]
pub struct SaveReview {
    /// What saving changes, by meaning.
    pub changes: Vec<Change>,
    /// Flags whose answers change, with why (for the impact lines).
    pub affected: Vec<burgee_rules::diff::Affected>,
    moves: Moves,
    population: usize,
    show_text: bool,
}

impl SaveReview {
    /// The review of `doc`'s pending changes; the sample users' moves are
    /// counted on a thread over `population` (the preview's sample), which
    /// calls `wake` when done.
    pub fn new(doc: &Document, population: Arc<Vec<Context>>, wake: impl Fn() + Send + 'static) -> Self {
        let (changes, affected) = match (doc.saved_model(), doc.model()) {
            (Some(saved), Some(model)) => {
                let changes = diff(saved, model);
                let affected = affected_flags(saved, model, &changes);
                (changes, affected)
            }
            _ => (Vec::new(), Vec::new()),
        };
        let moves: Moves = Arc::default();
        let keys: Vec<String> = affected.iter().map(|a| a.flag.clone()).collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let edited = doc.compiled_for(&key_refs);
        let environments = doc.model().map(|m| m.environments.clone()).unwrap_or_default();
        if let (Some(saved), Some(edited)) = (doc.saved_compiled(), edited) {
            let out = Arc::clone(&moves);
            let users = Arc::clone(&population);
            let work = move || {
                let result = impact_of_save(&saved, &edited, &keys, &environments, &users);
                *out.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
                wake();
            };
            if std::thread::Builder::new().name("burgee-save-impact".into()).spawn(work).is_err() {
                // No thread: the dialog says the counts are not available.
            }
        }
        SaveReview { changes, affected, moves, population: population.len(), show_text: false }
    }

    /// The sample users' moves, once counted.
    pub fn moves(&self) -> Option<Vec<(String, String, Impact)>> {
        self.moves.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// A variant's colour in `file`'s flag `flag` (grey when either is unknown).
fn variant_color(file: Option<&FlagFile>, flag: &str, variant: &str) -> Color32 {
    let variants: Vec<String> =
        file.and_then(|f| f.flags.get(flag)).map(|f| f.variants.keys().cloned().collect()).unwrap_or_default();
    super::color_of(&variants, variant)
}

/// One impact as lines: the summary, then each move with the variants in their colours.
fn impact_ui(ui: &mut egui::Ui, file: Option<&FlagFile>, flag: &str, impact: &Impact) {
    ui.label(RichText::new(impact_summary(impact)).strong());
    for m in impact.moves.iter().take(6) {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 4.0;
            let (from, to) = (m.from.to_string(), m.to.to_string());
            ui.label(RichText::new(&from).monospace().color(variant_color(file, flag, &from)));
            ui.label("→");
            ui.label(RichText::new(&to).monospace().color(variant_color(file, flag, &to)));
            ui.label(format!(": {} users", thousands(m.users)));
        });
    }
}

/// The changes listed by subject, each with its impact lines when a flag's.
fn changes_ui(
    ui: &mut egui::Ui,
    file: Option<&FlagFile>,
    changes: &[Change],
    moves: Option<&[(String, String, Impact)]>,
    marked: &dyn Fn(&Subject) -> bool,
) {
    for (subject, list) in grouped(changes) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new(subject.to_string()).strong().monospace());
            if marked(subject) {
                let text = "also changed on disk: saving this undoes their change";
                ui.label(RichText::new(text).color(ui.visuals().warn_fg_color));
            }
        });
        for c in list {
            ui.label(format!("  • {}", c.summary));
        }
        if let (Subject::FlagEnvironment { flag, environment }, Some(moves)) = (subject, moves)
            && let Some((_, _, impact)) = moves.iter().find(|(f, e, _)| f == flag && e == environment)
        {
            ui.indent(("moves", flag, environment), |ui| impact_ui(ui, file, flag, impact));
        }
    }
}

/// The review dialog: changes by meaning with the users who move, the text
/// diff behind a toggle, Save / Cancel. `confirm` names the save button
/// ("Save", "Save and close").
pub fn review_ui(ctx: &egui::Context, doc: &Document, review: &mut SaveReview, confirm: &str) -> Choice {
    let mut choice = Choice::Open;
    let file = doc.model();
    let moves = review.moves();
    egui::Modal::new(egui::Id::unique("save-review")).show(ctx, |ui| {
        ui.set_width(720.0_f32.min(ctx.content_rect().width() - 80.0));
        ui.heading(format!("Save {}?", doc.title().trim_start_matches('*')));
        if review.changes.is_empty() {
            ui.label("Nothing changes in meaning (only the file's formatting).");
        } else {
            ui.label(format!("{} — what saving changes:", super::plural(review.changes.len(), "change")));
        }
        egui::ScrollArea::vertical().max_height(ctx.content_rect().height() * 0.55).id_salt("review-list").show(
            ui,
            |ui| {
                changes_ui(ui, file, &review.changes, moves.as_deref(), &|_| false);
                let moved_elsewhere: Vec<&(String, String, Impact)> = moves
                    .iter()
                    .flatten()
                    .filter(|(f, e, _)| {
                        !review.changes.iter().any(|c| {
                            matches!(&c.subject, Subject::FlagEnvironment { flag, environment } if flag == f && environment == e)
                        })
                    })
                    .collect();
                if !moved_elsewhere.is_empty() {
                    ui.add_space(6.0);
                    ui.label(RichText::new("Also changed for users (through segments, prerequisites or a flag's definition):").strong());
                    for (flag, env, impact) in moved_elsewhere {
                        ui.label(RichText::new(format!("{flag} / {env}")).monospace());
                        ui.indent(("moves-elsewhere", flag, env), |ui| impact_ui(ui, file, flag, impact));
                    }
                }
                match &moves {
                    None => {
                        ui.label(RichText::new("Counting the sample users who move…").weak());
                    }
                    Some(m) if m.is_empty() => {
                        let text = format!("None of the {} sample users changes variant.", thousands(review.population));
                        ui.label(RichText::new(text).weak());
                    }
                    Some(_) => {}
                }
                ui.add_space(6.0);
                let toggle = if review.show_text { "Hide the text diff" } else { "Show the text diff" };
                if ui.button(toggle).clicked() {
                    review.show_text = !review.show_text;
                }
                if review.show_text {
                    diff_lines_ui(ui, &doc.pending_diff());
                }
            },
        );
        ui.separator();
        ui.horizontal(|ui| {
            let save = ui.add_enabled(doc.error_count() == 0, egui::Button::new(confirm));
            if save.clicked() {
                choice = Choice::Confirm;
            }
            if ui.button("Cancel").clicked() {
                choice = Choice::Cancel;
            }
            ui.label(RichText::new("Enter saves, Esc cancels").weak().small());
        });
    });
    if choice == Choice::Open && enter_or_escape(ctx) == Some(true) && doc.error_count() == 0 {
        choice = Choice::Confirm;
    } else if choice == Choice::Open && enter_or_escape(ctx) == Some(false) {
        choice = Choice::Cancel;
    }
    choice
}

/// `Some(true)` for Enter, `Some(false)` for Esc, pressed this frame.
fn enter_or_escape(ctx: &egui::Context) -> Option<bool> {
    ctx.input(|i| {
        if i.key_pressed(egui::Key::Enter) {
            Some(true)
        } else if i.key_pressed(egui::Key::Escape) {
            Some(false)
        } else {
            None
        }
    })
}

/// The file on disk changed while there were unsaved edits: what each side
/// did, the conflicts and the person's picks. See the [module docs](self).
#[derive(Debug)]
pub struct DiskReview {
    /// The file on disk as read when the dialog opened.
    pub disk: DiskVersion,
    /// Their changes (from the version read to the disk's), by meaning.
    pub theirs: Vec<Change>,
    /// The unsaved changes (from the version read to the editor's).
    pub mine: Vec<Change>,
    /// What both changed differently.
    pub conflicts: Vec<Conflict>,
    /// The person's pick per conflict.
    pub picks: HashMap<Subject, Side>,
    /// Showing the second look before saving over theirs: what the file on
    /// disk loses (from theirs to mine).
    pub overwrite: Option<Vec<Change>>,
}

impl DiskReview {
    /// Look at `disk` against `doc`'s edits.
    pub fn new(doc: &Document, disk: DiskVersion) -> Self {
        let (theirs, mine) = match (doc.saved_model(), doc.model(), disk.model()) {
            (Some(base), Some(model), Some(on_disk)) => (diff(base, on_disk), diff(base, model)),
            (Some(base), Some(model), None) => (Vec::new(), diff(base, model)),
            _ => (Vec::new(), Vec::new()),
        };
        let conflicts = doc.conflicts_with(&disk);
        DiskReview { disk, theirs, mine, conflicts, picks: HashMap::new(), overwrite: None }
    }

    /// Whether every conflict has a pick (a merge can go ahead).
    pub fn settled(&self) -> bool {
        self.conflicts.iter().all(|c| self.picks.contains_key(&c.subject))
    }

    /// Open the second look at what saving over theirs changes on disk.
    pub fn look_at_overwrite(&mut self, doc: &Document) {
        let lost = match (self.disk.model(), doc.model()) {
            (Some(on_disk), Some(model)) => diff(on_disk, model),
            _ => Vec::new(),
        };
        self.overwrite = Some(lost);
    }
}

/// A version of a conflicting item as pretty JSON (or "removed").
fn version_text(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => "(removed)".to_owned(),
    }
}

/// The disk dialog. `save_after` says whether the person was saving (then
/// the primary action is "Merge and review"; otherwise "Merge").
pub fn disk_ui(ctx: &egui::Context, doc: &Document, review: &mut DiskReview, save_after: bool) -> Choice {
    let mut choice = Choice::Open;
    let name = doc.title().trim_start_matches('*').to_owned();
    egui::Modal::new(egui::Id::unique("disk-review")).show(ctx, |ui| {
        ui.set_width(860.0_f32.min(ctx.content_rect().width() - 60.0));
        let height = ctx.content_rect().height() * 0.6;
        if let Some(lost) = &review.overwrite {
            ui.heading(format!("Save your version over {name}?"));
            ui.label(
                RichText::new("Saving your version replaces the file on disk. This is what changes in it:")
                    .color(ui.visuals().warn_fg_color),
            );
            let theirs_subjects: Vec<&Subject> = review.theirs.iter().map(|c| &c.subject).collect();
            egui::ScrollArea::vertical().max_height(height).id_salt("overwrite-list").show(ui, |ui| {
                changes_ui(ui, doc.model(), lost, None, &|s| theirs_subjects.contains(&s));
                if !review.disk.exists() {
                    ui.label("The file is not on disk any more: saving writes it again.");
                } else if review.disk.model().is_none() {
                    ui.label("The file on disk is not a valid flags file; this is how its text changes:");
                    diff_lines_ui(ui, &line_diff(review.disk.text(), doc.text_to_save()));
                }
            });
            ui.separator();
            ui.horizontal(|ui| {
                if ui.button("Overwrite with my version").clicked() {
                    choice = Choice::Overwrite;
                }
                if ui.button("Back").clicked() {
                    review.overwrite = None;
                }
                ui.label(RichText::new("Enter overwrites, Esc goes back").weak().small());
            });
            match enter_or_escape(ctx) {
                Some(true) if choice == Choice::Open => choice = Choice::Overwrite,
                Some(false) => review.overwrite = None,
                _ => {}
            }
            return;
        }
        if !review.disk.exists() {
            ui.heading(format!("{name} was removed from disk"));
            ui.label("Someone removed or moved the file since you opened it. Saving writes your version there again.");
        } else if review.disk.model().is_none() {
            ui.heading(format!("{name} changed on disk and is not a valid flags file"));
            ui.label("It cannot be merged by flag. These are its problems:");
            egui::ScrollArea::vertical().max_height(160.0).id_salt("disk-errors").show(ui, |ui| {
                super::diagnostics_list(ui, review.disk.load_errors());
            });
        } else {
            ui.heading(format!("{name} changed on disk"));
            ui.label("Someone else saved it since you opened it (another person, a git pull). Nothing is lost: choose how to combine the versions.");
        }
        ui.add_space(4.0);
        ui.columns(2, |cols| {
            cols[0].label(RichText::new("Their changes (on disk)").strong());
            egui::ScrollArea::vertical().max_height(height * 0.45).id_salt("theirs-list").show(&mut cols[0], |ui| {
                if review.theirs.is_empty() {
                    ui.label(RichText::new("(none by meaning)").weak());
                }
                changes_ui(ui, review.disk.model(), &review.theirs, None, &|_| false);
            });
            cols[1].label(RichText::new("Your unsaved changes").strong());
            egui::ScrollArea::vertical().max_height(height * 0.45).id_salt("mine-list").show(&mut cols[1], |ui| {
                changes_ui(ui, doc.model(), &review.mine, None, &|_| false);
            });
        });
        if !review.conflicts.is_empty() {
            ui.separator();
            ui.label(
                RichText::new(format!(
                    "Both of you changed {} — choose which version to keep of each:",
                    super::plural(review.conflicts.len(), "item")
                ))
                .strong()
                .color(ui.visuals().warn_fg_color),
            );
            egui::ScrollArea::vertical().max_height(height * 0.5).id_salt("conflicts").show(ui, |ui| {
                for c in &review.conflicts {
                    ui.label(RichText::new(c.subject.to_string()).strong().monospace());
                    let pick = review.picks.get(&c.subject).copied();
                    ui.columns(2, |cols| {
                        for (col, side, title, version) in [
                            (0, Side::Theirs, "Keep theirs", c.theirs.as_ref()),
                            (1, Side::Ours, "Keep mine", c.ours.as_ref()),
                        ] {
                            let ui = &mut cols[col];
                            let name = format!("{title}: {}", c.subject);
                            if ui.radio(pick == Some(side), title).accessible_name(name).clicked() {
                                review.picks.insert(c.subject.clone(), side);
                            }
                            let mut text = version_text(version);
                            ui.add(
                                egui::TextEdit::multiline(&mut text)
                                    .code_editor()
                                    .interactive(false)
                                    .desired_rows(4)
                                    .desired_width(f32::INFINITY),
                            );
                        }
                    });
                    ui.add_space(6.0);
                }
            });
        }
        ui.separator();
        ui.horizontal(|ui| {
            let can_merge = review.disk.model().is_some() && review.settled();
            let merge_text = if save_after { "Merge, then review the save" } else { "Merge into my edits" };
            let merge = ui.add_enabled(can_merge, egui::Button::new(merge_text));
            let merge = if can_merge {
                merge.on_hover_text("Keep their changes and yours; undo takes the merge back")
            } else {
                merge.on_disabled_hover_text("Choose a version for each item both of you changed")
            };
            if merge.clicked() {
                choice = Choice::Confirm;
            }
            if ui.button("Save my version over theirs…").clicked() {
                choice = Choice::Overwrite;
            }
            if ui.button("Cancel").clicked() {
                choice = Choice::Cancel;
            }
            ui.label(RichText::new("Enter merges, Esc cancels").weak().small());
        });
        match enter_or_escape(ctx) {
            Some(true) if choice == Choice::Open && review.disk.model().is_some() && review.settled() => {
                choice = Choice::Confirm
            }
            Some(false) if choice == Choice::Open => choice = Choice::Cancel,
            _ => {}
        }
    });
    if choice == Choice::Overwrite && review.overwrite.is_none() {
        review.look_at_overwrite(doc);
        return Choice::Open;
    }
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_grouped_by_subject_in_order() {
        let change = |subject: Subject, summary: &str| Change {
            subject,
            kind: burgee_rules::diff::ChangeKind::Changed,
            pointer: String::new(),
            summary: summary.into(),
        };
        let a = Subject::FlagEnvironment { flag: "f".into(), environment: "production".into() };
        let b = Subject::Segment("staff".into());
        let changes = vec![change(a.clone(), "one"), change(b.clone(), "two"), change(a.clone(), "three")];
        let groups = grouped(&changes);
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].0, groups[0].1.len()), (&a, 2));
        assert_eq!(groups[1].0, &b);
    }
}
