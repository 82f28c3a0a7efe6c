//! The editor window: [`BurgeeApp`] holds the open [`Document`] and the view
//! state, and [`BurgeeApp::ui`] lays out the views — the top bar (file path,
//! Open, Save, Undo/Redo, problem counts), the banner when the file changed
//! on disk, the flag / segment / stage list on the left, the page in the
//! middle, the preview on the right, the diff before a save, and the
//! unsaved-changes prompt on close. `main.rs` only hands it to eframe; tests
//! drive [`BurgeeApp::ui`] with egui_kittest.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use crate::document::{DiskState, Document, SaveError};
use crate::views::diff::{DiffChoice, diff_ui};
use crate::views::flag::{FlagAction, FlagView, flag_ui};
use crate::views::flags::{FlagListView, flag_list_ui};
use crate::views::plural;
use crate::views::preview::{PreviewPanel, preview_ui};
use crate::views::segments::{SegmentsView, segment_list_ui, segment_ui};
use crate::views::stages::stages_ui;

/// The page shown in the middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Flags: the list on the left, the selected flag in the middle.
    Flags,
    /// Segments.
    Segments,
    /// Stages.
    Stages,
}

/// A question waiting for the person's answer because of unsaved changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// The window is being closed.
    Close,
    /// Another file is being opened.
    Open(PathBuf),
}

/// The whole editor's state. See the [module docs](self).
#[derive(Debug)]
pub struct BurgeeApp {
    /// The open file, if any.
    pub doc: Option<Document>,
    /// The path field of the top bar.
    pub path_input: String,
    /// The last message for the status line (opened, saved, why not).
    pub status: Option<String>,
    /// The page shown.
    pub page: Page,
    /// The selected flag.
    pub selected_flag: Option<String>,
    /// Search and filters of the flag list.
    pub flag_list: FlagListView,
    /// The flag page's state (environment tab, messages).
    pub flag_view: FlagView,
    /// The segments page's state.
    pub segments: SegmentsView,
    /// The preview panel's state.
    pub preview: PreviewPanel,
    /// The file on disk as last checked.
    pub disk: DiskState,
    /// How often the file on disk is checked (about once a second).
    pub disk_check_interval: Duration,
    /// A question about unsaved changes.
    pub prompt: Option<Prompt>,
    /// The diff of pending changes is shown (before a save).
    pub show_diff: bool,
    /// The list of every problem is shown.
    pub show_problems: bool,
    last_disk_check: Option<Instant>,
    allow_close: bool,
    title: String,
}

impl Default for BurgeeApp {
    fn default() -> Self {
        BurgeeApp {
            doc: None,
            path_input: String::new(),
            status: None,
            page: Page::Flags,
            selected_flag: None,
            flag_list: FlagListView::default(),
            flag_view: FlagView::default(),
            segments: SegmentsView::default(),
            preview: PreviewPanel::default(),
            disk: DiskState::Unchanged,
            disk_check_interval: Duration::from_secs(1),
            prompt: None,
            show_diff: false,
            show_problems: false,
            last_disk_check: None,
            allow_close: false,
            title: String::new(),
        }
    }
}

impl BurgeeApp {
    /// An editor with `path` open (or nothing open).
    pub fn new(path: Option<PathBuf>) -> Self {
        let mut app = BurgeeApp::default();
        if let Some(path) = path {
            app.open(&path);
        }
        app
    }

    /// Open `path` now, replacing the open document (unsaved changes are
    /// lost: [`BurgeeApp::request_open`] asks first).
    pub fn open(&mut self, path: &Path) {
        self.path_input = path.display().to_string();
        match Document::open(path) {
            Ok(doc) => {
                self.status = Some(if doc.is_read_only() {
                    format!("Opened {} read-only: it is not a valid flags file", path.display())
                } else {
                    format!("Opened {}", path.display())
                });
                if self.selected_flag.as_ref().is_some_and(|k| doc.model().is_none_or(|m| !m.flags.contains_key(k))) {
                    self.selected_flag = None;
                }
                self.doc = Some(doc);
                self.disk = DiskState::Unchanged;
                self.last_disk_check = Some(Instant::now());
                self.show_diff = false;
                self.flag_view.confirm_delete = None;
                self.flag_view.message = None;
            }
            Err(e) => self.status = Some(format!("Could not open {}: {e}", path.display())),
        }
    }

    /// Open `path`, asking first when there are unsaved changes.
    pub fn request_open(&mut self, path: PathBuf) {
        if self.is_dirty() {
            self.prompt = Some(Prompt::Open(path));
        } else {
            self.open(&path);
        }
    }

    /// Whether the open document has unsaved changes.
    pub fn is_dirty(&self) -> bool {
        self.doc.as_ref().is_some_and(Document::is_dirty)
    }

    /// Why Save is not possible now, or `None` when it is.
    pub fn save_blocker(&self) -> Option<String> {
        let Some(doc) = &self.doc else { return Some("no file is open".into()) };
        if doc.is_read_only() {
            return Some("the file is open read-only".into());
        }
        let errors = doc.error_count();
        if errors > 0 {
            return Some(format!("fix {} first", plural(errors, "error")));
        }
        if !doc.is_dirty() {
            return Some("nothing to save".into());
        }
        None
    }

    /// Save now (after the diff was confirmed). Reports in the status line.
    pub fn save(&mut self) -> bool {
        let Some(doc) = self.doc.as_mut() else { return false };
        match doc.save() {
            Ok(()) => {
                self.status =
                    Some(format!("Saved {}", doc.path().map(|p| p.display().to_string()).unwrap_or_default()));
                self.disk = DiskState::Unchanged;
                true
            }
            Err(e) => {
                if matches!(e, SaveError::ChangedOnDisk | SaveError::MissingOnDisk) {
                    self.disk = doc.disk_state();
                }
                self.status = Some(format!("Not saved: {e}"));
                false
            }
        }
    }

    /// The window is being closed: returns whether to cancel the close
    /// (there are unsaved changes; the prompt is shown instead).
    pub fn on_close_requested(&mut self) -> bool {
        if self.allow_close || !self.is_dirty() {
            return false;
        }
        self.prompt = Some(Prompt::Close);
        true
    }

    /// Check the file on disk now (the UI does it about once a second).
    pub fn check_disk(&mut self) {
        self.last_disk_check = Some(Instant::now());
        if let Some(doc) = &self.doc {
            self.disk = doc.disk_state();
        }
    }

    /// Draw the whole editor into `ui` (the root of the window).
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if ctx.input(|i| i.viewport().close_requested()) && self.on_close_requested() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        if self.last_disk_check.is_none_or(|t| t.elapsed() >= self.disk_check_interval) {
            self.check_disk();
        }
        ctx.request_repaint_after(self.disk_check_interval);
        let title =
            self.doc.as_ref().map_or_else(|| "Burgee editor".to_owned(), |d| format!("{} — Burgee editor", d.title()));
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }

        self.shortcuts(&ctx);
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui));
        if self.disk != DiskState::Unchanged && self.doc.is_some() {
            egui::Panel::top("disk-banner").show(ui, |ui| self.disk_banner_ui(ui));
        }
        if self.show_problems {
            egui::Panel::bottom("problems").resizable(true).default_size(160.0).show(ui, |ui| self.problems_ui(ui));
        }
        self.windows_ui(&ctx);

        let Some(doc) = self.doc.as_mut() else {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.heading("No flags file open");
                ui.label("Type the path of a flags file (e.g. examples/flags.json) above and press Open.");
            });
            return;
        };
        if doc.is_read_only() {
            egui::CentralPanel::default().show(ui, |ui| read_only_ui(ui, doc));
            return;
        }

        egui::Panel::left("nav").resizable(true).default_size(250.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.page, Page::Flags, "Flags");
                ui.selectable_value(&mut self.page, Page::Segments, "Segments");
                ui.selectable_value(&mut self.page, Page::Stages, "Stages");
            });
            ui.separator();
            match self.page {
                Page::Flags => flag_list_ui(ui, doc, &mut self.flag_list, &mut self.selected_flag),
                Page::Segments => segment_list_ui(ui, doc, &mut self.segments, &mut self.preview),
                Page::Stages => {
                    ui.label("Release stages of this file.");
                }
            }
        });

        let selected = self.selected_flag.clone().filter(|k| doc.model().is_some_and(|m| m.flags.contains_key(k)));
        if self.page == Page::Flags
            && let Some(key) = &selected
        {
            let env = self
                .flag_view
                .environment
                .clone()
                .filter(|e| doc.model().is_some_and(|m| m.environments.contains(e)))
                .or_else(|| doc.model().and_then(|m| m.environments.first().cloned()))
                .unwrap_or_default();
            egui::Panel::right("preview").resizable(true).default_size(380.0).show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("preview-scroll").show(ui, |ui| {
                    preview_ui(ui, doc, &mut self.preview, key, &env);
                });
            });
        }

        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("page-scroll").auto_shrink(false).show(ui, |ui| match self.page {
                Page::Flags => match &selected {
                    Some(key) => match flag_ui(ui, doc, &mut self.flag_view, key) {
                        FlagAction::None => {}
                        FlagAction::Select(k) => self.selected_flag = Some(k),
                        FlagAction::Deleted => self.selected_flag = None,
                    },
                    None => {
                        ui.heading("Select a flag");
                        ui.label("Pick a flag in the list on the left, or create one at the bottom of the list.");
                    }
                },
                Page::Segments => segment_ui(ui, doc, &mut self.segments, &mut self.preview),
                Page::Stages => stages_ui(ui, doc),
            });
        });
    }

    /// Ctrl+S reviews and saves; Ctrl+Z / Ctrl+Shift+Z undo and redo when
    /// no text field has the keyboard (a text field undoes its own typing).
    fn shortcuts(&mut self, ctx: &egui::Context) {
        let save = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::S);
        if ctx.input_mut(|i| i.consume_shortcut(&save)) && self.save_blocker().is_none() {
            self.show_diff = true;
        }
        if ctx.memory(|m| m.focused().is_some()) {
            return;
        }
        let redo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z);
        let undo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);
        if ctx.input_mut(|i| i.consume_shortcut(&redo))
            && let Some(d) = self.doc.as_mut()
        {
            d.redo();
        } else if ctx.input_mut(|i| i.consume_shortcut(&undo))
            && let Some(d) = self.doc.as_mut()
        {
            d.undo();
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let l = ui.label("File");
            let r = ui.add(egui::TextEdit::singleline(&mut self.path_input).desired_width(320.0)).labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Open").clicked() || enter {
                let path = PathBuf::from(self.path_input.trim());
                self.request_open(path);
            }
            ui.separator();
            let blocker = self.save_blocker();
            let save = ui.add_enabled(blocker.is_none(), egui::Button::new("Save"));
            let save = match &blocker {
                Some(why) => save.on_disabled_hover_text(format!("Cannot save: {why}")),
                None => save.on_hover_text("Review the changes, then save"),
            };
            if save.clicked() {
                self.show_diff = true;
            }
            let (can_undo, can_redo, undo_label, redo_label) = match &self.doc {
                Some(d) => (
                    d.can_undo(),
                    d.can_redo(),
                    d.undo_label().map(str::to_owned).unwrap_or_default(),
                    d.redo_label().map(str::to_owned).unwrap_or_default(),
                ),
                None => (false, false, String::new(), String::new()),
            };
            if ui.add_enabled(can_undo, egui::Button::new("Undo")).on_hover_text(format!("Undo {undo_label}")).clicked()
                && let Some(d) = self.doc.as_mut()
            {
                d.undo();
            }
            if ui.add_enabled(can_redo, egui::Button::new("Redo")).on_hover_text(format!("Redo {redo_label}")).clicked()
                && let Some(d) = self.doc.as_mut()
            {
                d.redo();
            }
            ui.separator();
            if let Some(doc) = &self.doc {
                let errors = doc.error_count();
                let warnings = doc.diagnostics().len() - errors;
                let color = if errors > 0 { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                let text = format!("{} · {}", plural(errors, "error"), plural(warnings, "warning"));
                if ui
                    .selectable_label(self.show_problems, RichText::new(text).color(color))
                    .on_hover_text("Show every problem")
                    .clicked()
                {
                    self.show_problems = !self.show_problems;
                }
                if doc.is_dirty() {
                    ui.label(RichText::new("unsaved changes").color(ui.visuals().warn_fg_color));
                }
            }
        });
        if let Some(blocker) = self.save_blocker().filter(|_| self.doc.as_ref().is_some_and(|d| d.error_count() > 0)) {
            ui.colored_label(ui.visuals().error_fg_color, format!("Save is disabled: {blocker}."));
        }
        if let Some(status) = &self.status {
            ui.label(RichText::new(status).weak());
        }
    }

    fn disk_banner_ui(&mut self, ui: &mut egui::Ui) {
        let message = match self.disk {
            DiskState::Changed => "The file changed on disk since you opened it (another person, a git pull).",
            DiskState::Missing => "The file was removed from disk since you opened it.",
            DiskState::Unchanged => return,
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(message).color(ui.visuals().warn_fg_color).strong());
            if self.disk == DiskState::Changed
                && ui.button("Reload").on_hover_text("Discard your version (undo brings it back)").clicked()
            {
                if let Some(doc) = self.doc.as_mut() {
                    match doc.reload_from_disk() {
                        Ok(()) => self.status = Some("Reloaded the file from disk".into()),
                        Err(e) => self.status = Some(format!("Could not reload: {e}")),
                    }
                }
                self.check_disk();
            }
            if ui.button("Keep mine").on_hover_text("Keep your version; the next save overwrites the file").clicked() {
                if let Some(doc) = self.doc.as_mut() {
                    doc.keep_mine();
                    self.status = Some("Keeping your version: saving will overwrite the file on disk".into());
                }
                self.check_disk();
            }
        });
    }

    fn problems_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = &self.doc else { return };
        egui::ScrollArea::vertical().id_salt("problems-scroll").show(ui, |ui| {
            if doc.diagnostics().is_empty() {
                ui.label("No problems.");
            }
            diagnostics_list(ui, doc.diagnostics());
        });
    }

    fn windows_ui(&mut self, ctx: &egui::Context) {
        if self.show_diff
            && let Some(doc) = &self.doc
        {
            let mut choice = DiffChoice::Open;
            egui::Window::new("Changes to save").collapsible(false).default_width(640.0).show(ctx, |ui| {
                choice = diff_ui(ui, doc);
            });
            match choice {
                DiffChoice::Open => {}
                DiffChoice::Cancel => self.show_diff = false,
                DiffChoice::Save => {
                    self.show_diff = false;
                    self.save();
                }
            }
        }
        if let Some(prompt) = self.prompt.clone() {
            let mut answer = None;
            egui::Window::new("Unsaved changes").collapsible(false).resizable(false).show(ctx, |ui| {
                ui.label("The file has unsaved changes.");
                ui.horizontal(|ui| {
                    match &prompt {
                        Prompt::Close => {
                            let can_save = self.save_blocker().is_none();
                            if ui.add_enabled(can_save, egui::Button::new("Save and close")).clicked() {
                                answer = Some("save");
                            }
                            if ui.button("Discard and close").clicked() {
                                answer = Some("discard");
                            }
                        }
                        Prompt::Open(_) => {
                            if ui.button("Discard and open").clicked() {
                                answer = Some("discard");
                            }
                        }
                    }
                    if ui.button("Keep editing").clicked() {
                        answer = Some("cancel");
                    }
                });
            });
            match (answer, prompt) {
                (Some("save"), Prompt::Close) => {
                    self.prompt = None;
                    if self.save() {
                        self.allow_close = true;
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                }
                (Some("discard"), Prompt::Close) => {
                    self.prompt = None;
                    self.allow_close = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                (Some("discard"), Prompt::Open(path)) => {
                    self.prompt = None;
                    self.open(&path);
                }
                (Some(_), _) => self.prompt = None,
                (None, _) => {}
            }
        }
    }
}

impl eframe::App for BurgeeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        BurgeeApp::ui(self, ui);
    }
}

/// The read-only view of a file that is not a valid flags file: why, every error.
fn read_only_ui(ui: &mut egui::Ui, doc: &Document) {
    ui.heading("This file cannot be edited");
    ui.label(
        "It is not a valid flags file, so it is open read-only. Fix it in a text editor (or `git checkout` it) \
         and press Open again. The sidecar would refuse it for these reasons:",
    );
    ui.separator();
    egui::ScrollArea::vertical().id_salt("load-errors").show(ui, |ui| diagnostics_list(ui, doc.load_errors()));
}

/// Errors and warnings, one a line: severity and code, where, what.
pub fn diagnostics_list(ui: &mut egui::Ui, diagnostics: &[burgee_rules::Diagnostic]) {
    for d in diagnostics {
        let color = if d.is_error() { ui.visuals().error_fg_color } else { ui.visuals().warn_fg_color };
        let severity = if d.is_error() { "error" } else { "warning" };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{severity}[{}]", d.code)).color(color).strong());
            let place = match d.location {
                Some(l) => format!("line {}, column {}", l.line, l.column),
                None if d.pointer.is_empty() => "the file".to_owned(),
                None => d.pointer.clone(),
            };
            ui.label(RichText::new(place).monospace());
            ui.label(&d.message);
        });
    }
}
