//! `Revalidator` (the editor's validation, which re-checks only what an edit
//! touched) finds exactly what a full `validate` finds, after every step of
//! random edit sequences on the example file: renames and deletes that break
//! references, variant renames that other flags' prerequisites name, changes
//! to the environment, segment and stage lists every flag is checked against,
//! and edits that only change one flag.

// A panic here fails a test, which is what we want (as clippy.toml says for
// tests); its `allow-unwrap-in-tests` does not reach helper functions.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use burgee_rules::edit;
use burgee_rules::model::{FlagFile, Prerequisite, Stage};
use burgee_rules::validate::{Revalidator, validate};
use proptest::prelude::*;

fn example() -> FlagFile {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
    burgee_rules::read(&text).unwrap()
}

/// One edit; `pick` chooses among the file's flags, segments or variants and
/// `name` is drawn from names that exist in the example and names that don't.
#[derive(Debug, Clone)]
enum Edit {
    SetOff { pick: usize, name: String },
    SetStage { pick: usize, name: String },
    SetDescription { pick: usize, name: String },
    RenameFlag { pick: usize, name: String },
    DeleteFlag { pick: usize },
    DuplicateFlag { pick: usize, name: String },
    RenameVariant { pick: usize, variant: usize, name: String },
    AddPrerequisite { pick: usize, on: usize, name: String },
    RenameSegment { pick: usize, name: String },
    DeleteSegment { pick: usize },
    DropEnvironment { pick: usize },
    AddEnvironment { name: String },
    CustomStages { names: Vec<String> },
    DefaultStages,
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("on".to_owned()),
        Just("off".to_owned()),
        Just("new-checkout".to_owned()),
        Just("staff".to_owned()),
        Just("beta".to_owned()),
        Just("ga".to_owned()),
        Just("production".to_owned()),
        "[a-z]{1,6}",
        Just("not a key".to_owned()),
    ]
}

fn an_edit() -> impl Strategy<Value = Edit> {
    let pick = 0..64usize;
    prop_oneof![
        (pick.clone(), name()).prop_map(|(pick, name)| Edit::SetOff { pick, name }),
        (pick.clone(), name()).prop_map(|(pick, name)| Edit::SetStage { pick, name }),
        (pick.clone(), name()).prop_map(|(pick, name)| Edit::SetDescription { pick, name }),
        (pick.clone(), name()).prop_map(|(pick, name)| Edit::RenameFlag { pick, name }),
        pick.clone().prop_map(|pick| Edit::DeleteFlag { pick }),
        (pick.clone(), name()).prop_map(|(pick, name)| Edit::DuplicateFlag { pick, name }),
        (pick.clone(), 0..4usize, name()).prop_map(|(pick, variant, name)| Edit::RenameVariant { pick, variant, name }),
        (pick.clone(), pick.clone(), name()).prop_map(|(pick, on, name)| Edit::AddPrerequisite { pick, on, name }),
        (pick.clone(), name()).prop_map(|(pick, name)| Edit::RenameSegment { pick, name }),
        pick.clone().prop_map(|pick| Edit::DeleteSegment { pick }),
        pick.prop_map(|pick| Edit::DropEnvironment { pick }),
        name().prop_map(|name| Edit::AddEnvironment { name }),
        prop::collection::vec(name(), 1..4).prop_map(|names| Edit::CustomStages { names }),
        Just(Edit::DefaultStages),
    ]
}

fn flag_key(file: &FlagFile, pick: usize) -> Option<String> {
    (!file.flags.is_empty()).then(|| file.flags.get_index(pick % file.flags.len()).unwrap().0.clone())
}

fn segment_key(file: &FlagFile, pick: usize) -> Option<String> {
    let segments = file.segments.as_ref().filter(|s| !s.is_empty())?;
    Some(segments.get_index(pick % segments.len()).unwrap().0.clone())
}

/// Apply `edit` the way the editor does (only the flags it changes are copied
/// out of their shared `Arc`s). Refused edits change nothing.
fn apply(file: &mut FlagFile, edit: &Edit) {
    match edit {
        Edit::SetOff { pick, name } => {
            if let Some(key) = flag_key(file, *pick) {
                Arc::make_mut(&mut file.flags[&key]).off = name.clone();
            }
        }
        Edit::SetStage { pick, name } => {
            if let Some(key) = flag_key(file, *pick) {
                Arc::make_mut(&mut file.flags[&key]).stage = Some(name.clone());
            }
        }
        Edit::SetDescription { pick, name } => {
            if let Some(key) = flag_key(file, *pick) {
                Arc::make_mut(&mut file.flags[&key]).description = Some(name.clone());
            }
        }
        Edit::RenameFlag { pick, name } => {
            if let Some(key) = flag_key(file, *pick) {
                let _ = edit::rename_flag(file, &key, name);
            }
        }
        Edit::DeleteFlag { pick } => {
            if let Some(key) = flag_key(file, *pick) {
                edit::delete_flag(file, &key).unwrap();
            }
        }
        Edit::DuplicateFlag { pick, name } => {
            if let Some(key) = flag_key(file, *pick) {
                let _ = edit::duplicate_flag(file, &key, name);
            }
        }
        Edit::RenameVariant { pick, variant, name } => {
            if let Some(key) = flag_key(file, *pick) {
                let variants = &file.flags[&key].variants;
                if let Some((old, _)) = variants.get_index(variant % variants.len().max(1)) {
                    let old = old.clone();
                    let _ = edit::rename_variant(file, &key, &old, name);
                }
            }
        }
        Edit::AddPrerequisite { pick, on, name } => {
            if let (Some(key), Some(on)) = (flag_key(file, *pick), flag_key(file, *on)) {
                let flag = Arc::make_mut(&mut file.flags[&key]);
                if let Some(env) = flag.environments.values_mut().next() {
                    let prerequisite = Prerequisite { flag: on, variants: vec![name.clone()] };
                    env.prerequisites.get_or_insert_with(Vec::new).push(prerequisite);
                }
            }
        }
        Edit::RenameSegment { pick, name } => {
            if let Some(key) = segment_key(file, *pick) {
                let _ = edit::rename_segment(file, &key, name);
            }
        }
        Edit::DeleteSegment { pick } => {
            if let Some(key) = segment_key(file, *pick) {
                edit::delete_segment(file, &key).unwrap();
            }
        }
        Edit::DropEnvironment { pick } => {
            if !file.environments.is_empty() {
                let at = pick % file.environments.len();
                file.environments.remove(at);
            }
        }
        Edit::AddEnvironment { name } => file.environments.push(name.clone()),
        Edit::CustomStages { names } => {
            let stages = names
                .iter()
                .map(|n| Stage { key: n.clone(), name: n.clone(), description: None, template: None })
                .collect();
            file.stages = Some(stages);
        }
        Edit::DefaultStages => file.stages = None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn revalidation_finds_what_full_validation_finds(edits in prop::collection::vec(an_edit(), 1..24)) {
        let mut file = example();
        let mut revalidator = Revalidator::new();
        prop_assert_eq!(revalidator.validate(&file), validate(&file));
        for (step, edit) in edits.iter().enumerate() {
            apply(&mut file, edit);
            prop_assert_eq!(revalidator.validate(&file), validate(&file), "after step {} ({:?})", step, edit);
        }
    }
}

/// An edit that only changes one flag leaves every other flag's findings
/// reused: the same diagnostics, also when the edit makes that flag invalid
/// and then valid again.
#[test]
fn an_edit_to_one_flag_keeps_the_findings_of_the_others() {
    let mut file = example();
    let mut revalidator = Revalidator::new();
    let clean = revalidator.validate(&file);
    Arc::make_mut(&mut file.flags["dark-mode"]).off = "missing".into();
    let broken = revalidator.validate(&file);
    assert_eq!(broken, validate(&file));
    assert_eq!(broken.iter().filter(|d| d.is_error()).count(), 1, "{broken:#?}");
    assert!(broken.iter().any(|d| d.pointer == "/flags/dark-mode/off"));
    Arc::make_mut(&mut file.flags["dark-mode"]).off = "off".into();
    assert_eq!(revalidator.validate(&file), clean);
}
