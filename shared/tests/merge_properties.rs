//! The three-way merge ([`burgee_rules::merge`]) on files derived from the
//! example by random small edits (kill switches toggled, descriptions changed,
//! flags deleted and added at any place): a side that changed nothing takes
//! the other side exactly (content and key order), two sides that made the
//! same edits take them, and swapping the sides only swaps which one a
//! conflict's choice keeps.

// A panic here fails a test, which is what we want (as clippy.toml says for
// tests); its `allow-unwrap-in-tests` does not reach helper functions.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use burgee_rules::merge::{Side, conflicts, merge};
use burgee_rules::model::FlagFile;
use burgee_rules::serialize;
use proptest::prelude::*;

fn example() -> FlagFile {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
    burgee_rules::read(&text).unwrap()
}

/// One small edit; `pick` chooses among the file's flags (and environments).
#[derive(Debug, Clone)]
enum Edit {
    ToggleEnabled {
        pick: usize,
        environment: usize,
    },
    SetDescription {
        pick: usize,
        description: String,
    },
    DeleteFlag {
        pick: usize,
    },
    /// A copy of the picked flag under a new key, at position `at`.
    AddFlag {
        pick: usize,
        at: usize,
        key: String,
    },
}

fn an_edit() -> impl Strategy<Value = Edit> {
    let pick = 0..64usize;
    prop_oneof![
        (pick.clone(), 0..4usize).prop_map(|(pick, environment)| Edit::ToggleEnabled { pick, environment }),
        (pick.clone(), "[a-z ]{0,12}").prop_map(|(pick, description)| Edit::SetDescription { pick, description }),
        pick.clone().prop_map(|pick| Edit::DeleteFlag { pick }),
        (pick.clone(), pick, "[a-z]{1,3}").prop_map(|(pick, at, key)| Edit::AddFlag { pick, at, key }),
    ]
}

fn flag_key(file: &FlagFile, pick: usize) -> Option<String> {
    (!file.flags.is_empty()).then(|| file.flags.get_index(pick % file.flags.len()).unwrap().0.clone())
}

/// Apply `edit` the way the editor does: only the flag it changes is copied
/// out of its shared `Arc`.
fn apply(file: &mut FlagFile, edit: &Edit) {
    let Some(key) = flag_key(file, edit_pick(edit)) else { return };
    match edit {
        Edit::ToggleEnabled { environment, .. } => {
            let flag = Arc::make_mut(&mut file.flags[&key]);
            let count = flag.environments.len();
            if let Some((_, settings)) = flag.environments.get_index_mut(environment % count.max(1)) {
                settings.enabled = !settings.enabled;
            }
        }
        Edit::SetDescription { description, .. } => {
            Arc::make_mut(&mut file.flags[&key]).description = Some(description.clone());
        }
        Edit::DeleteFlag { .. } => {
            file.flags.shift_remove(&key);
        }
        Edit::AddFlag { at, key: new_key, .. } => {
            if !file.flags.contains_key(new_key) {
                let copy = Arc::clone(&file.flags[&key]);
                file.flags.shift_insert(at % (file.flags.len() + 1), new_key.clone(), copy);
            }
        }
    }
}

fn edit_pick(edit: &Edit) -> usize {
    match edit {
        Edit::ToggleEnabled { pick, .. }
        | Edit::SetDescription { pick, .. }
        | Edit::DeleteFlag { pick }
        | Edit::AddFlag { pick, .. } => *pick,
    }
}

fn edited(base: &FlagFile, edits: &[Edit]) -> FlagFile {
    let mut file = base.clone();
    edits.iter().for_each(|edit| apply(&mut file, edit));
    file
}

/// The file as written: equal text means equal content and key order.
fn text(file: &FlagFile) -> String {
    serialize::to_string(file)
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(an_edit(), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn merge_with_one_side_unchanged_takes_the_other(edits in edits()) {
        let base = example();
        let changed = edited(&base, &edits);
        prop_assert!(conflicts(&base, &changed, &base).is_empty());
        prop_assert_eq!(text(&merge(&base, &changed, &base, |_| None).unwrap()), text(&changed));
        prop_assert!(conflicts(&base, &base, &changed).is_empty());
        prop_assert_eq!(text(&merge(&base, &base, &changed, |_| None).unwrap()), text(&changed));
    }

    #[test]
    fn merge_of_the_same_edits_on_both_sides_takes_them(edits in edits()) {
        let base = example();
        let (ours, theirs) = (edited(&base, &edits), edited(&base, &edits));
        prop_assert!(conflicts(&base, &ours, &theirs).is_empty());
        prop_assert_eq!(text(&merge(&base, &ours, &theirs, |_| None).unwrap()), text(&ours));
    }

    #[test]
    fn merge_with_the_sides_swapped_gives_the_same_content(ours in edits(), theirs in edits()) {
        let base = example();
        let (ours, theirs) = (edited(&base, &ours), edited(&base, &theirs));
        let subjects = |found: Vec<burgee_rules::merge::Conflict>| {
            let mut subjects: Vec<_> = found.into_iter().map(|c| c.subject).collect();
            subjects.sort();
            subjects
        };
        prop_assert_eq!(subjects(conflicts(&base, &ours, &theirs)), subjects(conflicts(&base, &theirs, &ours)));
        let keeping_ours = merge(&base, &ours, &theirs, |_| Some(Side::Ours)).unwrap();
        let keeping_ours_swapped = merge(&base, &theirs, &ours, |_| Some(Side::Theirs)).unwrap();
        // `==` on the model compares maps regardless of key order.
        prop_assert_eq!(keeping_ours, keeping_ours_swapped);
    }
}
