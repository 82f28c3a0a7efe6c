//! A three-way merge of flags files at the level people edit: flags (their
//! definition, and each environment's settings on their own), segments,
//! stages, and the file's own fields ([`Subject`]). Given the version both
//! sides started from (`base`), ours and theirs, a subject only one side
//! changed takes that side's version; a subject both changed the same way
//! takes it; a subject both changed differently is a [`Conflict`], which the
//! caller settles by choosing a [`Side`] for it.
//!
//! The editor merges a change made on disk into unsaved edits with it. Pure:
//! three models in, one out.
//!
//! - A flag present in all three versions is two kinds of subject: its
//!   definition ([`Subject::Flag`]: every field but `environments`) and each
//!   of its environments ([`Subject::FlagEnvironment`]); a flag missing from
//!   any version (added or deleted) is one [`Subject::Flag`], whole.
//! - Stages merge per key over [`FlagFile::effective_stages`] when both sides
//!   changed the list (the result then writes them out).
//! - Whatever comes whole from one side keeps that side's [`Arc`], so merging
//!   a big file copies only the flags both sides changed.
//! - Merged maps follow theirs' key order (the file on disk, what git
//!   shows), without the keys the merge removed; a key only ours has goes
//!   right after the nearest key before it in ours' order that the result
//!   has ([`merged_key_order`]).
//! - The result is not validated: it may name a segment the other side
//!   deleted. The editor validates it like any other edit.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::diff::Subject;
use crate::model::{Flag, FlagFile, Segment, Stage};

/// Which version of a conflicting subject to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Ours (the editor's unsaved edits).
    Ours,
    /// Theirs (the file on disk).
    Theirs,
}

/// A subject both sides changed, differently: the three versions of it, as
/// JSON (`None` where it does not exist: not yet added, or removed).
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// What both sides changed.
    pub subject: Subject,
    /// The version both started from.
    pub base: Option<Value>,
    /// Our version.
    pub ours: Option<Value>,
    /// Their version.
    pub theirs: Option<Value>,
}

/// The subjects both sides changed differently, in file order: the file's
/// fields, stages, segments, then flags (a flag's definition, then its
/// environments in the order of the file's environment list).
pub fn conflicts(base: &FlagFile, ours: &FlagFile, theirs: &FlagFile) -> Vec<Conflict> {
    merge(base, ours, theirs, |_| None).err().unwrap_or_default()
}

/// Merge `ours` and `theirs`, both derived from `base`; `choose` settles each
/// conflict. `Err` lists the conflicts `choose` left open (answered `None`),
/// in the order of [`conflicts`].
pub fn merge(
    base: &FlagFile,
    ours: &FlagFile,
    theirs: &FlagFile,
    choose: impl Fn(&Subject) -> Option<Side>,
) -> Result<FlagFile, Vec<Conflict>> {
    let mut merger = Merger { choose: &choose, open: Vec::new() };
    let merged = merger.file(Three { base, ours, theirs });
    if merger.open.is_empty() { Ok(merged) } else { Err(merger.open) }
}

/// The keys of a merged map, in order: theirs' keys that `keep` keeps, in
/// theirs' order, and each kept key only ours has right after the nearest key
/// before it in ours' order that is kept (first when there is none). Used for
/// flags, segments, stages and a flag's environments.
pub fn merged_key_order<'a, V, W>(
    ours: &'a IndexMap<String, V>,
    theirs: &'a IndexMap<String, W>,
    keep: impl Fn(&str) -> bool,
) -> Vec<&'a str> {
    // Ours' own keys, grouped by the key of theirs they follow (`None`: first).
    // A run of our own keys follows the same key of theirs, in ours' order,
    // which puts each right after the one before it.
    let mut after: HashMap<Option<&str>, Vec<&str>> = HashMap::new();
    let mut anchor = None;
    for key in ours.keys().filter(|key| keep(key)) {
        if theirs.contains_key(key) {
            anchor = Some(key.as_str());
        } else {
            after.entry(anchor).or_default().push(key);
        }
    }
    let mut order = Vec::with_capacity(theirs.len() + after.values().map(Vec::len).sum::<usize>());
    order.extend(after.remove(&None).into_iter().flatten());
    for key in theirs.keys().filter(|key| keep(key)) {
        order.push(key.as_str());
        order.extend(after.remove(&Some(key.as_str())).into_iter().flatten());
    }
    order
}

/// The three versions of one thing.
#[derive(Debug, Clone, Copy)]
struct Three<T> {
    base: T,
    ours: T,
    theirs: T,
}

impl<T> Three<T> {
    fn map<U>(self, mut f: impl FnMut(T) -> U) -> Three<U> {
        Three { base: f(self.base), ours: f(self.ours), theirs: f(self.theirs) }
    }

    fn as_ref(&self) -> Three<&T> {
        Three { base: &self.base, ours: &self.ours, theirs: &self.theirs }
    }

    fn side(self, side: Side) -> T {
        match side {
            Side::Ours => self.ours,
            Side::Theirs => self.theirs,
        }
    }
}

/// The side a subject takes without asking anyone, or `None` for a conflict:
/// both the same → ours; only one side changed → that side. `None` versions
/// (absent) are equal to each other only; `same` compares present ones.
fn unasked<T: ?Sized>(versions: Three<Option<&T>>, same: impl Fn(&T, &T) -> bool) -> Option<Side> {
    let equal = |a: Option<&T>, b: Option<&T>| match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        (Some(_), None) | (None, Some(_)) => false,
    };
    if equal(versions.ours, versions.theirs) {
        Some(Side::Ours)
    } else if equal(versions.ours, versions.base) {
        Some(Side::Theirs)
    } else if equal(versions.theirs, versions.base) {
        Some(Side::Ours)
    } else {
        None
    }
}

/// Equality of plain values.
fn same<T: PartialEq + ?Sized>(a: &T, b: &T) -> bool {
    a == b
}

/// Equality of shared values: the same `Arc` first (no walk), then contents.
fn same_arc<T: PartialEq>(a: &Arc<T>, b: &Arc<T>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// A subject's version as JSON, for a [`Conflict`].
fn to_json<T: Serialize + ?Sized>(value: &T) -> Value {
    // Plain data with string keys and no non-finite floats always serializes.
    serde_json::to_value(value).unwrap_or_default()
}

/// A flag's definition (what [`Subject::Flag`] covers when the flag is in
/// all three versions): the flag with no environments. Written this way so
/// that any field the model gains is part of the definition.
fn definition(flag: &Flag) -> Flag {
    Flag { environments: IndexMap::new(), ..flag.clone() }
}

/// A definition as JSON: the flag object without its `environments` key.
fn definition_json(definition: &Flag) -> Value {
    let mut value = to_json(definition);
    if let Value::Object(fields) = &mut value {
        fields.shift_remove("environments");
    }
    value
}

/// What [`Subject::File`] covers: `$schema`, `version` and `environments`,
/// serialized as they appear in the file.
#[derive(PartialEq, Serialize)]
struct FileFields<'a> {
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    schema: Option<&'a str>,
    version: u64,
    environments: &'a [String],
}

impl<'a> FileFields<'a> {
    fn of(file: &'a FlagFile) -> Self {
        FileFields { schema: file.schema.as_deref(), version: file.version, environments: &file.environments }
    }
}

/// Three-way merge of a keyed map. Every key of ours or theirs is settled by
/// `entry` (`None`: not in the result), in the order [`merged_key_order`]
/// gives them after `visit` has reordered them (the order conflicts are
/// reported in); the result is in [`merged_key_order`].
fn merge_map<'a, V>(
    maps: Three<&'a IndexMap<String, V>>,
    visit: impl FnOnce(&mut Vec<&'a str>),
    mut entry: impl FnMut(&'a str, Three<Option<&'a V>>) -> Option<V>,
) -> IndexMap<String, V> {
    let mut keys = merged_key_order(maps.ours, maps.theirs, |_| true);
    visit(&mut keys);
    let mut merged: HashMap<&str, V> = HashMap::with_capacity(keys.len());
    for key in keys {
        if let Some(value) = entry(key, maps.map(|map| map.get(key))) {
            merged.insert(key, value);
        }
    }
    let order = merged_key_order(maps.ours, maps.theirs, |key| merged.contains_key(key));
    order.into_iter().filter_map(|key| merged.remove(key).map(|value| (key.to_owned(), value))).collect()
}

/// Puts a flag's environment keys in the order of the file's environment
/// list (keys the list lacks last, in the order they had).
fn in_file_order(keys: &mut [&str], environments: &[String]) {
    keys.sort_by_key(|key| environments.iter().position(|e| e == key).unwrap_or(usize::MAX));
}

/// One merge: how to settle conflicts, and the conflicts left open so far.
struct Merger<'c> {
    choose: &'c dyn Fn(&Subject) -> Option<Side>,
    open: Vec<Conflict>,
}

impl Merger<'_> {
    /// The side `subject` takes: the one that changed it, or on a conflict
    /// what `choose` says. A conflict left open is recorded (with its
    /// versions as `json`) and takes ours, so the merge can go on and find
    /// the others.
    fn settle<T: ?Sized>(
        &mut self,
        subject: impl FnOnce() -> Subject,
        versions: Three<Option<&T>>,
        same: impl Fn(&T, &T) -> bool,
        json: impl Fn(&T) -> Value,
    ) -> Side {
        if let Some(side) = unasked(versions, same) {
            return side;
        }
        let subject = subject();
        if let Some(side) = (self.choose)(&subject) {
            return side;
        }
        let json = versions.map(|version| version.map(&json));
        self.open.push(Conflict { subject, base: json.base, ours: json.ours, theirs: json.theirs });
        Side::Ours
    }

    /// [`Merger::settle`], then the chosen version (cloned: an `Arc` stays shared).
    fn pick<T: Clone + Serialize>(
        &mut self,
        subject: impl FnOnce() -> Subject,
        versions: Three<Option<&T>>,
        same: impl Fn(&T, &T) -> bool,
    ) -> Option<T> {
        let side = self.settle(subject, versions, same, to_json);
        versions.side(side).cloned()
    }

    /// The whole file: its own fields settle first, so that a flag's
    /// environments can be visited in the merged environment list's order.
    fn file(&mut self, files: Three<&FlagFile>) -> FlagFile {
        let fields = files.map(FileFields::of);
        let side = self.settle(|| Subject::File, fields.as_ref().map(Some), same, to_json);
        let chosen = files.side(side);
        FlagFile {
            schema: chosen.schema.clone(),
            version: chosen.version,
            environments: chosen.environments.clone(),
            stages: self.stages(files),
            segments: self.segments(files),
            flags: self.flags(files, &chosen.environments),
        }
    }

    /// The stage list: whole from the side that changed it, or else per key
    /// over the stages in force on each side (then always written out).
    fn stages(&mut self, files: Three<&FlagFile>) -> Option<Vec<Stage>> {
        let lists = files.map(|file| &file.stages);
        if let Some(side) = unasked(lists.map(Some), same) {
            return lists.side(side).clone();
        }
        let by_key = files.map(|file| {
            file.effective_stages().into_iter().map(|stage| (stage.key.clone(), stage)).collect::<IndexMap<_, _>>()
        });
        let merged = merge_map(
            by_key.as_ref(),
            |_| {},
            |key, versions| self.pick(|| Subject::Stage(key.to_owned()), versions, same),
        );
        Some(merged.into_values().collect())
    }

    /// The segments: whole from the side that changed them, or else per key
    /// (an absent map counts as empty).
    fn segments(&mut self, files: Three<&FlagFile>) -> Option<IndexMap<String, Arc<Segment>>> {
        let maps = files.map(|file| &file.segments);
        if let Some(side) = unasked(maps.map(Some), same) {
            return maps.side(side).clone();
        }
        let none = IndexMap::new();
        let maps = maps.map(|segments| segments.as_ref().unwrap_or(&none));
        Some(merge_map(
            maps,
            |_| {},
            |key, versions| self.pick(|| Subject::Segment(key.to_owned()), versions, same_arc),
        ))
    }

    /// The flags: whole from the side that changed them, or else per key.
    fn flags(&mut self, files: Three<&FlagFile>, environments: &[String]) -> IndexMap<String, Arc<Flag>> {
        let maps = files.map(|file| &file.flags);
        if let Some(side) = unasked(maps.map(Some), same) {
            return maps.side(side).clone();
        }
        merge_map(maps, |_| {}, |key, versions| self.flag(key, versions, environments))
    }

    /// One flag: whole when a version lacks it or only one side changed it;
    /// otherwise rebuilt from its definition and environments, each settled
    /// on its own.
    fn flag(&mut self, key: &str, versions: Three<Option<&Arc<Flag>>>, environments: &[String]) -> Option<Arc<Flag>> {
        let (Some(base), Some(ours), Some(theirs)) = (versions.base, versions.ours, versions.theirs) else {
            return self.pick(|| Subject::Flag(key.to_owned()), versions, same_arc);
        };
        if let Some(side) = unasked(versions, same_arc) {
            return versions.side(side).cloned();
        }
        let flags = Three { base: &**base, ours: &**ours, theirs: &**theirs };
        let definitions = flags.map(definition);
        let side = self.settle(|| Subject::Flag(key.to_owned()), definitions.as_ref().map(Some), same, definition_json);
        let merged = merge_map(
            flags.map(|flag| &flag.environments),
            |keys| in_file_order(keys, environments),
            |environment, versions| {
                let subject = || Subject::FlagEnvironment { flag: key.to_owned(), environment: environment.to_owned() };
                self.pick(subject, versions, same)
            },
        );
        Some(Arc::new(Flag { environments: merged, ..definitions.side(side) }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::read as parse;

    /// A flag with a description and its two environments' kill switches.
    fn flag(description: &str, staging: bool, production: bool) -> String {
        format!(
            r#"{{"description": "{description}", "variants": {{"on": true, "off": false}}, "off": "off",
                "environments": {{"staging": {{"enabled": {staging}, "default": {{"variant": "on"}}}},
                                  "production": {{"enabled": {production}, "default": {{"variant": "on"}}}}}}}}"#
        )
    }

    /// A file with environments staging and production and these flags, in order.
    fn file(flags: &[(&str, String)]) -> FlagFile {
        let flags: Vec<String> = flags.iter().map(|(key, flag)| format!(r#""{key}": {flag}"#)).collect();
        let text = format!(
            r#"{{"version": 1, "environments": ["staging", "production"], "flags": {{{}}}}}"#,
            flags.join(", ")
        );
        parse(&text).unwrap()
    }

    fn abc() -> FlagFile {
        file(&[("a", flag("A", false, false)), ("b", flag("B", false, false)), ("c", flag("C", false, false))])
    }

    fn keys<V>(map: &IndexMap<String, V>) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }

    fn environment(flag: &str, environment: &str) -> Subject {
        Subject::FlagEnvironment { flag: flag.into(), environment: environment.into() }
    }

    #[test]
    fn edits_to_different_flags_both_survive() {
        let base = abc();
        let ours =
            file(&[("a", flag("A", false, true)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let theirs =
            file(&[("a", flag("A", false, false)), ("b", flag("B2", false, false)), ("c", flag("C", false, false))]);
        assert_eq!(conflicts(&base, &ours, &theirs), []);
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        assert_eq!(merged.flags["a"], ours.flags["a"]);
        assert_eq!(merged.flags["b"], theirs.flags["b"]);
        assert_eq!(merged.flags["c"], base.flags["c"]);
    }

    #[test]
    fn edits_to_different_environments_of_one_flag_both_survive() {
        let base = abc();
        let ours =
            file(&[("a", flag("A", false, true)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let theirs =
            file(&[("a", flag("A", true, false)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        let a = &merged.flags["a"];
        assert!(a.environments["staging"].enabled && a.environments["production"].enabled);
        assert_eq!(keys(&a.environments), ["staging", "production"]);
        assert_eq!(a.description.as_deref(), Some("A"));
    }

    #[test]
    fn the_same_edit_on_both_sides_is_no_conflict() {
        let base = abc();
        let edited =
            || file(&[("a", flag("A!", true, true)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let (ours, theirs) = (edited(), edited());
        assert_eq!(conflicts(&base, &ours, &theirs), []);
        assert_eq!(merge(&base, &ours, &theirs, |_| None).unwrap(), ours);
    }

    /// Ours turns production on; theirs serves `off` by default there.
    fn one_environment_both_ways() -> (FlagFile, FlagFile, FlagFile) {
        let base = abc();
        let ours =
            file(&[("a", flag("A", false, true)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let mut theirs = base.clone();
        Arc::make_mut(&mut theirs.flags["a"]).environments["production"].default =
            crate::model::Serve::Variant("off".into());
        (base, ours, theirs)
    }

    #[test]
    fn both_editing_one_environment_is_a_conflict_with_the_three_versions() {
        let (base, ours, theirs) = one_environment_both_ways();
        let expected = vec![Conflict {
            subject: environment("a", "production"),
            base: Some(json!({"enabled": false, "default": {"variant": "on"}})),
            ours: Some(json!({"enabled": true, "default": {"variant": "on"}})),
            theirs: Some(json!({"enabled": false, "default": {"variant": "off"}})),
        }];
        assert_eq!(conflicts(&base, &ours, &theirs), expected);
        assert_eq!(merge(&base, &ours, &theirs, |_| None), Err(expected));
    }

    #[test]
    fn choosing_a_side_settles_a_conflict() {
        let (base, ours, theirs) = one_environment_both_ways();
        let asked = std::cell::RefCell::new(Vec::new());
        let merged = merge(&base, &ours, &theirs, |subject| {
            asked.borrow_mut().push(subject.clone());
            Some(Side::Ours)
        })
        .unwrap();
        assert_eq!(asked.into_inner(), [environment("a", "production")]);
        assert_eq!(merged.flags["a"].environments["production"], ours.flags["a"].environments["production"]);

        let merged = merge(&base, &ours, &theirs, |_| Some(Side::Theirs)).unwrap();
        assert_eq!(merged.flags["a"].environments["production"], theirs.flags["a"].environments["production"]);
    }

    #[test]
    fn a_definition_conflict_shows_the_flag_without_its_environments() {
        let base = abc();
        let ours =
            file(&[("a", flag("ours", true, false)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let theirs =
            file(&[("a", flag("theirs", false, true)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let definition = |description: &str| {
            Some(json!({"description": description, "variants": {"on": true, "off": false}, "off": "off"}))
        };
        let found = conflicts(&base, &ours, &theirs);
        assert_eq!(
            found,
            [Conflict {
                subject: Subject::Flag("a".into()),
                base: definition("A"),
                ours: definition("ours"),
                theirs: definition("theirs"),
            }]
        );
        // Settled for theirs, the definition is theirs and both environment edits stay.
        let merged = merge(&base, &ours, &theirs, |_| Some(Side::Theirs)).unwrap();
        let a = &merged.flags["a"];
        assert_eq!(a.description.as_deref(), Some("theirs"));
        assert!(a.environments["staging"].enabled && a.environments["production"].enabled);
    }

    #[test]
    fn conflicts_come_in_file_order() {
        let base = parse(
            r#"{"version": 1, "environments": ["staging", "production"],
                "segments": {"s": {"included": ["u1"]}},
                "flags": {"a": {"variants": {"on": true, "off": false}, "off": "off", "environments": {
                    "production": {"enabled": false, "default": {"variant": "on"}},
                    "staging": {"enabled": false, "default": {"variant": "on"}}}}}}"#,
        )
        .unwrap();
        // Each side changes every subject its own way.
        let edit = |side: &str| {
            let mut file = base.clone();
            file.environments.push(side.into());
            let mut stages = crate::model::default_stages();
            stages[1].name = side.into();
            file.stages = Some(stages);
            Arc::make_mut(&mut file.segments.as_mut().unwrap()["s"]).included = Some(vec![side.into()]);
            let a = Arc::make_mut(&mut file.flags["a"]);
            a.description = Some(side.into());
            let serve = crate::model::Serve::Variant(side.into());
            a.environments.values_mut().for_each(|e| e.default = serve.clone());
            file
        };
        let (ours, theirs) = (edit("ours"), edit("theirs"));
        let subjects: Vec<Subject> = conflicts(&base, &ours, &theirs).into_iter().map(|c| c.subject).collect();
        // Environments in the order of the file's list, not of the flag's map.
        assert_eq!(
            subjects,
            [
                Subject::File,
                Subject::Stage("internal".into()),
                Subject::Segment("s".into()),
                Subject::Flag("a".into()),
                environment("a", "staging"),
                environment("a", "production"),
            ]
        );
    }

    #[test]
    fn a_delete_against_an_edit_is_a_conflict() {
        let base = abc();
        let ours = file(&[("a", flag("A", false, false)), ("c", flag("C", false, false))]);
        let theirs =
            file(&[("a", flag("A", false, false)), ("b", flag("B2", false, false)), ("c", flag("C", false, false))]);
        let found = conflicts(&base, &ours, &theirs);
        assert_eq!(
            found,
            [Conflict {
                subject: Subject::Flag("b".into()),
                base: Some(to_json(&base.flags["b"])),
                ours: None,
                theirs: Some(to_json(&theirs.flags["b"])),
            }]
        );
        assert!(found[0].theirs.as_ref().unwrap().get("environments").is_some(), "a whole flag");
        let kept_ours = merge(&base, &ours, &theirs, |_| Some(Side::Ours)).unwrap();
        assert_eq!(keys(&kept_ours.flags), ["a", "c"]);
        let kept_theirs = merge(&base, &ours, &theirs, |_| Some(Side::Theirs)).unwrap();
        assert_eq!(keys(&kept_theirs.flags), ["a", "b", "c"]);
        assert!(Arc::ptr_eq(&kept_theirs.flags["b"], &theirs.flags["b"]));
    }

    #[test]
    fn a_delete_against_no_change_deletes() {
        let base = abc();
        let deleted = file(&[("a", flag("A", false, false)), ("c", flag("C", false, false))]);
        let edited =
            file(&[("a", flag("A2", false, false)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        for (ours, theirs) in [(&deleted, &edited), (&edited, &deleted)] {
            let merged = merge(&base, ours, theirs, |_| None).unwrap();
            assert_eq!(keys(&merged.flags), ["a", "c"]);
            assert_eq!(merged.flags["a"].description.as_deref(), Some("A2"));
        }
    }

    #[test]
    fn flags_added_on_both_sides_keep_their_places() {
        let base = abc();
        let f = || flag("new", false, false);
        // Ours adds z first, x after a, then w (also added by them, the same)
        // and y at the end.
        let ours = file(&[("z", f()), ("a", f()), ("x", f()), ("b", f()), ("c", f()), ("w", f()), ("y", f())]);
        // Theirs adds w first and t after b.
        let theirs = file(&[("w", f()), ("a", f()), ("b", f()), ("t", f()), ("c", f())]);
        let merged = merge(&base, &ours, &theirs, |_| Some(Side::Ours)).unwrap();
        // w is theirs too, so it stays where they put it; y follows w, its
        // predecessor in ours.
        assert_eq!(keys(&merged.flags), ["z", "w", "y", "a", "x", "b", "t", "c"]);

        // When ours also deletes b (unchanged by them), x still follows a.
        let ours = file(&[("a", flag("A", false, false)), ("x", f()), ("c", flag("C", false, false))]);
        let theirs = file(&[
            ("a", flag("A", false, false)),
            ("b", flag("B", false, false)),
            ("t", f()),
            ("c", flag("C", false, false)),
        ]);
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        assert_eq!(keys(&merged.flags), ["a", "x", "t", "c"]);
    }

    #[test]
    fn environments_added_on_both_sides_keep_their_places() {
        let base = abc();
        let mut ours = base.clone();
        let mut theirs = base.clone();
        let settings = base.flags["a"].environments["staging"].clone();
        Arc::make_mut(&mut ours.flags["a"]).environments.shift_insert(0, "dev".into(), settings.clone());
        Arc::make_mut(&mut theirs.flags["a"]).environments.insert("qa".into(), settings);
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        assert_eq!(keys(&merged.flags["a"].environments), ["dev", "staging", "production", "qa"]);
    }

    #[test]
    fn unchanged_flags_stay_shared() {
        let base = abc();
        let mut ours = base.clone();
        Arc::make_mut(&mut ours.flags["a"]).description = Some("ours".into());
        let theirs =
            file(&[("a", flag("A", false, false)), ("b", flag("B2", false, false)), ("c", flag("C", false, false))]);
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        assert!(Arc::ptr_eq(&merged.flags["a"], &ours.flags["a"]), "only ours changed a");
        assert!(Arc::ptr_eq(&merged.flags["b"], &theirs.flags["b"]), "only theirs changed b");
        assert!(Arc::ptr_eq(&merged.flags["c"], &ours.flags["c"]), "nobody changed c");
        assert!(Arc::ptr_eq(&merged.flags["c"], &base.flags["c"]));
    }

    #[test]
    fn a_big_merge_copies_only_the_flags_both_sides_changed() {
        let one = abc().flags["a"].clone();
        let mut base = abc();
        base.flags = (0..10_000).map(|i| (format!("f{i}"), Arc::new(Flag::clone(&one)))).collect();
        let (mut ours, mut theirs) = (base.clone(), base.clone());
        Arc::make_mut(&mut ours.flags["f10"]).description = Some("ours".into());
        Arc::make_mut(&mut ours.flags["f20"]).environments["staging"].enabled = true;
        Arc::make_mut(&mut theirs.flags["f20"]).environments["production"].enabled = true;
        Arc::make_mut(&mut theirs.flags["f30"]).description = Some("theirs".into());
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        assert_eq!(keys(&merged.flags), keys(&base.flags));
        for (key, flag) in &merged.flags {
            let shared = Arc::ptr_eq(flag, &ours.flags[key]) || Arc::ptr_eq(flag, &theirs.flags[key]);
            assert_eq!(shared, key != "f20", "{key}");
        }
        assert_eq!(merged.flags["f10"].description.as_deref(), Some("ours"));
        assert_eq!(merged.flags["f30"].description.as_deref(), Some("theirs"));
        assert!(merged.flags["f20"].environments.values().all(|e| e.enabled));
    }

    #[test]
    fn stages_written_out_on_one_side_merge_per_stage() {
        let base = abc();
        let mut ours = base.clone();
        let mut stages = crate::model::default_stages();
        stages[2].name = "Beta program".into();
        ours.stages = Some(stages);
        let mut theirs = base.clone();
        let mut stages = crate::model::default_stages();
        stages.push(Stage { key: "retired".into(), name: "Retired".into(), description: None, template: None });
        theirs.stages = Some(stages);
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        let stages = merged.stages.unwrap();
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["In development", "Internal", "Beta program", "General availability", "Retired"]);

        // Only one side writing them out takes its list whole.
        let merged = merge(&base, &ours, &base, |_| None).unwrap();
        assert_eq!(merged.stages, ours.stages);
    }

    #[test]
    fn segments_merge_by_key() {
        let base =
            parse(r#"{"version": 1, "environments": ["p"], "segments": {"s": {}, "t": {}}, "flags": {}}"#).unwrap();
        let ours = parse(
            r#"{"version": 1, "environments": ["p"], "segments": {"s": {"description": "ours"}, "t": {}, "u": {}}, "flags": {}}"#,
        )
        .unwrap();
        let theirs = parse(r#"{"version": 1, "environments": ["p"], "segments": {"s": {}}, "flags": {}}"#).unwrap();
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        let segments = merged.segments.unwrap();
        assert_eq!(keys(&segments), ["s", "u"]);
        assert!(Arc::ptr_eq(&segments["s"], &ours.segments.as_ref().unwrap()["s"]));
    }

    #[test]
    fn environment_list_changes_merge() {
        let base = abc();
        let mut ours = base.clone();
        ours.environments.push("qa".into());
        let theirs =
            file(&[("a", flag("A", true, false)), ("b", flag("B", false, false)), ("c", flag("C", false, false))]);
        let merged = merge(&base, &ours, &theirs, |_| None).unwrap();
        assert_eq!(merged.environments, ["staging", "production", "qa"]);
        assert!(Arc::ptr_eq(&merged.flags["a"], &theirs.flags["a"]));

        // Both changing the list differently is one conflict about the file.
        let mut theirs = base.clone();
        theirs.schema = Some("flags.schema.json".into());
        theirs.environments.insert(0, "dev".into());
        assert_eq!(
            conflicts(&base, &ours, &theirs),
            [Conflict {
                subject: Subject::File,
                base: Some(json!({"version": 1, "environments": ["staging", "production"]})),
                ours: Some(json!({"version": 1, "environments": ["staging", "production", "qa"]})),
                theirs: Some(json!({"$schema": "flags.schema.json", "version": 1,
                                    "environments": ["dev", "staging", "production"]})),
            }]
        );
        let merged = merge(&base, &ours, &theirs, |_| Some(Side::Theirs)).unwrap();
        assert_eq!((merged.schema, merged.environments), (theirs.schema, theirs.environments));
    }

    #[test]
    fn merged_key_order_follows_theirs_and_places_ours() {
        let map = |ks: &[&str]| ks.iter().map(|k| ((*k).to_owned(), ())).collect::<IndexMap<_, _>>();
        let ours = map(&["p", "a", "b", "q", "c"]);
        let theirs = map(&["c", "a", "r", "b"]);
        assert_eq!(merged_key_order(&ours, &theirs, |_| true), ["p", "c", "a", "r", "b", "q"]);
        assert_eq!(merged_key_order(&ours, &theirs, |k| k != "b" && k != "p"), ["c", "a", "q", "r"]);
    }
}
