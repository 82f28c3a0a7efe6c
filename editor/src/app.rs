//! The editor window: [`BurgeeApp`] holds the open [`Document`] and the view
//! state, and [`BurgeeApp::ui`] lays out the views — the menu bar (File,
//! Edit, View), the toolbar (Save, Undo/Redo, problem counts, typed values
//! not applied), the banner when the file changed on disk, the flag /
//! segment / stage list on the left, the page in the middle, the preview on
//! the right, and the dialogs (save review, changed on disk, unsaved
//! changes, open and save-as paths). `main.rs` only hands it to eframe;
//! tests drive [`BurgeeApp::ui`] with egui_kittest.
//!
//! Saving never overwrites what the person has not seen: Save first reads
//! the file on disk; when it is not the version that was read, the "changed
//! on disk" dialog shows both sides and merges them, or shows exactly what
//! saving over theirs throws away and asks ([`crate::views::save`]).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use eframe::egui::{self, KeyboardShortcut, RichText};

use crate::document::{DiskState, DiskVersion, Document, SaveError};
use crate::preview::Decider;
use crate::views::field::{Applied, Pending};
use crate::views::flag::{FlagAction, FlagView, flag_ui};
use crate::views::flags::{FlagListView, SEARCH_ID, flag_list_ui};
use crate::views::plural;
use crate::views::preview::{PreviewPanel, preview_ui};
use crate::views::rules::SampleFacts;
use crate::views::save::{Choice, DiskReview, SaveReview, disk_ui, review_ui};
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

/// What to do once the current document is saved or its changes discarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// Keep editing.
    Stay,
    /// Close the window.
    Quit,
    /// Close the document (the window stays, empty).
    Close,
    /// Open this file.
    Open(PathBuf),
    /// Start a new file.
    New,
}

/// A dialog waiting for the person (one at a time, modal).
#[derive(Debug)]
pub enum Dialog {
    /// Unsaved changes before `After`: Save…, Don't save, Cancel.
    Unsaved(After),
    /// The review before a save.
    Review {
        /// What saving changes.
        review: SaveReview,
        /// What to do once saved.
        after: After,
    },
    /// The file changed on disk: merge, or save over it after a second look.
    Disk {
        /// Both sides and the picks.
        review: DiskReview,
        /// `Some` when the person was saving (the save goes on after a merge).
        after: Option<After>,
    },
    /// Reload from disk, discarding unsaved edits?
    ConfirmReload,
    /// The in-app Open dialog (when no system file dialog is available).
    OpenPath {
        /// The path typed.
        input: String,
    },
    /// The in-app Save As dialog.
    SaveAsPath {
        /// The path typed.
        input: String,
        /// What to do once saved.
        after: After,
        /// The file exists: the person is asked to confirm replacing it.
        replace: bool,
    },
}

/// How Open… and Save As… ask for a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileDialogs {
    /// The system's file dialog (through `rfd`); when none is available it
    /// answers at once, and the in-app dialog opens instead.
    Native,
    /// Always the in-app dialog with a path field (tests; no desktop portal).
    InApp,
}

/// How many files Open Recent lists.
pub const RECENT_LIMIT: usize = 10;

/// The key under which the recent files are stored between runs.
pub const RECENT_KEY: &str = "burgee-recent-files";

/// A system file dialog running on its own thread.
#[derive(Debug)]
struct NativeDialog {
    result: Receiver<Option<PathBuf>>,
    started: Instant,
    save_as: Option<After>,
}

/// The whole editor's state. See the [module docs](self).
#[derive(Debug)]
pub struct BurgeeApp {
    /// The open file, if any.
    pub doc: Option<Document>,
    /// The last message about files (opened, saved, why not), in the status bar.
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
    /// The dialog shown, if any.
    pub dialog: Option<Dialog>,
    /// The list of every problem is shown.
    pub show_problems: bool,
    /// Files opened or saved, newest first (remembered between runs).
    pub recent: Vec<PathBuf>,
    /// How Open… and Save As… ask for a path.
    pub file_dialogs: FileDialogs,
    /// The disk version the person chose to go on editing over ("Keep mine
    /// for now"): no banner until the file changes again. Save still shows it.
    dismissed: Option<DiskVersion>,
    native: Option<NativeDialog>,
    last_disk_check: Option<Instant>,
    allow_close: bool,
    quit_requested: bool,
    fonts_installed: bool,
    /// A new document was installed: typed values of the old one are dropped.
    pending_reset: bool,
    title: String,
}

impl Default for BurgeeApp {
    fn default() -> Self {
        BurgeeApp {
            doc: None,
            status: None,
            page: Page::Flags,
            selected_flag: None,
            flag_list: FlagListView::default(),
            flag_view: FlagView::default(),
            segments: SegmentsView::default(),
            preview: PreviewPanel::default(),
            disk: DiskState::Unchanged,
            disk_check_interval: Duration::from_secs(1),
            dialog: None,
            show_problems: false,
            recent: Vec::new(),
            file_dialogs: FileDialogs::Native,
            dismissed: None,
            native: None,
            last_disk_check: None,
            allow_close: false,
            quit_requested: false,
            fonts_installed: false,
            pending_reset: false,
            title: String::new(),
        }
    }
}

/// The keyboard shortcuts, as desktop programs have them.
pub mod shortcuts {
    use eframe::egui::{Key, KeyboardShortcut, Modifiers};

    /// File ▸ New.
    pub const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
    /// File ▸ Open….
    pub const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
    /// File ▸ Save.
    pub const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
    /// File ▸ Save As….
    pub const SAVE_AS: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::S);
    /// File ▸ Close.
    pub const CLOSE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::W);
    /// File ▸ Quit.
    pub const QUIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);
    /// Edit ▸ Undo.
    pub const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
    /// Edit ▸ Redo.
    pub const REDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
    /// Edit ▸ Redo, the other way.
    pub const REDO_SHIFT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
    /// Edit ▸ Find (the flag search).
    pub const FIND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
}

/// The template File ▸ New starts from: three environments, no flags yet.
pub const NEW_FILE: &str = r#"{
  "version": 1,
  "environments": ["development", "staging", "production"],
  "flags": {}
}
"#;

impl BurgeeApp {
    /// An editor with `path` open (or nothing open).
    pub fn new(path: Option<PathBuf>) -> Self {
        let mut app = BurgeeApp::default();
        if let Some(path) = path {
            app.open(&path);
        }
        app
    }

    /// Restore what is remembered between runs (the recent files).
    pub fn restore(&mut self, storage: &dyn eframe::Storage) {
        if let Some(text) = storage.get_string(RECENT_KEY) {
            // What this run opened already (the command line) stays first.
            for path in text.lines().filter(|l| !l.is_empty()).map(PathBuf::from) {
                if !self.recent.contains(&path) {
                    self.recent.push(path);
                }
            }
            self.recent.truncate(RECENT_LIMIT);
        }
    }

    /// Remember `path` as the newest recent file.
    fn remember(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT_LIMIT);
    }

    /// Open `path` now, replacing the open document (unsaved changes are
    /// lost: [`BurgeeApp::request`] asks first).
    pub fn open(&mut self, path: &Path) {
        match Document::open(path) {
            Ok(doc) => {
                self.status = Some(if doc.is_read_only() {
                    format!("Opened {} read-only: it is not a valid flags file", path.display())
                } else {
                    format!("Opened {}", path.display())
                });
                self.install(doc);
                self.remember(path);
            }
            Err(e) => self.status = Some(format!("Could not open {}: {e}", path.display())),
        }
    }

    /// Make `doc` the open document, with fresh view state.
    fn install(&mut self, doc: Document) {
        if self.selected_flag.as_ref().is_some_and(|k| doc.model().is_none_or(|m| !m.flags.contains_key(k))) {
            self.selected_flag = None;
        }
        self.doc = Some(doc);
        self.disk = DiskState::Unchanged;
        self.dismissed = None;
        self.last_disk_check = Some(Instant::now());
        self.dialog = None;
        self.flag_view = FlagView { environment: self.flag_view.environment.take(), ..FlagView::default() };
        self.segments = SegmentsView::default();
        self.pending_reset = true;
    }

    /// Start a new, untitled file from [`NEW_FILE`] (unsaved changes are
    /// lost: [`BurgeeApp::request`] asks first).
    pub fn new_document(&mut self) {
        self.install(Document::from_text(None, NEW_FILE));
        self.selected_flag = None;
        self.status = Some("New file: add flags, then Save (Ctrl+S) to choose where it goes".into());
    }

    /// Whether the open document has unsaved changes.
    pub fn is_dirty(&self) -> bool {
        self.doc.as_ref().is_some_and(Document::is_dirty)
    }

    /// Do `after` now, or — with unsaved changes — ask first.
    pub fn request(&mut self, after: After) {
        if self.is_dirty() && after != After::Stay {
            self.dialog = Some(Dialog::Unsaved(after));
        } else {
            self.carry_out(after);
        }
    }

    fn carry_out(&mut self, after: After) {
        match after {
            After::Stay => {}
            After::Quit => {
                self.allow_close = true;
                self.quit_requested = true;
            }
            After::Close => {
                self.doc = None;
                self.selected_flag = None;
                self.status = None;
            }
            After::Open(path) => self.open(&path),
            After::New => self.new_document(),
        }
    }

    /// Why Save is not possible now, or `None` when it is.
    pub fn save_blocker(&self) -> Option<String> {
        let Some(doc) = &self.doc else { return Some("no file is open".into()) };
        if doc.is_read_only() {
            return Some("the file is open read-only".into());
        }
        if !doc.unfinished_rules().is_empty() {
            let n = doc.unfinished_rules().len();
            return Some(format!("finish or delete the new {} (choose what it serves)", plural(n, "rule")));
        }
        let errors = doc.error_count();
        if errors > 0 {
            return Some(format!("fix {} first", plural(errors, "error")));
        }
        if !doc.is_dirty() && doc.path().is_some() {
            return Some("nothing to save".into());
        }
        None
    }

    /// Save: apply typed values, then review the changes — or, when the
    /// file changed on disk, show both versions first. Then `after`.
    pub fn begin_save(&mut self, ctx: &egui::Context, after: After) {
        if let Some(doc) = self.doc.as_mut() {
            let applied = Pending::commit_all(ctx, doc);
            self.follow(applied);
        }
        let Some(doc) = &self.doc else { return };
        if doc.path().is_none() {
            self.begin_save_as(after);
            return;
        }
        if let Some(why) = self.save_blocker() {
            if why == "nothing to save" {
                self.carry_out(after);
            } else {
                self.status = Some(format!("Not saved: {why}."));
            }
            return;
        }
        match doc.read_disk() {
            Ok(disk) if doc.is_base(&disk) => {
                let ctx = ctx.clone();
                let review = SaveReview::new(doc, self.preview.population.clone(), move || ctx.request_repaint());
                self.dialog = Some(Dialog::Review { review, after });
            }
            Ok(disk) => self.dialog = Some(Dialog::Disk { review: DiskReview::new(doc, disk), after: Some(after) }),
            Err(e) => self.status = Some(format!("Not saved: {e}")),
        }
    }

    /// Save As: ask where (the system dialog, or the in-app one), then save there.
    pub fn begin_save_as(&mut self, after: After) {
        if self.doc.as_ref().is_none_or(Document::is_read_only) {
            return;
        }
        match self.file_dialogs {
            FileDialogs::InApp => self.open_path_dialog(Some(after)),
            FileDialogs::Native => self.start_native(Some(after)),
        }
    }

    /// Save the document to `path` (the person chose it, and agreed to
    /// replace it if it exists), then `after`.
    pub fn save_to(&mut self, path: PathBuf, after: After) {
        let Some(doc) = self.doc.as_mut() else { return };
        match doc.save_as(&path) {
            Ok(()) => {
                self.status = Some(format!("Saved {}", path.display()));
                self.disk = DiskState::Unchanged;
                self.remember(&path);
                self.carry_out(after);
            }
            Err(e) => self.status = Some(format!("Not saved: {e}")),
        }
    }

    fn open_path_dialog(&mut self, save_as: Option<After>) {
        let input = self
            .doc
            .as_ref()
            .and_then(Document::path)
            .map(|p| p.display().to_string())
            .or_else(|| std::env::current_dir().ok().map(|d| format!("{}/", d.display())))
            .unwrap_or_default();
        self.dialog = Some(match save_as {
            Some(after) => Dialog::SaveAsPath { input, after, replace: false },
            None => Dialog::OpenPath { input },
        });
    }

    /// Ask the system for a file on another thread (the window keeps drawing).
    fn start_native(&mut self, save_as: Option<After>) {
        let (tx, rx) = mpsc::channel();
        let dir = self.doc.as_ref().and_then(Document::path).and_then(Path::parent).map(Path::to_path_buf);
        let saving = save_as.is_some();
        let spawned = std::thread::Builder::new().name("burgee-file-dialog".into()).spawn(move || {
            let mut dialog = rfd::FileDialog::new().add_filter("Flags file", &["json"]).add_filter("All files", &["*"]);
            if let Some(dir) = dir {
                dialog = dialog.set_directory(dir);
            }
            let picked = if saving { dialog.set_file_name("flags.json").save_file() } else { dialog.pick_file() };
            let _ = tx.send(picked);
        });
        match spawned {
            Ok(_) => self.native = Some(NativeDialog { result: rx, started: Instant::now(), save_as }),
            Err(_) => self.open_path_dialog(save_as),
        }
    }

    /// The system dialog's answer, when it came. An answer "nothing" within
    /// a moment means there is no system dialog (no desktop portal): the
    /// in-app dialog opens instead.
    fn poll_native(&mut self, ctx: &egui::Context) {
        let Some(native) = &self.native else { return };
        match native.result.try_recv() {
            Err(mpsc::TryRecvError::Empty) => ctx.request_repaint_after(Duration::from_millis(100)),
            Err(mpsc::TryRecvError::Disconnected) => self.native = None,
            Ok(picked) => {
                let Some(native) = self.native.take() else { return };
                match (picked, native.save_as) {
                    (Some(path), Some(after)) => self.save_to(path, after),
                    (Some(path), None) => self.request(After::Open(path)),
                    (None, save_as) if native.started.elapsed() < Duration::from_millis(400) => {
                        self.file_dialogs = FileDialogs::InApp;
                        self.open_path_dialog(save_as);
                    }
                    (None, _) => {}
                }
            }
        }
    }

    /// File ▸ Open…: ask which file (unsaved changes are asked about after).
    pub fn begin_open(&mut self) {
        match self.file_dialogs {
            FileDialogs::InApp => self.open_path_dialog(None),
            FileDialogs::Native => self.start_native(None),
        }
    }

    /// Follow what applying typed values did: a renamed flag or segment stays selected.
    fn follow(&mut self, applied: Vec<Applied>) {
        for a in applied {
            match a {
                Applied::FlagRenamed { from, to, references } => {
                    if self.selected_flag.as_deref() == Some(from.as_str()) {
                        self.selected_flag = Some(to.clone());
                    }
                    self.flag_view.say(&to, crate::views::renamed_message(&from, &to, references));
                }
                Applied::SegmentRenamed { from, to, references } => {
                    if self.segments.selected.as_deref() == Some(from.as_str()) {
                        self.segments.selected = Some(to.clone());
                    }
                    let text = crate::views::renamed_message(&from, &to, references);
                    self.segments.message = Some((to, text));
                }
                Applied::Done => {}
            }
        }
    }

    /// Select flag `key` (messages about other flags go away).
    pub fn select_flag(&mut self, key: Option<String>) {
        if self.flag_view.message.as_ref().is_some_and(|(about, _)| Some(about) != key.as_ref()) {
            self.flag_view.message = None;
        }
        self.selected_flag = key;
    }

    /// The window is being closed: returns whether to cancel the close
    /// (there are unsaved changes; the prompt is shown instead).
    pub fn on_close_requested(&mut self) -> bool {
        if self.allow_close || !self.is_dirty() {
            return false;
        }
        self.dialog = Some(Dialog::Unsaved(After::Quit));
        true
    }

    /// Check the file on disk now (the UI does it about once a second). A
    /// document without unsaved changes follows the disk (it is reloaded, as
    /// code editors do); one with changes gets the banner.
    pub fn check_disk(&mut self) {
        self.last_disk_check = Some(Instant::now());
        let Some(doc) = self.doc.as_mut() else { return };
        self.disk = doc.disk_state();
        if self.disk == DiskState::Changed && !doc.is_dirty() && !doc.is_read_only() && doc.path().is_some() {
            match doc.reload_from_disk() {
                Ok(()) => {
                    self.status = Some("Reloaded: someone saved the file, and you had no unsaved changes".into());
                    self.disk = DiskState::Unchanged;
                }
                Err(e) => self.status = Some(format!("Could not reload: {e}")),
            }
        }
        if let Some(dismissed) = &self.dismissed
            && !doc.still_on_disk(dismissed)
        {
            self.dismissed = None;
        }
    }

    /// Draw the whole editor into `ui` (the root of the window).
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.fonts_installed {
            // Fonts apply from the next frame on: this one stays empty.
            install_fonts(&ctx);
            self.fonts_installed = true;
            ctx.request_repaint();
            return;
        }
        if self.pending_reset {
            Pending::clear(&ctx);
            self.pending_reset = false;
        }
        if ctx.input(|i| i.viewport().close_requested()) && self.on_close_requested() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        if self.last_disk_check.is_none_or(|t| t.elapsed() >= self.disk_check_interval) {
            self.check_disk();
        }
        ctx.request_repaint_after(self.disk_check_interval);
        self.poll_native(&ctx);
        let title =
            self.doc.as_ref().map_or_else(|| "Burgee editor".to_owned(), |d| format!("{} — Burgee editor", d.title()));
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }

        if self.dialog.is_none() && self.native.is_none() {
            self.shortcuts(&ctx);
        }
        egui::Panel::top("menu-bar").show(ui, |ui| self.menu_bar_ui(ui));
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        if self.doc.is_some() && self.disk != DiskState::Unchanged && self.dismissed.is_none() {
            egui::Panel::top("disk-banner").show(ui, |ui| self.disk_banner_ui(ui));
        }
        egui::Panel::bottom("status-bar").show(ui, |ui| {
            ui.label(RichText::new(self.status.as_deref().unwrap_or("")).weak());
        });
        if self.show_problems {
            egui::Panel::bottom("problems").resizable(true).default_size(160.0).show(ui, |ui| self.problems_ui(ui));
        }
        self.pages_ui(ui);
        self.dialogs_ui(&ctx);
        if let Some(doc) = self.doc.as_mut() {
            let applied = Pending::commit_unfocused(&ctx, doc);
            self.follow(applied);
        }
        if self.quit_requested {
            self.quit_requested = false;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn pages_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = self.doc.as_mut() else {
            let mut after = None;
            egui::CentralPanel::default().show(ui, |ui| after = empty_ui(ui, &self.recent));
            match after {
                Some(EmptyChoice::New) => self.request(After::New),
                Some(EmptyChoice::Open) => self.begin_open(),
                Some(EmptyChoice::Recent(path)) => self.request(After::Open(path)),
                None => {}
            }
            return;
        };
        if doc.is_read_only() {
            egui::CentralPanel::default().show(ui, |ui| read_only_ui(ui, doc));
            return;
        }

        let mut selected = self.selected_flag.clone();
        egui::Panel::left("nav").resizable(true).default_size(260.0).size_range(200.0..=480.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.page, Page::Flags, "Flags");
                ui.selectable_value(&mut self.page, Page::Segments, "Segments");
                ui.selectable_value(&mut self.page, Page::Stages, "Stages");
            });
            ui.separator();
            match self.page {
                Page::Flags => flag_list_ui(ui, doc, &mut self.flag_list, &mut selected),
                Page::Segments => segment_list_ui(ui, doc, &mut self.segments, &mut self.preview),
                Page::Stages => {
                    ui.label("Release stages of this file.");
                }
            }
        });
        if selected != self.selected_flag {
            self.select_flag(selected);
        }

        let Some(doc) = self.doc.as_mut() else { return };
        let selected = self.selected_flag.clone().filter(|k| doc.model().is_some_and(|m| m.flags.contains_key(k)));
        let env = self
            .flag_view
            .environment
            .clone()
            .filter(|e| doc.model().is_some_and(|m| m.environments.contains(e)))
            .or_else(|| doc.model().and_then(|m| m.environments.first().cloned()))
            .unwrap_or_default();
        if self.page == Page::Flags
            && let Some(key) = &selected
        {
            egui::Panel::right("preview").resizable(true).default_size(400.0).size_range(300.0..=640.0).show(
                ui,
                |ui| {
                    egui::ScrollArea::vertical().id_salt("preview-scroll").show(ui, |ui| {
                        preview_ui(ui, doc, &mut self.preview, key, &env);
                    });
                },
            );
        }
        let sample = selected.as_ref().and_then(|key| sample_facts(&self.preview, key, &env));
        let mut action = FlagAction::None;
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("page-scroll").auto_shrink(false).show(ui, |ui| match self.page {
                Page::Flags => match &selected {
                    Some(key) => action = flag_ui(ui, doc, &mut self.flag_view, key, sample.as_ref()),
                    None => {
                        ui.heading("Select a flag");
                        ui.label("Pick a flag in the list on the left, or create one at the bottom of the list.");
                    }
                },
                Page::Segments => segment_ui(ui, doc, &mut self.segments, &mut self.preview),
                Page::Stages => stages_ui(ui, doc),
            });
        });
        match action {
            FlagAction::None => {}
            FlagAction::Select(k) => self.selected_flag = Some(k),
            FlagAction::Deleted => self.select_flag(None),
        }
    }

    /// The keyboard shortcuts of the menus (see [`shortcuts`]). Undo and
    /// redo go to the text field being typed in, when there is one.
    fn shortcuts(&mut self, ctx: &egui::Context) {
        let pressed = |s: &KeyboardShortcut| ctx.input_mut(|i| i.consume_shortcut(s));
        if pressed(&shortcuts::SAVE_AS) {
            self.begin_save_as(After::Stay);
        } else if pressed(&shortcuts::SAVE) {
            self.begin_save(ctx, After::Stay);
        }
        if pressed(&shortcuts::NEW) {
            self.request(After::New);
        }
        if pressed(&shortcuts::OPEN) {
            self.begin_open();
        }
        if pressed(&shortcuts::CLOSE) && self.doc.is_some() {
            self.request(After::Close);
        }
        if pressed(&shortcuts::QUIT) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if pressed(&shortcuts::FIND) && self.doc.is_some() {
            self.page = Page::Flags;
            ctx.memory_mut(|m| m.request_focus(egui::Id::unique(SEARCH_ID)));
        }
        if ctx.memory(|m| m.focused().is_some()) {
            return;
        }
        let Some(doc) = self.doc.as_mut() else { return };
        if pressed(&shortcuts::REDO_SHIFT) || pressed(&shortcuts::REDO) {
            doc.redo();
        } else if pressed(&shortcuts::UNDO) {
            doc.undo();
        }
    }

    fn menu_bar_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let item = |ui: &mut egui::Ui, text: &str, shortcut: Option<&KeyboardShortcut>, enabled: bool| {
            let mut button = egui::Button::new(text);
            if let Some(s) = shortcut {
                button = button.shortcut_text(ctx.format_shortcut(s));
            }
            ui.add_enabled(enabled, button).clicked()
        };
        let has_doc = self.doc.is_some();
        let editable = self.doc.as_ref().is_some_and(|d| !d.is_read_only());
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if item(ui, "New", Some(&shortcuts::NEW), true) {
                    self.request(After::New);
                }
                if item(ui, "Open…", Some(&shortcuts::OPEN), true) {
                    self.begin_open();
                }
                ui.menu_button("Open Recent", |ui| {
                    if self.recent.is_empty() {
                        ui.label(RichText::new("(no recent files)").weak());
                    }
                    let mut chosen = None;
                    for path in &self.recent {
                        let exists = path.exists();
                        let r = ui.add_enabled(exists, egui::Button::new(path.display().to_string()));
                        let r = if exists { r } else { r.on_disabled_hover_text("The file is not there any more") };
                        if r.clicked() {
                            chosen = Some(path.clone());
                        }
                    }
                    if let Some(path) = chosen {
                        self.request(After::Open(path));
                    }
                    ui.separator();
                    if item(ui, "Clear the list", None, !self.recent.is_empty()) {
                        self.recent.clear();
                    }
                });
                ui.separator();
                if item(ui, "Save", Some(&shortcuts::SAVE), self.save_blocker().is_none()) {
                    self.begin_save(&ctx, After::Stay);
                }
                if item(ui, "Save As…", Some(&shortcuts::SAVE_AS), editable) {
                    self.begin_save_as(After::Stay);
                }
                if item(ui, "Reload from disk", None, has_doc && self.doc.as_ref().and_then(Document::path).is_some()) {
                    self.ask_reload();
                }
                ui.separator();
                if item(ui, "Close", Some(&shortcuts::CLOSE), has_doc) {
                    self.request(After::Close);
                }
                if item(ui, "Quit", Some(&shortcuts::QUIT), true) {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Edit", |ui| {
                let (undo, redo) = match &self.doc {
                    Some(d) => (d.undo_label().map(str::to_owned), d.redo_label().map(str::to_owned)),
                    None => (None, None),
                };
                let undo_text = undo.as_ref().map_or_else(|| "Undo".to_owned(), |l| format!("Undo {l}"));
                if item(ui, &undo_text, Some(&shortcuts::UNDO), undo.is_some())
                    && let Some(d) = self.doc.as_mut()
                {
                    d.undo();
                }
                let redo_text = redo.as_ref().map_or_else(|| "Redo".to_owned(), |l| format!("Redo {l}"));
                if item(ui, &redo_text, Some(&shortcuts::REDO), redo.is_some())
                    && let Some(d) = self.doc.as_mut()
                {
                    d.redo();
                }
                ui.separator();
                if item(ui, "Find flag", Some(&shortcuts::FIND), editable) {
                    self.page = Page::Flags;
                    ctx.memory_mut(|m| m.request_focus(egui::Id::unique(SEARCH_ID)));
                }
            });
            ui.menu_button("View", |ui| {
                for (page, name) in [(Page::Flags, "Flags"), (Page::Segments, "Segments"), (Page::Stages, "Stages")] {
                    if ui.add_enabled(editable, egui::Button::selectable(self.page == page, name)).clicked() {
                        self.page = page;
                    }
                }
                ui.separator();
                if ui.add_enabled(has_doc, egui::Button::selectable(self.show_problems, "Problems")).clicked() {
                    self.show_problems = !self.show_problems;
                }
            });
        });
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        ui.horizontal(|ui| {
            let blocker = self.save_blocker();
            let save = ui.add_enabled(blocker.is_none(), egui::Button::new("Save"));
            let save = match &blocker {
                Some(why) => save.on_disabled_hover_text(format!("Cannot save: {why}")),
                None => save.on_hover_text("Review the changes, then save (Ctrl+S)"),
            };
            if save.clicked() {
                self.begin_save(&ctx, After::Stay);
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
                let hover = if self.show_problems { "Hide the list of problems" } else { "Show every problem" };
                if ui.button(RichText::new(text).color(color).strong()).on_hover_text(hover).clicked() {
                    self.show_problems = !self.show_problems;
                }
                if doc.is_dirty() {
                    ui.label(RichText::new("unsaved changes").color(ui.visuals().warn_fg_color));
                }
                // Why Save is off, in the same row (nothing below moves).
                if (errors > 0 || !doc.unfinished_rules().is_empty())
                    && let Some(blocker) = &blocker
                {
                    ui.colored_label(ui.visuals().error_fg_color, format!("Save is disabled: {blocker}."));
                }
                let where_ =
                    doc.path().map_or_else(|| "untitled (not saved yet)".to_owned(), |p| p.display().to_string());
                self.pending_ui(ui);
                ui.separator();
                ui.label(RichText::new(where_).weak()).on_hover_text("The file open in the editor");
            }
        });
    }

    /// Typed values not applied yet: a count, and a list to go to or discard them.
    fn pending_ui(&mut self, ui: &mut egui::Ui) {
        let pending = Pending::get(ui.ctx());
        if pending.is_empty() {
            return;
        }
        let text = format!("{} not applied", plural(pending.len(), "typed value"));
        let color = ui.visuals().warn_fg_color;
        ui.menu_button(RichText::new(text).color(color), |ui| {
            for entry in pending.entries() {
                ui.horizontal(|ui| {
                    let why = entry.error.as_deref().unwrap_or("press Enter in the field to apply it");
                    ui.label(format!("{}: \"{}\" — {why}", entry.what, entry.text));
                    if ui.small_button("Go there").clicked() {
                        self.navigate(ui.ctx(), &entry.pointer);
                    }
                    if ui.small_button("Discard").clicked() {
                        Pending::discard(ui.ctx(), entry.id);
                    }
                });
            }
        });
    }

    fn ask_reload(&mut self) {
        if self.is_dirty() {
            self.dialog = Some(Dialog::ConfirmReload);
        } else {
            self.reload();
        }
    }

    fn reload(&mut self) {
        if let Some(doc) = self.doc.as_mut() {
            match doc.reload_from_disk() {
                Ok(()) => self.status = Some("Reloaded the file from disk (Undo brings your version back)".into()),
                Err(e) => self.status = Some(format!("Could not reload: {e}")),
            }
        }
        self.dismissed = None;
        self.check_disk();
    }

    fn disk_banner_ui(&mut self, ui: &mut egui::Ui) {
        let message = match self.disk {
            DiskState::Changed => {
                "The file changed on disk since you opened it (another person, a git pull). Your unsaved changes are kept."
            }
            DiskState::Missing => "The file was removed from disk since you opened it. Your version is still here.",
            DiskState::Unchanged => return,
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(message).color(ui.visuals().warn_fg_color).strong());
            if self.disk == DiskState::Changed {
                if ui.button("Merge into my edits…").on_hover_text("See both versions and keep both").clicked()
                    && let Some(doc) = &self.doc
                {
                    match doc.read_disk() {
                        Ok(disk) => {
                            self.dialog = Some(Dialog::Disk { review: DiskReview::new(doc, disk), after: None })
                        }
                        Err(e) => self.status = Some(format!("Could not read the file: {e}")),
                    }
                }
                if ui
                    .button("Reload (discard mine)…")
                    .on_hover_text("Take the disk's version; undo brings yours back")
                    .clicked()
                {
                    self.ask_reload();
                }
            } else if ui.button("Save it again…").clicked() {
                let ctx = ui.ctx().clone();
                self.begin_save(&ctx, After::Stay);
            }
            let keep = ui.button("Keep editing").on_hover_text(
                "Hide this until the file changes again; saving will still show you their version first",
            );
            if keep.clicked()
                && let Some(doc) = &self.doc
            {
                self.dismissed = doc.read_disk().ok();
            }
        });
    }

    /// Show the place of JSON pointer `pointer`: its page, flag or segment,
    /// environment tab, and scroll to its diagnostic.
    pub fn navigate(&mut self, ctx: &egui::Context, pointer: &str) {
        let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
        let parts: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
        match parts.first().map(String::as_str) {
            Some("flags") if parts.len() > 1 => {
                self.page = Page::Flags;
                self.select_flag(Some(parts[1].clone()));
                if parts.get(2).map(String::as_str) == Some("environments")
                    && let Some(env) = parts.get(3)
                {
                    self.flag_view.environment = Some(env.clone());
                }
            }
            Some("segments") if parts.len() > 1 => {
                self.page = Page::Segments;
                self.segments.selected = Some(parts[1].clone());
            }
            Some("stages") => self.page = Page::Stages,
            _ => {}
        }
        crate::views::go_to(ctx, pointer);
    }

    fn problems_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = &self.doc else { return };
        let diagnostics = doc.diagnostics().to_vec();
        let mut clicked = None;
        egui::ScrollArea::vertical().id_salt("problems-scroll").show(ui, |ui| {
            if diagnostics.is_empty() {
                ui.label("No problems.");
            }
            for d in &diagnostics {
                if crate::views::diagnostic_row(ui, d, true) {
                    clicked = Some(d.pointer.clone());
                }
            }
        });
        if let Some(pointer) = clicked {
            let ctx = ui.ctx().clone();
            self.navigate(&ctx, &pointer);
        }
    }

    fn dialogs_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.dialog.take() else {
            if self.native.is_some() {
                egui::Modal::new(egui::Id::unique("native-dialog")).show(ctx, |ui| {
                    ui.label("Choose a file in the file dialog…");
                });
            }
            return;
        };
        self.dialog = match dialog {
            Dialog::Unsaved(after) => self.unsaved_ui(ctx, after),
            Dialog::Review { mut review, after } => {
                let Some(doc) = self.doc.as_ref() else { return };
                let confirm = if after == After::Quit { "Save and quit" } else { "Save these changes" };
                match review_ui(ctx, doc, &mut review, confirm) {
                    Choice::Open | Choice::Overwrite => Some(Dialog::Review { review, after }),
                    Choice::Cancel => None,
                    Choice::Confirm => self.save_now(after),
                }
            }
            Dialog::Disk { mut review, after } => {
                let Some(doc) = self.doc.as_ref() else { return };
                match disk_ui(ctx, doc, &mut review, after.is_some()) {
                    Choice::Open => Some(Dialog::Disk { review, after }),
                    Choice::Cancel => None,
                    Choice::Confirm => self.merge_now(ctx, review, after),
                    Choice::Overwrite => self.overwrite_now(ctx, review, after),
                }
            }
            Dialog::ConfirmReload => {
                let question = "Reload the file from disk and discard your unsaved changes?";
                let detail = "Undo (Ctrl+Z) brings your version back.";
                match confirm_ui(ctx, "confirm-reload", question, detail, "Reload", "Keep editing") {
                    Some(true) => {
                        self.reload();
                        None
                    }
                    Some(false) => None,
                    None => Some(Dialog::ConfirmReload),
                }
            }
            Dialog::OpenPath { mut input } => match path_ui(ctx, "Open a flags file", &mut input, "Open", None) {
                Some(true) => {
                    let path = PathBuf::from(input.trim());
                    self.request(After::Open(path));
                    self.dialog.take()
                }
                Some(false) => None,
                None => Some(Dialog::OpenPath { input }),
            },
            Dialog::SaveAsPath { mut input, after, replace } => {
                let path = PathBuf::from(input.trim());
                let warning = replace.then(|| format!("{} exists. Replace it with this file?", path.display()));
                match path_ui(ctx, "Save as", &mut input, if replace { "Replace" } else { "Save" }, warning.as_deref())
                {
                    Some(true) if !replace && PathBuf::from(input.trim()).exists() => {
                        Some(Dialog::SaveAsPath { input, after, replace: true })
                    }
                    Some(true) => {
                        self.save_to(PathBuf::from(input.trim()), after);
                        self.dialog.take()
                    }
                    Some(false) => None,
                    None => {
                        // Editing the path again takes the question back.
                        let same = path.as_path() == Path::new(input.trim());
                        Some(Dialog::SaveAsPath { input, after, replace: replace && same })
                    }
                }
            }
        };
    }

    fn unsaved_ui(&mut self, ctx: &egui::Context, after: After) -> Option<Dialog> {
        let name = self.doc.as_ref().map(|d| d.title().trim_start_matches('*').to_owned()).unwrap_or_default();
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("unsaved")).show(ctx, |ui| {
            ui.set_max_width(480.0);
            ui.heading(format!("Save the changes to {name}?"));
            ui.label("Your changes are lost if you don't save them.");
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.button("Save…").on_hover_text("Review the changes, then save").clicked() {
                    answer = Some("save");
                }
                if ui.button("Don't save").clicked() {
                    answer = Some("discard");
                }
                if ui.button("Cancel").clicked() {
                    answer = Some("cancel");
                }
            });
            ui.label(RichText::new("Enter saves, Esc cancels").weak().small());
        });
        if answer.is_none() && ctx.input(|i| i.key_pressed(egui::Key::Enter)) {
            answer = Some("save");
        }
        if answer.is_none() && modal.should_close() {
            answer = Some("cancel");
        }
        match answer {
            Some("save") => {
                self.begin_save(ctx, after);
                self.dialog.take()
            }
            Some("discard") => {
                self.carry_out(after);
                self.dialog.take()
            }
            Some(_) => None,
            None => Some(Dialog::Unsaved(after)),
        }
    }

    /// Save after the review; when the disk moved meanwhile, show it instead.
    fn save_now(&mut self, after: After) -> Option<Dialog> {
        let doc = self.doc.as_mut()?;
        match doc.save() {
            Ok(()) => {
                let path = doc.path().map(Path::to_path_buf);
                self.status =
                    Some(format!("Saved {}", path.as_deref().map(|p| p.display().to_string()).unwrap_or_default()));
                self.disk = DiskState::Unchanged;
                if let Some(path) = path {
                    self.remember(&path);
                }
                self.carry_out(after);
                self.dialog.take()
            }
            Err(SaveError::ChangedOnDisk | SaveError::MissingOnDisk) => match doc.read_disk() {
                Ok(disk) => Some(Dialog::Disk { review: DiskReview::new(doc, disk), after: Some(after) }),
                Err(e) => {
                    self.status = Some(format!("Not saved: {e}"));
                    None
                }
            },
            Err(e) => {
                self.status = Some(format!("Not saved: {e}"));
                None
            }
        }
    }

    fn merge_now(&mut self, ctx: &egui::Context, review: DiskReview, after: Option<After>) -> Option<Dialog> {
        let doc = self.doc.as_mut()?;
        let picks = review.picks.clone();
        match doc.merge_disk(&review.disk, |s| picks.get(s).copied()) {
            Ok(()) => {
                self.disk = DiskState::Unchanged;
                self.dismissed = None;
                let kept = plural(review.theirs.len(), "change");
                self.status = Some(format!("Merged: their {kept} and yours are both in (Undo takes the merge back)"));
                match after {
                    Some(after) => {
                        self.begin_save(ctx, after);
                        self.dialog.take()
                    }
                    None => None,
                }
            }
            Err(e) => {
                self.status = Some(format!("Not merged: {e}"));
                Some(Dialog::Disk { review, after })
            }
        }
    }

    fn overwrite_now(&mut self, ctx: &egui::Context, review: DiskReview, after: Option<After>) -> Option<Dialog> {
        let doc = self.doc.as_mut()?;
        match doc.save_over(&review.disk) {
            Ok(()) => {
                self.status = Some("Saved your version over the file on disk".into());
                self.disk = DiskState::Unchanged;
                self.dismissed = None;
                self.carry_out(after.unwrap_or(After::Stay));
                self.dialog.take()
            }
            Err(SaveError::ChangedOnDisk) => {
                // It changed again while the person was looking: show the new version.
                self.status = Some("The file changed on disk again: here is the newest version".into());
                let _ = ctx;
                doc.read_disk().ok().map(|disk| Dialog::Disk { review: DiskReview::new(doc, disk), after })
            }
            Err(e) => {
                self.status = Some(format!("Not saved: {e}"));
                None
            }
        }
    }
}

impl eframe::App for BurgeeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        BurgeeApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let text: Vec<String> = self.recent.iter().map(|p| p.display().to_string()).collect();
        storage.set_string(RECENT_KEY, text.join("\n"));
    }
}

/// The editor's fonts: egui's own, with its monospace font (Hack) as a
/// fallback for proportional text too, so arrows (→) and other symbols in
/// change summaries show instead of empty boxes.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    let hack = fonts.families.get(&egui::FontFamily::Monospace).and_then(|f| f.first()).cloned();
    if let (Some(hack), Some(proportional)) = (hack, fonts.families.get_mut(&egui::FontFamily::Proportional)) {
        proportional.push(hack);
    }
    ctx.set_fonts(fonts);
}

/// What the facts of the newest preview say about `flag` in `env`, when
/// the preview is about them and up to date.
fn sample_facts(preview: &PreviewPanel, flag: &str, env: &str) -> Option<SampleFacts> {
    let result = preview.result()?;
    if preview.is_pending() || result.distribution.flag != flag || result.distribution.environment != env {
        return None;
    }
    Some(SampleFacts {
        flag: flag.to_owned(),
        environment: env.to_owned(),
        total: result.distribution.total,
        reach: result.reach.clone(),
        default_decides: result.distribution.decided_by(&Decider::Default),
    })
}

/// What the empty window offers.
enum EmptyChoice {
    New,
    Open,
    Recent(PathBuf),
}

/// The window with no file open: New, Open…, and the recent files.
fn empty_ui(ui: &mut egui::Ui, recent: &[PathBuf]) -> Option<EmptyChoice> {
    let mut choice = None;
    ui.heading("No flags file open");
    ui.label("Open a flags file (File ▸ Open…, Ctrl+O), or start a new one (File ▸ New, Ctrl+N).");
    ui.horizontal(|ui| {
        if ui.button("New file").clicked() {
            choice = Some(EmptyChoice::New);
        }
        if ui.button("Open a file…").clicked() {
            choice = Some(EmptyChoice::Open);
        }
    });
    if !recent.is_empty() {
        ui.add_space(8.0);
        ui.label(RichText::new("Recent files").strong());
        for path in recent {
            if ui.add_enabled(path.exists(), egui::Button::new(path.display().to_string())).clicked() {
                choice = Some(EmptyChoice::Recent(path.clone()));
            }
        }
    }
    choice
}

/// A yes/no modal: `Some(true)` for the first button or Enter, `Some(false)`
/// for the second or Esc.
fn confirm_ui(ctx: &egui::Context, id: &str, question: &str, detail: &str, yes: &str, no: &str) -> Option<bool> {
    let mut answer = None;
    let modal = egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.set_max_width(480.0);
        ui.heading(question);
        ui.label(detail);
        ui.horizontal(|ui| {
            if ui.button(yes).clicked() {
                answer = Some(true);
            }
            if ui.button(no).clicked() {
                answer = Some(false);
            }
        });
        ui.label(RichText::new(format!("Enter: {yes}. Esc: {no}.")).weak().small());
    });
    if answer.is_none() && ctx.input(|i| i.key_pressed(egui::Key::Enter)) {
        answer = Some(true);
    }
    if answer.is_none() && modal.should_close() {
        answer = Some(false);
    }
    answer
}

/// The in-app path dialog: a path field (Enter confirms, Esc cancels).
fn path_ui(ctx: &egui::Context, title: &str, input: &mut String, confirm: &str, warning: Option<&str>) -> Option<bool> {
    let mut answer = None;
    let field = egui::Id::unique(("path-dialog", title));
    let modal = egui::Modal::new(egui::Id::unique(title)).show(ctx, |ui| {
        ui.set_min_width(520.0);
        ui.heading(title);
        let l = ui.label("Path");
        let r = ui.add(egui::TextEdit::singleline(input).id(field).desired_width(500.0)).labelled_by(l.id);
        if !r.has_focus() && !ctx.memory(|m| m.focused().is_some()) {
            r.request_focus();
        }
        if let Some(w) = warning {
            ui.label(RichText::new(w).color(ui.visuals().warn_fg_color));
        }
        ui.horizontal(|ui| {
            if ui.add_enabled(!input.trim().is_empty(), egui::Button::new(confirm)).clicked() {
                answer = Some(true);
            }
            if ui.button("Cancel").clicked() {
                answer = Some(false);
            }
        });
        ui.label(RichText::new(format!("Enter: {confirm}. Esc: cancel.")).weak().small());
    });
    if answer.is_none() && ctx.input(|i| i.key_pressed(egui::Key::Enter)) && !input.trim().is_empty() {
        answer = Some(true);
    }
    if answer.is_none() && modal.should_close() {
        answer = Some(false);
    }
    answer
}

/// The read-only view of a file that is not a valid flags file: why, every error.
fn read_only_ui(ui: &mut egui::Ui, doc: &Document) {
    ui.heading("This file cannot be edited");
    ui.label(
        "It is not a valid flags file, so it is open read-only. Fix it in a text editor (or `git checkout` it); \
         the editor reloads it when it changes on disk. The sidecar would refuse it for these reasons:",
    );
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("load-errors")
        .show(ui, |ui| crate::views::diagnostics_list(ui, doc.load_errors()));
}
