//! The editor driven through its UI by label with egui_kittest (no display,
//! no GPU), as a person would: menus and shortcuts, the save review, changes
//! on disk while editing (three in a row, a merge, a conflict), what is typed
//! being what is saved (regexes with commas and backslashes, exact weights),
//! unfinished rules, warnings from the sample, dialogs answered with Esc and
//! Enter, and issue 4's "five minutes" flow.
// Tests unwrap: a panic is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use burgee_editor::app::{BurgeeApp, FileDialogs, RECENT_KEY};
use burgee_editor::preview::chart::{decider_label, move_label, variant_label};
use burgee_editor::preview::{Decider, Distribution};
use burgee_rules::model::{Condition, FlagFile, Op, Serve};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

/// A temp dir holding a copy of `examples/flags.json`.
fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flags.json"), &path).unwrap();
    (dir, path)
}

/// No timer-driven disk checks while a test runs frames (they would keep
/// the harness repainting); [`poll_disk`] runs one.
const NO_POLLING: Duration = Duration::from_secs(3600);

fn harness(mut app: BurgeeApp) -> Harness<'static, BurgeeApp> {
    app.disk_check_interval = NO_POLLING;
    app.file_dialogs = FileDialogs::InApp;
    let mut h = Harness::builder()
        .with_size([1700.0, 3000.0])
        .with_max_steps(64)
        .build_ui_state(|ui, app: &mut BurgeeApp| app.ui(ui), app);
    h.run();
    h
}

/// Let the UI's once-a-second disk check run now.
fn poll_disk(h: &mut Harness<'_, BurgeeApp>) {
    h.state_mut().disk_check_interval = Duration::ZERO;
    h.run_steps(2);
    h.state_mut().disk_check_interval = NO_POLLING;
    h.run();
}

fn model(h: &Harness<'_, BurgeeApp>) -> FlagFile {
    h.state().doc.as_ref().unwrap().model().unwrap().clone()
}

/// Someone else edits the file on disk (canonical text, written in place).
fn edit_on_disk(path: &Path, f: impl FnOnce(&mut FlagFile)) {
    let mut file = burgee_rules::read(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut file);
    std::fs::write(path, burgee_rules::serialize::to_string(&file)).unwrap();
}

fn describe(file: &mut FlagFile, flag: &str, text: &str) {
    Arc::make_mut(&mut file.flags[flag]).description = Some(text.to_owned());
}

fn on_disk(path: &Path) -> FlagFile {
    burgee_rules::load(&std::fs::read_to_string(path).unwrap()).unwrap().file
}

/// Open `path` and select `flag` and `env` by clicking.
fn open_flag(path: &Path, flag: &str, env: &str) -> Harness<'static, BurgeeApp> {
    let mut h = harness(BurgeeApp::new(Some(path.to_path_buf())));
    h.get_by_label(flag).click_accesskit();
    h.run();
    h.get_by_label(&format!("Environment {env}")).click_accesskit();
    h.run();
    h
}

/// Step until the preview has the newest result, and return it.
fn settled_preview(h: &mut Harness<'_, BurgeeApp>) -> Distribution {
    h.run();
    for _ in 0..200 {
        if !h.state().preview.is_pending() && h.state().preview.result().is_some() {
            break;
        }
        h.state_mut().preview.wait(Duration::from_millis(50));
        h.run();
    }
    h.run();
    assert!(!h.state().preview.is_pending(), "the preview did not finish");
    h.state().preview.result().unwrap().distribution.clone()
}

/// Step the UI until a node named `label` is there, for at most 10 s: with
/// the whole suite running on two cores, the preview's work in the
/// background can hold a field that was just added back for a few frames.
/// The caller's `get_by_label` still fails when it never comes.
fn until_there(h: &mut Harness<'_, BurgeeApp>, label: &str) {
    for _ in 0..200 {
        if h.query_by_label(label).is_some() {
            return;
        }
        h.state_mut().preview.wait(Duration::from_millis(50));
        h.run();
    }
}

/// Type `text` into the field named `label` (focused first), then press Enter.
fn type_and_enter(h: &mut Harness<'_, BurgeeApp>, label: &str, text: &str) {
    until_there(h, label);
    h.get_by_label(label).focus();
    h.run();
    h.get_by_label(label).type_text(text);
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
}

/// Replace the text of the field named `label` with `text` (select all, type), no Enter.
fn retype(h: &mut Harness<'_, BurgeeApp>, label: &str, text: &str) {
    until_there(h, label);
    h.get_by_label(label).focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label(label).type_text(text);
    h.run();
}

/// The menu item `text` (its accessible label ends with the shortcut, as in "Open… Ctrl+O").
fn menu_item<'h>(h: &'h Harness<'_, BurgeeApp>, text: &str) -> egui_kittest::Node<'h> {
    h.get_all_by_role(Role::Button)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == text || l.starts_with(&format!("{text} "))))
        .unwrap_or_else(|| panic!("no menu item {text}"))
}

/// Wait for the save review's counts of moved users.
fn settled_review(h: &mut Harness<'_, BurgeeApp>) {
    for _ in 0..200 {
        h.run();
        if h.query_by_label("Counting the sample users who move…").is_none() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the save review did not finish counting");
}

fn save_through_review(h: &mut Harness<'_, BurgeeApp>) {
    h.get_by_label("Save").click_accesskit();
    h.run();
    settled_review(h);
    h.get_by_label("Save these changes").click_accesskit();
    h.run();
    let status = h.state().status.clone().unwrap_or_default();
    assert!(status.starts_with("Saved"), "{status}");
    assert!(!h.state().is_dirty());
}

#[test]
fn open_a_file_from_the_file_menu() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::default());
    h.get_by_label("No flags file open");
    h.get_by_label("File").click();
    h.run();
    menu_item(&h, "Open…").click();
    h.run();
    retype(&mut h, "Path", path.to_str().unwrap());
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(h.state().doc.as_ref().unwrap().path(), Some(path.as_path()));
    h.get_by_label("new-checkout");
    h.get_by_label("0 errors · 0 warnings");
    h.get_by_label(path.to_str().unwrap());
}

#[test]
fn shortcuts_new_open_and_escape_in_the_open_dialog() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path.clone())));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.run();
    h.get_by_label("Open a flags file");
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("Open a flags file").is_none(), "Esc closes the dialog");
    assert_eq!(h.state().doc.as_ref().unwrap().path(), Some(path.as_path()));

    // New: a valid file from the template, untitled; saving asks where.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    h.run();
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.path().is_none() && doc.error_count() == 0);
    assert_eq!(doc.model().unwrap().environments, ["development", "staging", "production"]);
    h.get_by_label("New flag key").focus();
    h.run();
    h.get_by_label("New flag key").type_text("first-flag");
    h.run();
    h.get_by_label("Create flag").click_accesskit();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run();
    let target = path.with_file_name("new.json");
    retype(&mut h, "Path", target.to_str().unwrap());
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(on_disk(&target).flags.contains_key("first-flag"));
    assert_eq!(h.state().doc.as_ref().unwrap().path(), Some(target.as_path()));
    assert!(h.state().recent.first().is_some_and(|p| p.ends_with("new.json")), "{:?}", h.state().recent);
}

#[test]
fn save_as_over_an_existing_file_asks_to_replace_it() {
    let (dir, path) = example_copy();
    let other = dir.path().join("other.json");
    std::fs::write(&other, "theirs").unwrap();
    let mut h = harness(BurgeeApp::new(Some(path)));
    h.key_press_modifiers(egui::Modifiers::COMMAND.plus(egui::Modifiers::SHIFT), egui::Key::S);
    h.run();
    retype(&mut h, "Path", other.to_str().unwrap());
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label_contains("exists. Replace it");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "theirs", "not replaced before the answer");
    h.get_by_label("Replace").click_accesskit();
    h.run();
    assert!(on_disk(&other).flags.contains_key("new-checkout"));
}

#[test]
fn recent_files_are_remembered_between_runs() {
    let (dir, path) = example_copy();
    let second = dir.path().join("second.json");
    std::fs::copy(&path, &second).unwrap();
    let mut app = BurgeeApp::new(Some(path.clone()));
    app.open(&second);
    let mut storage = MemoryStorage::default();
    eframe::App::save(&mut app, &mut storage);

    // The next run, opened on nothing, lists both, newest first.
    let mut next = BurgeeApp::new(None);
    next.restore(&storage);
    let names: Vec<String> =
        next.recent.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["second.json", "flags.json"]);
    // A run opened on a file lists it first, then the remembered ones.
    let mut third = BurgeeApp::new(Some(path.clone()));
    third.restore(&storage);
    let names: Vec<String> =
        third.recent.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["flags.json", "second.json"]);
    let mut h = harness(next);
    h.get_by_label("File").click();
    h.run();
    h.get_by_label_contains("Open Recent").hover();
    h.run();
    let recent = std::fs::canonicalize(&path).unwrap();
    // The menu's entry (the empty window lists the recent files too, further down).
    h.get_all_by_label(recent.to_str().unwrap()).next().unwrap().click();
    h.run();
    assert!(h.state().doc.as_ref().unwrap().path().is_some_and(|p| p.ends_with("flags.json")));
}

/// An in-memory `eframe::Storage`, as eframe's file storage behaves.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        assert_eq!(key, RECENT_KEY);
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn the_window_title_shows_the_file_and_an_unsaved_mark() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    assert_eq!(h.state().doc.as_ref().unwrap().title(), "flags.json");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    assert_eq!(h.state().doc.as_ref().unwrap().title(), "*flags.json");
    // Undo and redo by shortcut (no text field has the keyboard).
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert!(!h.state().is_dirty());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Y);
    h.run();
    assert!(h.state().is_dirty());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND.plus(egui::Modifiers::SHIFT), egui::Key::Z);
    h.run();
    assert!(h.state().is_dirty());
}

#[test]
fn ctrl_f_focuses_the_flag_search() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path)));
    h.get_by_label("Segments").click_accesskit();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run();
    assert!(h.get_by_label("Search flags").is_focused());
    h.get_by_label("Search flags").type_text("one-page");
    h.run();
    h.get_by_label("1 of 14 flags");
}

#[test]
fn toggling_an_environment_is_saved_and_found_after_reopening() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    assert!(!model(&h).flags["new-checkout"].environments["production"].enabled);
    save_through_review(&mut h);
    assert!(!on_disk(&path).flags["new-checkout"].environments["production"].enabled);
    let h = open_flag(&path, "new-checkout", "production");
    assert!(!model(&h).flags["new-checkout"].environments["production"].enabled);
}

#[test]
fn the_save_review_lists_changes_by_meaning_with_users_moved_and_the_text_one_click_away() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    retype(&mut h, "Default rollout on weight", "20");
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label("Save").click_accesskit();
    h.run();
    settled_review(&mut h);
    h.get_by_label("new-checkout / production");
    h.get_by_label("  • default rollout on 10 % → 20 %, off 90 % → 80 %");
    let review_moves = h.state().preview.population.len();
    assert!(review_moves > 0);
    // In the review (and in the preview panel beside it).
    assert_eq!(h.query_all_by_label_contains("users change variant").count(), 2);
    assert!(h.query_by_label("1 line(s) added, 1 removed").is_none(), "the text diff waits behind a click");
    h.get_by_label("Show the text diff").click_accesskit();
    h.run();
    h.get_by_label("2 line(s) added, 2 removed");
    // Esc cancels: nothing saved, still dirty.
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("Save these changes").is_none());
    assert!(h.state().is_dirty());
    // Enter confirms.
    h.get_by_label("Save").click_accesskit();
    h.run();
    settled_review(&mut h);
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(!h.state().is_dirty());
    let Serve::Rollout(r) = &on_disk(&path).flags["new-checkout"].environments["production"].default else { panic!() };
    assert_eq!(r.entries[0].weight.to_string(), "20");
}

#[test]
fn the_change_against_the_saved_file_updates_the_moment_a_save_lands() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    retype(&mut h, "Default rollout on weight", "50");
    h.key_press(egui::Key::Enter);
    h.run();
    settled_preview(&mut h);
    assert!(h.state().preview.result().unwrap().impact.changed > 0);
    save_through_review(&mut h);
    settled_preview(&mut h);
    assert_eq!(h.state().preview.result().unwrap().impact.changed, 0, "against the file just saved");
}

#[test]
fn three_disk_edits_with_keep_editing_never_overwrite_an_unseen_change() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    edit_on_disk(&path, |f| describe(f, "dark-mode", "First change on disk"));
    poll_disk(&mut h);
    h.get_by_label_contains("The file changed on disk");
    h.get_by_label("Keep editing").click_accesskit();
    h.run();
    assert!(h.query_by_label_contains("The file changed on disk").is_none());
    edit_on_disk(&path, |f| describe(f, "api-rate-limit", "Second change on disk"));
    poll_disk(&mut h);
    h.get_by_label_contains("The file changed on disk");
    h.get_by_label("Keep editing").click_accesskit();
    h.run();
    edit_on_disk(&path, |f| describe(f, "search-config", "Third change on disk"));

    // Save compares with the disk as it is now: all three changes are shown.
    h.get_by_label("Save").click_accesskit();
    h.run();
    h.get_by_label("flags.json changed on disk");
    for flag in ["dark-mode", "api-rate-limit", "search-config"] {
        assert!(h.query_all_by_label(&format!("flag `{flag}`")).count() >= 1, "their change to {flag} is shown");
    }
    // Saving mine over theirs shows exactly what it throws away, and asks.
    h.get_by_label("Save my version over theirs…").click_accesskit();
    h.run();
    h.get_by_label("Save your version over flags.json?");
    assert_eq!(h.query_all_by_label("also changed on disk: saving this undoes their change").count(), 3);
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("Save your version over flags.json?").is_none(), "Esc goes back");
    assert_eq!(on_disk(&path).flags["search-config"].description.as_deref(), Some("Third change on disk"));

    // Merge keeps all of theirs and mine; then the usual review and save.
    h.get_by_label("Merge, then review the save").click_accesskit();
    h.run();
    settled_review(&mut h);
    h.get_by_label("Save these changes").click_accesskit();
    h.run();
    let saved = on_disk(&path);
    assert!(!saved.flags["new-checkout"].environments["production"].enabled, "mine");
    assert_eq!(saved.flags["dark-mode"].description.as_deref(), Some("First change on disk"));
    assert_eq!(saved.flags["api-rate-limit"].description.as_deref(), Some("Second change on disk"));
    assert_eq!(saved.flags["search-config"].description.as_deref(), Some("Third change on disk"));
}

#[test]
fn a_non_conflicting_disk_edit_and_an_unsaved_edit_both_survive_a_save() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    // They edit another environment of the same flag, and another flag.
    edit_on_disk(&path, |f| {
        Arc::make_mut(&mut f.flags["new-checkout"]).environments.get_mut("staging").unwrap().enabled = false;
        describe(f, "dark-mode", "Theirs");
    });
    h.get_by_label("Save").click_accesskit();
    h.run();
    h.get_by_label("flags.json changed on disk");
    assert!(h.query_by_label_contains("Both of you changed").is_none(), "no conflict");
    h.key_press(egui::Key::Enter);
    h.run();
    settled_review(&mut h);
    h.key_press(egui::Key::Enter);
    h.run();
    let saved = on_disk(&path);
    assert!(!saved.flags["new-checkout"].environments["production"].enabled);
    assert!(!saved.flags["new-checkout"].environments["staging"].enabled);
    assert_eq!(saved.flags["dark-mode"].description.as_deref(), Some("Theirs"));
    // Undo takes the merge back: their edits show as what saving would undo.
    assert!(!h.state().is_dirty());
    h.get_by_label("Undo").click_accesskit();
    h.run();
    assert_eq!(h.state().doc.as_ref().unwrap().undo_label(), Some("Disable flag"));
    assert!(model(&h).flags["new-checkout"].environments["staging"].enabled, "the merge is taken back");
}

#[test]
fn both_sides_editing_one_item_show_the_two_versions_and_the_person_picks() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    edit_on_disk(&path, |f| {
        let env = Arc::make_mut(&mut f.flags["new-checkout"]).environments.get_mut("production").unwrap();
        env.default = Serve::Variant("on".into());
    });
    poll_disk(&mut h);
    h.get_by_label("Merge into my edits…").click_accesskit();
    h.run();
    h.get_by_label("Both of you changed 1 item — choose which version to keep of each:");
    assert_eq!(h.query_all_by_label("new-checkout / production").count(), 3, "theirs, mine, and the conflict");
    assert!(!h.get_by_label("Merge into my edits").is_enabled_or_default(), "pick first");
    h.get_by_label("Keep theirs: new-checkout / production").click_accesskit();
    h.run();
    h.get_by_label("Merge into my edits").click_accesskit();
    h.run();
    let env = model(&h).flags["new-checkout"].environments["production"].clone();
    assert!(env.enabled && env.default == Serve::Variant("on".into()), "theirs, as picked");
    assert!(!h.state().is_dirty(), "their version everywhere: nothing to save");
}

/// `is_enabled` for a kittest node (disabled nodes carry the flag).
trait Enabled {
    fn is_enabled_or_default(&self) -> bool;
}

impl Enabled for egui_kittest::Node<'_> {
    fn is_enabled_or_default(&self) -> bool {
        !self.accesskit_node().is_disabled()
    }
}

#[test]
fn reload_with_unsaved_edits_asks_first() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    edit_on_disk(&path, |f| describe(f, "dark-mode", "Theirs"));
    poll_disk(&mut h);
    h.get_by_label("Reload (discard mine)…").click_accesskit();
    h.run();
    h.get_by_label("Reload the file from disk and discard your unsaved changes?");
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.state().is_dirty(), "Esc keeps editing");
    h.get_by_label("Reload (discard mine)…").click_accesskit();
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(!h.state().is_dirty());
    assert_eq!(model(&h).flags["dark-mode"].description.as_deref(), Some("Theirs"));
}

#[test]
fn a_clean_document_follows_the_file_on_disk() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    edit_on_disk(&path, |f| describe(f, "dark-mode", "Theirs"));
    poll_disk(&mut h);
    assert!(h.query_by_label_contains("The file changed on disk").is_none());
    assert_eq!(model(&h).flags["dark-mode"].description.as_deref(), Some("Theirs"));
}

#[test]
fn closing_with_unsaved_changes_asks_and_save_and_quit_shows_the_review() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    assert!(!h.state_mut().on_close_requested(), "nothing to lose yet");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    assert!(h.state_mut().on_close_requested());
    h.run();
    h.get_by_label("Save the changes to flags.json?");
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("Save the changes to flags.json?").is_none(), "Esc cancels the close");
    assert!(h.state().is_dirty());

    assert!(h.state_mut().on_close_requested());
    h.run();
    h.get_by_label("Save…").click_accesskit();
    h.run();
    settled_review(&mut h);
    h.get_by_label("new-checkout / production");
    h.get_by_label("Save and quit").click_accesskit();
    h.run();
    assert!(!on_disk(&path).flags["new-checkout"].environments["production"].enabled);
}

#[test]
fn opening_another_file_with_unsaved_changes_asks_first() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.run();
    retype(&mut h, "Path", path.to_str().unwrap());
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label("Save the changes to flags.json?");
    h.get_by_label("Don't save").click_accesskit();
    h.run();
    assert!(!h.state().is_dirty());
    assert!(model(&h).flags["new-checkout"].environments["production"].enabled);
}

#[test]
fn an_invalid_file_opens_read_only_with_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(
        &path,
        "{\"version\": 1, \"environments\": [\"prod\"], \"flags\": {\n  \"x\": {\"variants\": }\n}}\n",
    )
    .unwrap();
    let h = harness(BurgeeApp::new(Some(path)));
    h.get_by_label("This file cannot be edited");
    h.get_by_label_contains("line 2");
    assert_eq!(h.state().save_blocker().as_deref(), Some("the file is open read-only"));
}

#[test]
fn a_new_rule_moves_nobody_until_it_serves_something() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    let before = settled_preview(&mut h);
    h.get_by_label("Add rule").click_accesskit();
    h.run();
    let rules = model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap();
    let rule = rules.last().unwrap().clone();
    assert!(rule.segment.is_none() && rule.matches.is_none());
    h.get_by_label_contains("New rule, not finished");
    h.get_by_label_contains("Save is disabled: finish or delete the new 1 rule");
    let after = settled_preview(&mut h);
    assert_eq!(after.variants, before.variants, "nobody moves");
    assert_eq!(h.state().preview.result().unwrap().impact.changed, 0);

    // Choosing what it serves makes it a rule (here: everyone left → on).
    h.get_by_label(&format!("Rule {} variant", rule.id)).click_accesskit();
    h.run();
    h.get_by_role_and_label(Role::Button, "on").click_accesskit();
    h.run();
    assert!(h.state().save_blocker().is_none());
    let after = settled_preview(&mut h);
    assert!(after.users_of("on") > before.users_of("on"));
    // Delete it; undo brings it back.
    h.get_by_label(&format!("Delete rule {}", rule.id)).click_accesskit();
    h.run();
    assert_eq!(model(&h).flags["new-checkout"].environments["production"].rules.as_ref().unwrap().len(), 2);
    h.get_by_label("Undo").click_accesskit();
    h.run();
    assert_eq!(model(&h).flags["new-checkout"].environments["production"].rules.as_ref().unwrap().len(), 3);
}

#[test]
fn a_rule_that_decides_no_sample_user_says_so_on_the_rule() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    // A rule for everyone, moved to the top, shadows the rest and the default.
    h.get_by_label("Add rule").click_accesskit();
    h.run();
    let id = model(&h).flags["new-checkout"].environments["production"].rules.as_ref().unwrap()[2].id.clone();
    h.get_by_label(&format!("Rule {id} variant")).click_accesskit();
    h.run();
    h.get_by_role_and_label(Role::Button, "off").click_accesskit();
    h.run();
    for _ in 0..2 {
        h.get_by_label(&format!("Move rule {id} up")).click_accesskit();
        h.run();
    }
    settled_preview(&mut h);
    h.run();
    // Both rules below it are shadowed.
    assert_eq!(h.query_all_by_label_contains("warning: shadowed: all").count(), 2);
    assert_eq!(h.query_all_by_label_contains(&format!("decided earlier, by rule `{id}` above it")).count(), 2);
    h.get_by_label_contains("warning: no sample user reaches the default");
}

#[test]
fn a_flag_rename_survives_a_click_elsewhere() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Flag key").focus();
    h.run();
    h.get_by_label("Flag key").type_text("-v2");
    h.run();
    // Not Enter: the person clicks another flag in the list.
    h.get_by_label("dark-mode").click();
    h.run();
    let file = model(&h);
    assert!(file.flags.contains_key("new-checkout-v2") && !file.flags.contains_key("new-checkout"));
    let upsell = &file.flags["checkout-upsell"].environments["production"];
    assert_eq!(upsell.prerequisites.as_ref().unwrap()[0].flag, "new-checkout-v2", "references follow");
    assert_eq!(h.state().selected_flag.as_deref(), Some("dark-mode"));
}

#[test]
fn a_refused_rename_stays_in_its_field_marked_not_applied() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    retype(&mut h, "Flag key", "dark-mode");
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label_contains("not applied: a flag named `dark-mode` already exists");
    h.get_by_label("1 typed value not applied");
    assert!(model(&h).flags.contains_key("new-checkout"));
    // It survives a visit elsewhere, and Esc puts the file's key back.
    h.get_by_label("dark-mode").click();
    h.run();
    h.get_by_label("new-checkout").click();
    h.run();
    h.get_by_label_contains("not applied: a flag named `dark-mode` already exists");
    h.get_by_label("Flag key").focus();
    h.run();
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("1 typed value not applied").is_none());
}

#[test]
fn a_rule_id_typed_and_left_is_applied() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    retype(&mut h, "Rule 1 id", "employees");
    h.get_by_role_and_label(Role::MultilineTextInput, "Description").click();
    h.run();
    let rules = model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap();
    assert_eq!(rules[0].id, "employees");
    retype(&mut h, "Rule 1 id", "beta-testers");
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label_contains("not applied: rule 2 already has the id `beta-testers`");
}

#[test]
fn a_regex_with_a_comma_and_a_backslash_is_saved_verbatim() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Add condition to rule staff").click_accesskit();
    h.run();
    let at = "/flags/new-checkout/environments/production/rules/0/match/all/0";
    retype(&mut h, &format!("attribute at {at}"), "email");
    h.get_by_label(&format!("Op at {at}")).click_accesskit();
    h.run();
    h.get_by_label("matches").click_accesskit();
    h.run();
    let pattern = r"^[a-z]{2,3}\.(staff|ops),\d+$";
    type_and_enter(&mut h, &format!("new value at {at}"), pattern);
    let typed = r#"a,b "quoted" C:\dir"#;
    // `in` with text values: commas, quotes and backslashes go in as typed.
    let at2 = "/flags/new-checkout/environments/production/rules/0/match/all/1";
    h.get_by_label("Add attribute test to /flags/new-checkout/environments/production/rules/0/match").click_accesskit();
    h.run();
    retype(&mut h, &format!("attribute at {at2}"), "company.name");
    type_and_enter(&mut h, &format!("new value at {at2}"), typed);
    type_and_enter(&mut h, &format!("new value at {at2}"), "42");
    assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0, "{:?}", h.state().doc.as_ref().unwrap().diagnostics());
    save_through_review(&mut h);
    let rule = &on_disk(&path).flags["new-checkout"].environments["production"].rules.clone().unwrap()[0];
    let Some(Condition::All(children)) = &rule.matches else { panic!("{:?}", rule.matches) };
    let Condition::Leaf(regex) = &children[0] else { panic!() };
    assert_eq!((regex.op, regex.values.clone()), (Op::Matches, vec![serde_json::Value::from(pattern)]));
    let Condition::Leaf(names) = &children[1] else { panic!() };
    assert_eq!(names.values, vec![serde_json::Value::from(typed), serde_json::Value::from("42")], "text stays text");
}

#[test]
fn values_are_checked_as_they_are_typed_by_op() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Add condition to rule staff").click_accesskit();
    h.run();
    let at = "/flags/new-checkout/environments/production/rules/0/match/all/0";
    retype(&mut h, &format!("attribute at {at}"), "app.version");
    h.get_by_label(&format!("Op at {at}")).click_accesskit();
    h.run();
    h.get_by_label("semver_gte").click_accesskit();
    h.run();
    type_and_enter(&mut h, &format!("new value at {at}"), "2.x");
    h.get_by_label_contains("not added: \"2.x\" is not a semantic version");
    let values = |h: &Harness<'_, BurgeeApp>| {
        let rule = model(h).flags["new-checkout"].environments["production"].rules.clone().unwrap()[0].clone();
        let Some(Condition::All(c)) = rule.matches else { panic!() };
        let Condition::Leaf(l) = &c[0] else { panic!() };
        l.values.clone()
    };
    assert!(values(&h).is_empty(), "nothing that is not a version goes in");
    retype(&mut h, &format!("new value at {at}"), "2.4");
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(values(&h), vec![serde_json::Value::from("2.4")]);
    // exists takes no values: the op says so, and none are made up.
    h.key_press(egui::Key::Escape);
    h.run();
    h.get_by_label(&format!("Op at {at}")).click_accesskit();
    h.run();
    h.get_by_label("exists").click_accesskit();
    h.run();
    h.get_by_label_contains("`exists` takes no values");
    h.get_by_label(&format!("Remove value 1 at {at}")).click_accesskit();
    h.run();
    h.get_by_label("`exists` takes no values");
    assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0);
}

#[test]
fn a_34_33_33_split_is_typed_one_value_per_variant() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "checkout-button-color", "development");
    let weights = |h: &Harness<'_, BurgeeApp>| {
        let Serve::Rollout(r) = &model(h).flags["checkout-button-color"].environments["development"].default else {
            panic!()
        };
        r.entries.iter().map(|e| e.weight.to_string()).collect::<Vec<_>>()
    };
    let names: Vec<String> = model(&h).flags["checkout-button-color"].variants.keys().cloned().collect();
    assert_eq!(names.len(), 3);
    retype(&mut h, &format!("Default rollout {} weight", names[0]), "34");
    h.key_press(egui::Key::Enter);
    h.run();
    retype(&mut h, &format!("Default rollout {} weight", names[1]), "33");
    h.key_press(egui::Key::Enter);
    h.run();
    retype(&mut h, &format!("Default rollout {} weight", names[2]), "33");
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(weights(&h), ["34", "33", "33"]);
    // 33.333 / 33.333 / 33.334 exactly; split evenly gives the same.
    for (i, w) in ["33.333", "33.333", "33.334"].iter().enumerate() {
        retype(&mut h, &format!("Default rollout {} weight", names[i]), w);
        h.key_press(egui::Key::Enter);
        h.run();
    }
    assert_eq!(weights(&h), ["33.333", "33.333", "33.334"]);
    retype(&mut h, &format!("Default rollout {} weight", names[0]), "100");
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label("Default rollout: split evenly").click_accesskit();
    h.run();
    assert_eq!(weights(&h), ["33.333", "33.333", "33.334"]);
    assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0);
}

#[test]
fn a_typed_weight_takes_the_difference_from_the_balance_only() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "checkout-button-color", "development");
    let names: Vec<String> = model(&h).flags["checkout-button-color"].variants.keys().cloned().collect();
    for (i, w) in ["50", "30", "20"].iter().enumerate() {
        retype(&mut h, &format!("Default rollout {} weight", names[i]), w);
        h.key_press(egui::Key::Enter);
        h.run();
    }
    // Mark the last one as the balance: typing the first leaves the second alone.
    h.get_all_by_label("balance").nth(2).unwrap().click_accesskit();
    h.run();
    retype(&mut h, &format!("Default rollout {} weight", names[0]), "60");
    h.key_press(egui::Key::Enter);
    h.run();
    let Serve::Rollout(r) = &model(&h).flags["checkout-button-color"].environments["development"].default else {
        panic!()
    };
    let got: Vec<String> = r.entries.iter().map(|e| e.weight.to_string()).collect();
    assert_eq!(got, ["60", "30", "10"]);
}

#[test]
fn an_invalid_weight_shows_an_error_on_the_field_and_changes_nothing() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    let before = model(&h);
    for (typed, why) in [
        ("abc", "`abc` is not a number"),
        ("120", "not a percentage between 0 and 100"),
        ("5.0001", "more than 3 decimals"),
    ] {
        retype(&mut h, "Default rollout on weight", typed);
        h.key_press(egui::Key::Enter);
        h.run();
        h.get_by_label_contains(why);
        assert_eq!(model(&h), before, "{typed} changed nothing");
    }
}

#[test]
fn deleting_a_used_variant_lists_its_uses_and_asks() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Remove variant on").click_accesskit();
    h.run();
    h.get_by_label("Delete variant `on` of `new-checkout`?");
    h.get_by_label_contains("production: rule `staff` serves it");
    assert!(h.query_all_by_label_contains("waits for it").count() >= 2, "checkout-upsell's prerequisites");
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(model(&h).flags["new-checkout"].variants.contains_key("on"), "Esc cancels");
    h.get_by_label("Remove variant on").click_accesskit();
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(!model(&h).flags["new-checkout"].variants.contains_key("on"), "Enter confirms");
    assert!(h.state().doc.as_ref().unwrap().error_count() > 0, "its uses are errors now");
}

#[test]
fn the_problems_list_goes_to_the_field_at_fault() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.state_mut().doc.as_mut().unwrap().edit("Break", |m| {
        let env = Arc::make_mut(&mut m.flags["dark-mode"]).environments.get_mut("staging").unwrap();
        env.default = Serve::Variant("missing".into());
    });
    h.run();
    h.get_by_label("1 error · 0 warnings").click_accesskit();
    h.run();
    h.get_by_label("/flags/dark-mode/environments/staging/default/variant").click_accesskit();
    h.run();
    assert_eq!(h.state().selected_flag.as_deref(), Some("dark-mode"));
    assert_eq!(h.state().flag_view.environment.as_deref(), Some("staging"));
    assert!(h.query_all_by_label_contains("error: variant `missing`").count() >= 1);
}

#[test]
fn messages_belong_to_the_page_that_made_them() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    type_and_enter(&mut h, "Flag key", "-v2");
    h.get_by_label_contains("Renamed `new-checkout` to `new-checkout-v2`");
    h.get_by_label("dark-mode").click_accesskit();
    h.run();
    assert!(h.query_by_label_contains("Renamed `new-checkout`").is_none(), "gone when the person moves on");
}

#[test]
fn moving_a_rollout_slider_takes_from_the_next_variant_and_changes_the_chart_counts() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    let before = settled_preview(&mut h);
    let on_before = before.users_of("on");
    h.get_by_label(&variant_label("on", on_before, before.total));

    h.get_by_role_and_label(Role::Slider, "Default rollout on %").set_value_accesskit(50.0);
    h.run();
    let Serve::Rollout(r) = &model(&h).flags["new-checkout"].environments["production"].default else { panic!() };
    let weights: Vec<String> = r.entries.iter().map(|e| e.weight.to_string()).collect();
    assert_eq!(weights, ["50", "50"]);

    let after = settled_preview(&mut h);
    let on_after = after.users_of("on");
    assert!(on_after > on_before, "{on_before} -> {on_after}");
    h.get_by_label(&variant_label("on", on_after, after.total));
    let impact = h.state().preview.result().unwrap().impact.clone();
    assert!(impact.changed > 0, "{impact:?}");
    let m = &impact.moves[0];
    h.get_by_label(&move_label(&m.from.to_string(), &m.to.to_string(), m.users));
}

#[test]
fn save_is_disabled_with_the_reason_while_there_are_errors() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.state_mut().doc.as_mut().unwrap().edit("Break", |m| {
        Arc::make_mut(m.flags.get_mut("new-checkout").unwrap()).off = "missing".into();
    });
    h.run();
    assert!(h.state().save_blocker().unwrap().contains("error"));
    h.get_by_label_contains("Save is disabled");
    h.get_by_label_contains("error: ");
}

#[test]
fn search_and_filters_narrow_the_flag_list() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path)));
    h.get_by_label("Search flags").focus();
    h.run();
    h.get_by_label("Search flags").type_text("one-page");
    h.run();
    h.get_by_label("1 of 14 flags");
    h.get_by_label("new-checkout");
    assert!(h.query_by_label("dark-mode").is_none());
}

/// Issue 4's "Done when": open examples/flags.json, roll a flag out to 10% of
/// the beta segment in production, see who gets it, save a file the sidecar
/// accepts.
#[test]
fn five_minutes_roll_a_flag_out_to_10_percent_of_beta_testers_in_production() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path.clone())));
    h.get_by_label("dark-mode").click_accesskit();
    h.run();
    h.get_by_label("Environment production").click_accesskit();
    h.run();

    h.get_by_label("Add rule").click_accesskit();
    h.run();
    let rules = model(&h).flags["dark-mode"].environments["production"].rules.clone().unwrap();
    let id = rules.last().unwrap().id.clone();
    h.get_by_label(&format!("Rule {id} segment")).click_accesskit();
    h.run();
    h.get_all_by_label("beta-testers").last().unwrap().click_accesskit();
    h.run();
    // Serve: a rollout (starting at 0 % on), then 10 % on.
    h.get_by_label(&format!("Rule {id} serves a rollout")).click_accesskit();
    h.run();
    retype(&mut h, &format!("Rule {id} rollout on weight"), "10");
    h.key_press(egui::Key::Enter);
    h.run();
    for _ in 1..rules.len() {
        h.get_by_label(&format!("Move rule {id} up")).click_accesskit();
        h.run();
    }
    let rule = model(&h).flags["dark-mode"].environments["production"].rules.clone().unwrap()[0].clone();
    assert_eq!(rule.id, id);
    assert_eq!(rule.segment.as_deref(), Some("beta-testers"));
    let Serve::Rollout(r) = &rule.serve else { panic!("{:?}", rule.serve) };
    let weights: Vec<(String, String)> = r.entries.iter().map(|e| (e.variant.clone(), e.weight.to_string())).collect();
    assert_eq!(weights, [("on".to_owned(), "10".to_owned()), ("off".to_owned(), "90".to_owned())]);

    let dist = settled_preview(&mut h);
    let decided = dist.decided_by(&Decider::Rule(id.clone()));
    assert!(decided > 0);
    h.get_by_label(&decider_label(&Decider::Rule(id.clone()), decided, dist.total));
    let step = dist.deciders.iter().find(|d| d.decider == Decider::Rule(id.clone())).unwrap();
    let on = step.by_variant[dist.variants.iter().position(|(v, _)| v == "on").unwrap()];
    assert!(on > 0 && on * 100 < decided * 20, "{on} of {decided}");

    let examples = h.state().preview.examples("dark-mode", "production").to_vec();
    let first_on = examples.iter().find(|(v, _)| v == "on").unwrap().1[0];
    let key = h.state().preview.population[first_on].targeting_key().unwrap().to_owned();
    h.get_by_label(&format!("Try {key}")).click_accesskit();
    h.run();
    h.get_by_label("Variant: on = true");

    save_through_review(&mut h);
    let loaded = burgee_rules::load(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(loaded.file.flags["dark-mode"].environments["production"].rules.as_ref().unwrap()[0], rule);
}

#[test]
fn the_segments_page_counts_members_and_edits_key_lists() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path)));
    h.get_by_label("Segments").click_accesskit();
    h.run();
    h.get_by_label("beta-testers").click_accesskit();
    h.run();
    let doc = h.state().doc.as_ref().unwrap();
    let compiled = doc.compiled().unwrap();
    let population = h.state().preview.population.clone();
    let counts = burgee_editor::preview::segment_counts(&compiled, &["beta-testers".to_owned()], &population);
    let n = counts[0].1;
    assert!(n > 0);
    h.get_by_label(&burgee_editor::preview::chart::segment_label("beta-testers", n, population.len()));

    type_and_enter(&mut h, "Add key to included", "user-77");
    let included = model(&h).segments.unwrap()["beta-testers"].included.clone().unwrap();
    assert_eq!(included.last().map(String::as_str), Some("user-77"));
    h.get_by_label("Remove user-77 from included").click_accesskit();
    h.run();
    assert!(!model(&h).segments.unwrap()["beta-testers"].included.clone().unwrap().contains(&"user-77".to_owned()));
    // A key typed and left without Enter stays, marked.
    h.get_by_label("Add key to excluded").focus();
    h.run();
    h.get_by_label("Add key to excluded").type_text("user-88");
    h.run();
    h.get_by_role_and_label(Role::MultilineTextInput, "Description").click();
    h.run();
    h.get_by_label_contains("not added yet");
}

#[test]
fn the_stages_page_renames_a_stage() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path)));
    h.get_by_label("Stages").click_accesskit();
    h.run();
    h.get_by_label("Name of beta").focus();
    h.run();
    h.get_by_label("Name of beta").type_text(" program");
    h.run();
    let stages = model(&h).stages.unwrap();
    assert!(stages.iter().any(|s| s.key == "beta" && s.name.ends_with(" program")), "{stages:?}");
}

#[test]
fn try_a_user_shows_variant_reason_and_trace() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.state_mut().preview.try_context = r#"{"targetingKey": "user-5", "beta_opt_in": true}"#.into();
    h.run();
    h.get_by_label("Variant: on = true");
    h.get_by_label("Reason: TARGETING_MATCH (rule beta-testers)");
    h.get_by_label("1. rule `staff`: not in segment `staff`");
    h.get_by_label("2. rule `beta-testers` matches");
    h.state_mut().preview.try_context = "{ nope".into();
    h.run();
    h.get_by_label_contains("not valid JSON");
}

#[test]
fn a_stage_whose_template_does_not_fit_is_refused_with_the_reason() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "checkout-button-color", "production");
    h.get_by_label("Stage").click_accesskit();
    h.run();
    h.get_by_label("Internal").click_accesskit();
    h.run();
    h.get_by_label_contains("Stage not changed");
    assert_eq!(model(&h).flags["checkout-button-color"].stage.as_deref(), Some("beta"));
    let mut h = open_flag(&path, "dark-mode", "production");
    h.get_by_label("Stage").click_accesskit();
    h.run();
    h.get_by_label("Internal").click_accesskit();
    h.run();
    let flag = model(&h).flags["dark-mode"].clone();
    assert_eq!(flag.stage.as_deref(), Some("internal"));
    let rules = flag.environments["production"].rules.clone().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].segment.as_deref(), Some("staff"));
}

#[test]
fn object_values_are_edited_as_json_with_parse_errors_shown() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "search-config", "production");
    let before = model(&h).flags["search-config"].variants["keyword"].clone();
    h.get_by_label("Value of keyword").focus();
    h.run();
    h.get_by_label("Value of keyword").type_text("oops");
    h.run();
    h.get_by_label_contains("not applied: not valid JSON");
    assert_eq!(model(&h).flags["search-config"].variants["keyword"], before);
}

#[test]
fn renaming_a_flag_updates_prerequisites_and_delete_lists_references() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Delete flag").click_accesskit();
    h.run();
    h.get_by_label("Delete flag `new-checkout`?");
    assert!(h.get_all_by_label_contains("flag `checkout-upsell`").count() >= 1);
    h.get_by_label("Cancel").click_accesskit();
    h.run();
    assert!(model(&h).flags.contains_key("new-checkout"));

    type_and_enter(&mut h, "Flag key", "-v2");
    let file = model(&h);
    assert!(file.flags.contains_key("new-checkout-v2") && !file.flags.contains_key("new-checkout"));
    let upsell = &file.flags["checkout-upsell"].environments["production"];
    assert_eq!(upsell.prerequisites.as_ref().unwrap()[0].flag, "new-checkout-v2");
    assert_eq!(h.state().selected_flag.as_deref(), Some("new-checkout-v2"));
    assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0);
}

#[test]
fn every_flag_and_environment_page_shows_with_every_widget_named() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path.clone())));
    let file = model(&h);
    for (key, _) in &file.flags {
        h.get_by_label(key).click_accesskit();
        h.run();
        for env in &file.environments {
            h.get_by_label(&format!("Environment {env}")).click_accesskit();
            // `run` checks that every input widget has an accessible name.
            h.run();
            h.get_by_label(&format!("Enabled in {env}"));
        }
    }
    assert!(!h.state().is_dirty(), "looking changed nothing");
    assert_eq!(h.state().doc.as_ref().unwrap().text_to_save(), std::fs::read_to_string(&path).unwrap());
}

#[test]
fn a_three_way_rollout_always_adds_up_to_100_with_three_decimals() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "checkout-button-color", "development");
    for pct in [50.0, 12.345, 99.9999, 0.0] {
        h.get_by_role_and_label(Role::Slider, "Default rollout blue %").set_value_accesskit(pct);
        h.run();
        let Serve::Rollout(r) = &model(&h).flags["checkout-button-color"].environments["development"].default else {
            panic!()
        };
        let thousandths: Vec<u32> =
            r.entries.iter().map(|e| burgee_rules::Weight::nearest(&e.weight).unwrap().thousandths()).collect();
        assert_eq!(thousandths.iter().sum::<u32>(), 100_000, "{pct}: {thousandths:?}");
        assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0);
    }
}

#[test]
fn generated_users_follow_the_distributions_set_in_the_panel() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Attributes of generated users").click_accesskit();
    h.run();
    retype(&mut h, "Values of country", "NL: 100");
    h.get_by_label("Generate").click_accesskit();
    h.run();
    let population = h.state().preview.population.clone();
    assert!(population.iter().all(|u| u.lookup("country") == Some(&serde_json::Value::from("NL"))));
    settled_preview(&mut h);
}

#[test]
fn create_a_flag_filter_the_list_and_add_a_prerequisite() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::new(Some(path)));
    h.get_by_label("New flag key").focus();
    h.run();
    h.get_by_label("New flag key").type_text("fresh-flag");
    h.run();
    h.get_by_label("Create flag").click_accesskit();
    h.run();
    assert_eq!(h.state().selected_flag.as_deref(), Some("fresh-flag"));
    let flag = model(&h).flags["fresh-flag"].clone();
    assert!(flag.environments.values().all(|e| !e.enabled));

    h.get_by_label("Environment filter").click_accesskit();
    h.run();
    h.get_by_label("disabled in production").click_accesskit();
    h.run();
    h.get_by_label("2 of 15 flags");

    h.get_by_label("Environment production").click_accesskit();
    h.run();
    h.get_by_label("Add prerequisite to fresh-flag in production").click_accesskit();
    h.run();
    h.get_all_by_label("dark-mode").last().unwrap().click_accesskit();
    h.run();
    let env = model(&h).flags["fresh-flag"].environments["production"].clone();
    let prerequisites = env.prerequisites.unwrap();
    assert_eq!(
        (prerequisites[0].flag.as_str(), prerequisites[0].variants.clone()),
        ("dark-mode", vec!["on".to_owned()])
    );
    assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0);
    h.get_by_label("Remove prerequisite dark-mode").click_accesskit();
    h.run();
    assert!(model(&h).flags["fresh-flag"].environments["production"].prerequisites.is_none());
}

#[test]
fn a_rule_can_be_dragged_onto_another() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    let from = h.get_by_label("= Rule 2").rect().center();
    let to = h.get_by_label("= Rule 1").rect().center();
    h.drag_at(from);
    h.step();
    h.hover_at(egui::pos2(from.x, from.y - 10.0));
    h.step();
    h.hover_at(to);
    h.step();
    h.drop_at(to);
    h.run();
    let ids: Vec<String> = model(&h).flags["new-checkout"].environments["production"]
        .rules
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(ids, ["beta-testers", "staff"]);
}

#[test]
fn a_stage_template_can_be_applied_to_one_environment() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "staging");
    let production_before = model(&h).flags["new-checkout"].environments["production"].clone();
    h.get_by_label("Apply the Beta template to staging").click_accesskit();
    h.run();
    let flag = model(&h).flags["new-checkout"].clone();
    let ids: Vec<&str> = flag.environments["staging"].rules.as_ref().unwrap().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["staff", "beta-testers"]);
    assert_eq!(flag.environments["staging"].default, Serve::Variant("off".into()));
    assert_eq!(flag.environments["production"], production_before);
}
