//! The editor's main flows driven through the UI by label with egui_kittest
//! (no display, no GPU): open a file, toggle an environment, add a rule, move
//! a rollout slider and see the chart counts change, save and reopen, the
//! external-change prompt, the read-only view of an invalid file, and the
//! "five minutes" flow of issue 4.
// Tests unwrap: a panic is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use burgee_editor::app::BurgeeApp;
use burgee_editor::preview::chart::{decider_label, move_label, variant_label};
use burgee_editor::preview::{Decider, Distribution};
use burgee_rules::model::{Condition, FlagFile, Op, Serve};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

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

fn save_through_diff(h: &mut Harness<'_, BurgeeApp>) {
    h.get_by_label("Save").click_accesskit();
    h.run();
    h.get_by_label("Save these changes").click_accesskit();
    h.run();
    let status = h.state().status.clone().unwrap_or_default();
    assert!(status.starts_with("Saved"), "{status}");
    assert!(!h.state().is_dirty());
}

#[test]
fn open_a_file_by_typing_its_path() {
    let (_dir, path) = example_copy();
    let mut h = harness(BurgeeApp::default());
    h.get_by_label("No flags file open");
    h.get_by_label("File").focus();
    h.run();
    h.get_by_label("File").type_text(path.to_str().unwrap());
    h.run();
    h.get_by_label("Open").click_accesskit();
    h.run();
    assert!(h.state().doc.is_some());
    h.get_by_label("new-checkout");
    h.get_by_label("0 errors · 0 warnings");
}

#[test]
fn toggling_an_environment_is_saved_and_found_after_reopening() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    assert!(!model(&h).flags["new-checkout"].environments["production"].enabled);
    assert!(h.state().is_dirty());
    save_through_diff(&mut h);

    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = burgee_rules::load(&text).unwrap();
    assert!(!loaded.file.flags["new-checkout"].environments["production"].enabled);
    let h = open_flag(&path, "new-checkout", "production");
    assert!(!model(&h).flags["new-checkout"].environments["production"].enabled);
}

#[test]
fn adding_a_rule_appends_one_that_serves_on() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    let before = model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap();
    h.get_by_label("Add rule").click_accesskit();
    h.run();
    let after = model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last().unwrap().serve, Serve::Variant("on".into()));
    // Reorder and delete it by label.
    let id = after.last().unwrap().id.clone();
    h.get_by_label(&format!("Move rule {id} up")).click_accesskit();
    h.run();
    let rules = model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap();
    assert_eq!(rules[rules.len() - 2].id, id);
    h.get_by_label(&format!("Delete rule {id}")).click_accesskit();
    h.run();
    assert_eq!(model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap(), before);
    // Undo brings it back.
    h.get_by_label("Undo").click_accesskit();
    h.run();
    assert_eq!(
        model(&h).flags["new-checkout"].environments["production"].rules.as_ref().unwrap().len(),
        before.len() + 1
    );
}

#[test]
fn moving_a_rollout_slider_keeps_100_and_changes_the_chart_counts() {
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
    assert!(h.query_by_label(&variant_label("on", on_before, before.total)).is_none());
    // The impact against the saved file says who moves.
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
        std::sync::Arc::make_mut(m.flags.get_mut("new-checkout").unwrap()).off = "missing".into();
    });
    h.run();
    assert!(h.state().save_blocker().unwrap().contains("error"));
    h.get_by_label_contains("Save is disabled");
    // The message sits next to the off variant field.
    h.get_by_label_contains("error: ");
    assert!(!h.get_by_label("Save").is_focused());
}

#[test]
fn an_external_change_offers_reload_or_keep_mine() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Add rule").click_accesskit();
    h.run();
    // Someone else changes the file.
    let theirs = std::fs::read_to_string(&path).unwrap().replace("The one-page checkout.", "Their checkout.");
    std::fs::write(&path, &theirs).unwrap();
    poll_disk(&mut h);
    h.get_by_label_contains("changed on disk");
    h.get_by_label("Keep mine").click_accesskit();
    h.run();
    assert!(h.query_by_label_contains("changed on disk").is_none());
    save_through_diff(&mut h);
    let saved = burgee_rules::load(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved.file.flags["new-checkout"].environments["production"].rules.as_ref().unwrap().len(), 3);

    // And the other answer: reload.
    let theirs = std::fs::read_to_string(&path).unwrap().replace("\"enabled\": true", "\"enabled\": false");
    std::fs::write(&path, &theirs).unwrap();
    poll_disk(&mut h);
    h.get_by_label("Reload").click_accesskit();
    h.run();
    assert!(h.query_by_label_contains("changed on disk").is_none());
    assert!(!model(&h).flags["new-checkout"].environments["production"].enabled);
    assert!(!h.state().is_dirty());
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
fn closing_with_unsaved_changes_asks_first() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    assert!(!h.state_mut().on_close_requested(), "nothing to lose yet");
    h.get_by_label("Add rule").click_accesskit();
    h.run();
    assert!(h.state_mut().on_close_requested());
    h.run();
    h.get_by_label("The file has unsaved changes.");
    h.get_by_label("Keep editing").click_accesskit();
    h.run();
    assert!(h.query_by_label("The file has unsaved changes.").is_none());
    assert!(h.state().is_dirty());
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
    let mut h = harness(BurgeeApp::default());
    h.get_by_label("File").focus();
    h.run();
    h.get_by_label("File").type_text(path.to_str().unwrap());
    h.get_by_label("Open").click_accesskit();
    h.run();
    h.get_by_label("dark-mode").click_accesskit();
    h.run();
    h.get_by_label("Environment production").click_accesskit();
    h.run();

    h.get_by_label("Add rule").click_accesskit();
    h.run();
    let rules = model(&h).flags["dark-mode"].environments["production"].rules.clone().unwrap();
    let id = rules.last().unwrap().id.clone();
    // Segment: beta-testers.
    h.get_by_label(&format!("Rule {id} segment")).click_accesskit();
    h.run();
    h.get_all_by_label("beta-testers").last().unwrap().click_accesskit();
    h.run();
    // Serve: a rollout, 10% on.
    h.get_by_label(&format!("Rule {id} serves a rollout")).click_accesskit();
    h.run();
    h.get_by_role_and_label(Role::Slider, &format!("Rule {id} rollout on %")).set_value_accesskit(10.0);
    h.run();
    // First match wins: put it first.
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

    // See who gets it: the rule decides for some sample users, about 10% of them get `on`.
    let dist = settled_preview(&mut h);
    let decided = dist.decided_by(&Decider::Rule(id.clone()));
    assert!(decided > 0);
    h.get_by_label(&decider_label(&Decider::Rule(id.clone()), decided, dist.total));
    let step = dist.deciders.iter().find(|d| d.decider == Decider::Rule(id.clone())).unwrap();
    let on = step.by_variant[dist.variants.iter().position(|(v, _)| v == "on").unwrap()];
    assert!(on > 0 && on * 100 < decided * 20, "{on} of {decided}");

    // Some of them, by name: try one.
    let examples = h.state().preview.examples("dark-mode", "production").to_vec();
    let first_on = examples.iter().find(|(v, _)| v == "on").unwrap().1[0];
    let key = h.state().preview.population[first_on].targeting_key().unwrap().to_owned();
    h.get_by_label(&format!("Try {key}")).click_accesskit();
    h.run();
    h.get_by_label("Variant: on = true");

    save_through_diff(&mut h);
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

    h.get_by_label("Add key to included").focus();
    h.run();
    h.get_by_label("Add key to included").type_text("user-77");
    h.key_press(egui::Key::Enter);
    h.run();
    let included = model(&h).segments.unwrap()["beta-testers"].included.clone().unwrap();
    assert_eq!(included.last().map(String::as_str), Some("user-77"));
    h.get_by_label("Remove user-77 from included").click_accesskit();
    h.run();
    assert!(!model(&h).segments.unwrap()["beta-testers"].included.clone().unwrap().contains(&"user-77".to_owned()));
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
    h.key_press(egui::Key::Enter);
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
    // A flag that has the variants moves and gets the template's rules.
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
    h.get_by_label_contains("not valid JSON");
    assert_eq!(model(&h).flags["search-config"].variants["keyword"], before);
}

#[test]
fn renaming_a_flag_updates_prerequisites_and_delete_lists_references() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Delete flag").click_accesskit();
    h.run();
    assert!(h.get_all_by_label_contains("flag `checkout-upsell`").count() >= 2);
    h.get_by_label("Cancel delete").click_accesskit();
    h.run();

    h.get_by_label("Flag key").focus();
    h.run();
    h.get_by_label("Flag key").type_text("-v2");
    h.key_press(egui::Key::Enter);
    h.run();
    let file = model(&h);
    assert!(file.flags.contains_key("new-checkout-v2") && !file.flags.contains_key("new-checkout"));
    let upsell = &file.flags["checkout-upsell"].environments["production"];
    assert_eq!(upsell.prerequisites.as_ref().unwrap()[0].flag, "new-checkout-v2");
    assert_eq!(h.state().selected_flag.as_deref(), Some("new-checkout-v2"));
    assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0);
}

#[test]
fn the_diff_window_shows_pending_lines_and_cancel_keeps_them() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Enabled in production").click_accesskit();
    h.run();
    h.get_by_label("Save").click_accesskit();
    h.run();
    h.get_by_label("1 line(s) added, 1 removed");
    h.get_by_label_contains("+ ");
    h.get_by_label("Cancel").click_accesskit();
    h.run();
    assert!(h.query_by_label("Save these changes").is_none());
    assert!(h.state().is_dirty());
}

#[test]
fn the_condition_builder_adds_a_test_and_fits_values_to_the_op() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Add condition to rule staff").click_accesskit();
    h.run();
    let rule = model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap()[0].clone();
    let Some(Condition::All(children)) = &rule.matches else { panic!("{:?}", rule.matches) };
    assert!(matches!(&children[0], Condition::Leaf(l) if l.op == Op::In && l.attribute == "country"));

    h.get_by_label("Op").click_accesskit();
    h.run();
    h.get_by_label("exists").click_accesskit();
    h.run();
    let rule = model(&h).flags["new-checkout"].environments["production"].rules.clone().unwrap()[0].clone();
    let Some(Condition::All(children)) = &rule.matches else { panic!() };
    assert!(matches!(&children[0], Condition::Leaf(l) if l.op == Op::Exists && l.values.is_empty()));
    h.get_by_label("(takes no values)");
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
fn opening_another_file_with_unsaved_changes_asks_first() {
    let (_dir, path) = example_copy();
    let mut h = open_flag(&path, "new-checkout", "production");
    h.get_by_label("Add rule").click_accesskit();
    h.run();
    h.get_by_label("Open").click_accesskit();
    h.run();
    h.get_by_label("The file has unsaved changes.");
    h.get_by_label("Discard and open").click_accesskit();
    h.run();
    assert!(!h.state().is_dirty());
    assert_eq!(model(&h).flags["new-checkout"].environments["production"].rules.as_ref().unwrap().len(), 2);
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
            r.entries.iter().map(|e| burgee_rules::edit::weight_thousandths(&e.weight).unwrap()).collect();
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
    h.get_by_label("Values of country").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Values of country").type_text("NL: 100");
    h.key_press(egui::Key::Enter);
    h.run();
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

    // Only flags disabled in production: the new one and realtime-collaboration.
    h.get_by_label("Environment filter").click_accesskit();
    h.run();
    h.get_by_label("disabled in production").click_accesskit();
    h.run();
    h.get_by_label("2 of 15 flags");

    h.get_by_label("Environment production").click_accesskit();
    h.run();
    h.get_by_label("Add prerequisite").click_accesskit();
    h.run();
    let env = model(&h).flags["fresh-flag"].environments["production"].clone();
    let prerequisites = env.prerequisites.unwrap();
    assert_eq!(prerequisites.len(), 1);
    assert_eq!(h.state().doc.as_ref().unwrap().error_count(), 0);
    h.get_by_label(&format!("Remove prerequisite {}", prerequisites[0].flag)).click_accesskit();
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
