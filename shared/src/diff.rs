//! Two versions of a flags file compared by meaning, not by text: which
//! flags, segments and stages were added, removed or changed, and within a
//! flag, per environment, what changed ("rule `beta-10` added at position 1",
//! "default rollout on 5 % → 10 %, off 95 % → 90 %"). The editor shows this
//! before a save and `burgee-sidecar diff` prints it; [`affected_flags`] says
//! which flags' answers can change (through segments and prerequisites too).
//!
//! Pure, like the rest of the crate: two models in, a list out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Number, Value};

use crate::diagnostic::Pointer;
use crate::model::{
    Condition, Flag, FlagEnvironment, FlagFile, Prerequisite, Rollout, RolloutEntry, Rule, Segment, Serve, Stage,
};
use crate::weight::Weight;

/// What a change is about: the unit people review and the unit a three-way
/// merge ([`crate::merge`]) keeps or takes whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// The file's own fields: `$schema`, `version` and the environment list.
    File,
    /// One stage, by key.
    Stage(String),
    /// One segment, by key.
    Segment(String),
    /// One flag, by key: its definition (description, stage, variants, off
    /// variant), or the whole flag when it was added or removed.
    Flag(String),
    /// One flag's settings in one environment.
    FlagEnvironment {
        /// The flag's key.
        flag: String,
        /// The environment's key.
        environment: String,
    },
}

impl Subject {
    /// The flag this subject belongs to, if any.
    pub fn flag(&self) -> Option<&str> {
        match self {
            Subject::Flag(flag) | Subject::FlagEnvironment { flag, .. } => Some(flag),
            Subject::File | Subject::Stage(_) | Subject::Segment(_) => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::File => write!(f, "the file"),
            Subject::Stage(key) => write!(f, "stage `{key}`"),
            Subject::Segment(key) => write!(f, "segment `{key}`"),
            Subject::Flag(key) => write!(f, "flag `{key}`"),
            Subject::FlagEnvironment { flag, environment } => write!(f, "{flag} / {environment}"),
        }
    }
}

/// What kind of change a [`Change`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Something new: a flag, a rule, a target, a variant…
    Added,
    /// Something gone.
    Removed,
    /// The same thing with a different value.
    Changed,
    /// The same thing at another position (a rule moved up or down).
    Moved,
}

/// One change between two versions, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What it is about.
    pub subject: Subject,
    /// Added, removed, changed or moved.
    pub kind: ChangeKind,
    /// JSON pointer of the changed place: in the new file, or in the old one
    /// for something removed.
    pub pointer: String,
    /// What changed, for a person, without the subject:
    /// "rule `beta-10` added at position 1".
    pub summary: String,
}

/// Every change from `old` to `new`, by meaning. See the [module docs](self).
///
/// In order: the file's own fields, then stages, segments and flags, each in
/// the new file's order with removed ones after the entry they followed (at
/// the end when none did). Within a flag, its definition comes first, then
/// each environment in the file's environment order.
pub fn diff(old: &FlagFile, new: &FlagFile) -> Vec<Change> {
    let files = Files { old, new };
    let mut out = Vec::new();
    file_changes(files, &mut out);
    stage_changes(files, &mut out);
    keyed_changes(old.segments.as_ref(), new.segments.as_ref(), files, &mut out);
    keyed_changes(Some(&old.flags), Some(&new.flags), files, &mut out);
    out
}

/// Why a flag's answers can differ between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AffectedBy {
    /// The flag itself changed (its definition or its settings somewhere), or
    /// was added or removed.
    Changed,
    /// It uses this segment (in a rule or a condition, directly or through
    /// other segments), which changed.
    Segment(String),
    /// It has this flag as a prerequisite, whose answers can change.
    Prerequisite(String),
}

/// A flag whose answers can differ between two versions, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    /// The flag's key.
    pub flag: String,
    /// Why.
    pub by: AffectedBy,
}

/// The flags whose answers can differ from `old` to `new`, given their
/// [`diff`]: flags that changed, were added or were removed, flags using a
/// changed segment, and flags with an affected prerequisite.
///
/// Each flag once, with the first reason that applies (changed, then
/// segment, then prerequisite), in the new file's order; removed flags last,
/// in the old file's order.
pub fn affected_flags(old: &FlagFile, new: &FlagFile, changes: &[Change]) -> Vec<Affected> {
    let gone = old.flags.keys().filter(|k| !new.flags.contains_key(*k));
    let mut reasons: HashMap<&str, AffectedBy> = HashMap::new();
    for key in changes.iter().filter_map(|c| c.subject.flag()).chain(gone.clone().map(String::as_str)) {
        reasons.entry(key).or_insert(AffectedBy::Changed);
    }
    let reach = segments_reaching_changes(old, new, changes);
    if !reach.is_empty() {
        for (key, flag) in &new.flags {
            if !reasons.contains_key(key.as_str())
                && let Some(changed) = segments_used(flag).find_map(|s| reach.get(s))
            {
                reasons.insert(key, AffectedBy::Segment(changed.to_string()));
            }
        }
    }
    add_prerequisite_reasons(new, &mut reasons);
    new.flags
        .keys()
        .chain(gone)
        .filter_map(|key| reasons.remove(key.as_str()).map(|by| Affected { flag: key.clone(), by }))
        .collect()
}

/// Each segment whose answers can change, with the changed segment behind
/// it: a changed, added or removed segment maps to itself, a segment of
/// `new` whose condition names one (directly or through other segments) to
/// the nearest such.
fn segments_reaching_changes<'a>(
    old: &'a FlagFile,
    new: &'a FlagFile,
    changes: &'a [Change],
) -> HashMap<&'a str, &'a str> {
    let in_new = |key: &str| new.segments.as_ref().is_some_and(|s| s.contains_key(key));
    let gone = old.segments.iter().flatten().map(|(k, _)| k.as_str()).filter(|k| !in_new(k));
    let changed = changes
        .iter()
        .filter_map(|c| match &c.subject {
            Subject::Segment(key) => Some(key.as_str()),
            _ => None,
        })
        .chain(gone);
    let mut users: HashMap<&str, Vec<&str>> = HashMap::new();
    for (key, segment) in new.segments.iter().flatten() {
        for used in segment.matches.iter().flat_map(Condition::segments) {
            users.entry(used).or_default().push(key);
        }
    }
    // Breadth first from the changed segments, so cycles (an invalid file) end.
    let mut reach: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::new();
    for key in changed {
        if !reach.contains_key(key) {
            reach.insert(key, key);
            queue.push_back((key, key));
        }
    }
    while let Some((key, source)) = queue.pop_front() {
        for &user in users.get(key).into_iter().flatten() {
            if !reach.contains_key(user) {
                reach.insert(user, source);
                queue.push_back((user, source));
            }
        }
    }
    reach
}

/// The segments a flag's rules name (their `segment` and `{"segment": k}`
/// conditions), in file order.
fn segments_used(flag: &Flag) -> impl Iterator<Item = &str> {
    flag.environments
        .values()
        .flat_map(|e| e.rules.iter().flatten())
        .flat_map(|r| r.segment.as_deref().into_iter().chain(r.matches.iter().flat_map(Condition::segments)))
}

/// Adds the flags of `new` that have a prerequisite on an affected flag,
/// transitively; each names its first prerequisite that is affected.
fn add_prerequisite_reasons<'a>(new: &'a FlagFile, reasons: &mut HashMap<&'a str, AffectedBy>) {
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (key, flag) in &new.flags {
        for p in flag.prerequisites() {
            dependents.entry(p.flag.as_str()).or_default().push(key);
        }
    }
    let mut queue: Vec<&str> = reasons.keys().copied().collect();
    let mut reached: HashSet<&str> = HashSet::new();
    while let Some(key) = queue.pop() {
        for &d in dependents.get(key).into_iter().flatten() {
            if !reasons.contains_key(d) && reached.insert(d) {
                queue.push(d);
            }
        }
    }
    let affected = |key: &str| reasons.contains_key(key) || reached.contains(key);
    let found: Vec<(&str, &str)> = reached
        .iter()
        .filter_map(|&key| {
            let first = new.flags.get(key)?.prerequisites().find(|p| affected(&p.flag))?;
            Some((key, first.flag.as_str()))
        })
        .collect();
    for (key, prerequisite) in found {
        reasons.insert(key, AffectedBy::Prerequisite(prerequisite.to_string()));
    }
}

// ---------------------------------------------------------------------------
// How changes are collected and worded.

/// The two versions being compared.
#[derive(Clone, Copy)]
struct Files<'a> {
    old: &'a FlagFile,
    new: &'a FlagFile,
}

/// The changes of one subject, appended to the whole list.
struct Log<'o> {
    subject: Subject,
    out: &'o mut Vec<Change>,
}

impl<'o> Log<'o> {
    fn new(subject: Subject, out: &'o mut Vec<Change>) -> Self {
        Log { subject, out }
    }

    fn push(&mut self, kind: ChangeKind, at: &Pointer, summary: impl Into<String>) {
        let change = Change { subject: self.subject.clone(), kind, pointer: at.into(), summary: summary.into() };
        self.out.push(change);
    }

    /// Push what [`field_change`] found, if anything.
    fn push_field(&mut self, at: &Pointer, change: Option<(ChangeKind, String)>) {
        if let Some((kind, summary)) = change {
            self.push(kind, at, summary);
        }
    }
}

/// Texts up to this many characters are quoted in summaries.
const SHORT_TEXT: usize = 60;

/// Lists up to this many keys are written out whole (and targets reported
/// one by one); longer ones are cut after three.
const LISTED_KEYS: usize = 5;

/// How an optional field went from `old` to `new`, in words: "{what} set to
/// X", "{what} removed (was X)", "{what} X → Y", or without the values (
/// "{what} added", "{what} removed", "{what} changed") where `show` gives
/// none for them.
fn field_change<T: PartialEq + ?Sized>(
    what: &str,
    old: Option<&T>,
    new: Option<&T>,
    show: impl Fn(&T) -> Option<String>,
) -> Option<(ChangeKind, String)> {
    match (old, new) {
        _ if old == new => None,
        (None, None) => None,
        (None, Some(b)) => {
            Some((ChangeKind::Added, show(b).map_or(format!("{what} added"), |b| format!("{what} set to {b}"))))
        }
        (Some(a), None) => Some((
            ChangeKind::Removed,
            show(a).map_or(format!("{what} removed"), |a| format!("{what} removed (was {a})")),
        )),
        (Some(a), Some(b)) => Some((
            ChangeKind::Changed,
            match (show(a), show(b)) {
                (Some(a), Some(b)) => format!("{what} {a} → {b}"),
                _ => format!("{what} changed"),
            },
        )),
    }
}

/// A value shown as it is: keys and names.
fn as_written(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// A value shown as it is when short: JSON values.
fn if_short(s: &str) -> Option<String> {
    (s.chars().count() < SHORT_TEXT).then(|| s.to_string())
}

/// A text shown quoted when short: descriptions.
fn quoted_if_short(s: &str) -> Option<String> {
    (s.chars().count() < SHORT_TEXT).then(|| format!("{s:?}"))
}

/// A value never shown: conditions and templates are only "changed".
fn hidden<T: ?Sized>(_: &T) -> Option<String> {
    None
}

/// Keys for a person: all of them when few, else the first three and "…".
fn key_list(keys: &[&str]) -> String {
    if keys.len() <= LISTED_KEYS { keys.join(", ") } else { format!("{}, …", keys[..3].join(", ")) }
}

/// "1 rule", "2 rules".
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Keys as `&str`s, for [`pair_up`].
fn keys<'k>(keys: impl Iterator<Item = &'k String>) -> Vec<&'k str> {
    keys.map(String::as_str).collect()
}

/// An optional list, empty when absent.
fn listed<T>(list: &Option<Vec<T>>) -> &[T] {
    list.as_deref().unwrap_or(&[])
}

fn flag_pointer(key: &str) -> Pointer {
    Pointer::root().key("flags").key(key)
}

fn segment_pointer(key: &str) -> Pointer {
    Pointer::root().key("segments").key(key)
}

/// Where stage `index` of `file`'s [effective stages](FlagFile::effective_stages)
/// is written (`/stages/2`, with `field` `/stages/2/name`), or `/stages` for a
/// file that lists none (the default stages apply).
fn stage_pointer(file: &FlagFile, index: usize, field: Option<&str>) -> Pointer {
    let stages = Pointer::root().key("stages");
    match (&file.stages, field) {
        (None, _) => stages,
        (Some(_), None) => stages.index(index),
        (Some(_), Some(field)) => stages.index(index).key(field),
    }
}

// ---------------------------------------------------------------------------
// Matching two keyed lists.

/// One entry of two keyed lists walked together, by index: in both, only in
/// the old list, or only in the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pair {
    Both(usize, usize),
    Old(usize),
    New(usize),
}

/// The entries of `old` and `new` matched by key, in `new`'s order; an entry
/// only in `old` comes right after the one it followed there (after other
/// removed ones between them), or at the end when it followed none still in
/// `new`. A key listed twice is matched by its first entry; the other one
/// counts as added or removed.
fn pair_up(old: &[&str], new: &[&str]) -> Vec<Pair> {
    let (old_at, new_at) = (first_positions(old), first_positions(new));
    // Each removed entry with the new index of the nearest kept one before it.
    let mut removed = Vec::new();
    let mut anchor = usize::MAX;
    for (i, key) in old.iter().enumerate() {
        match new_at.get(key) {
            Some(&j) if old_at.get(key) == Some(&i) => anchor = j,
            _ => removed.push((anchor, i)),
        }
    }
    removed.sort_by_key(|&(anchor, _)| anchor);
    let mut removed = removed.into_iter().peekable();
    let mut pairs = Vec::with_capacity(old.len().max(new.len()));
    for (j, key) in new.iter().enumerate() {
        pairs.push(match old_at.get(key) {
            Some(&i) if new_at.get(key) == Some(&j) => Pair::Both(i, j),
            _ => Pair::New(j),
        });
        while let Some(&(anchor, i)) = removed.peek()
            && anchor == j
        {
            pairs.push(Pair::Old(i));
            removed.next();
        }
    }
    pairs.extend(removed.map(|(_, i)| Pair::Old(i)));
    pairs
}

fn first_positions<'k>(keys: &[&'k str]) -> HashMap<&'k str, usize> {
    let mut at = HashMap::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        at.entry(*key).or_insert(i);
    }
    at
}

/// The new indexes of the entries in both lists that moved relative to the
/// others: all but a longest run of them kept in the old order. An entry
/// inserted or removed above another does not move it.
fn moved_pairs(pairs: &[Pair]) -> HashSet<usize> {
    let both: Vec<(usize, usize)> = pairs
        .iter()
        .filter_map(|p| match *p {
            Pair::Both(i, j) => Some((i, j)),
            Pair::Old(_) | Pair::New(_) => None,
        })
        .collect();
    // Longest increasing run of old indexes (patience sorting).
    let mut tails: Vec<usize> = Vec::new();
    let mut before: Vec<Option<usize>> = vec![None; both.len()];
    for (k, &(i, _)) in both.iter().enumerate() {
        let at = tails.partition_point(|&t| both[t].0 < i);
        before[k] = at.checked_sub(1).map(|a| tails[a]);
        if at == tails.len() {
            tails.push(k);
        } else {
            tails[at] = k;
        }
    }
    let mut kept = vec![false; both.len()];
    let mut next = tails.last().copied();
    while let Some(k) = next {
        kept[k] = true;
        next = before[k];
    }
    both.iter().zip(kept).filter(|(_, kept)| !kept).map(|(&(_, j), _)| j).collect()
}

/// Entries only in the new list matched with entries only in the old list
/// that have the same content: renames.
#[derive(Default)]
struct Renames {
    /// New index → old index.
    from: HashMap<usize, usize>,
    /// The old indexes renamed.
    renamed: HashSet<usize>,
}

fn renames<T: Keyed>(pairs: &[Pair], old: &[(&str, &Arc<T>)], new: &[(&str, &Arc<T>)]) -> Renames {
    let mut found = Renames::default();
    let mut added: HashMap<u64, Vec<usize>> = HashMap::new();
    for pair in pairs {
        if let Pair::New(j) = *pair {
            added.entry(new[j].1.fingerprint()).or_default().push(j);
        }
    }
    if added.is_empty() {
        return found;
    }
    for pair in pairs {
        if let Pair::Old(i) = *pair
            && let Some(candidates) = added.get_mut(&old[i].1.fingerprint())
            && let Some(at) = candidates.iter().position(|&j| T::same(old[i].1, new[j].1))
        {
            let j = candidates.remove(at);
            found.from.insert(j, i);
            found.renamed.insert(i);
        }
    }
    found
}

// ---------------------------------------------------------------------------
// The file, stages, and the keyed entries (segments and flags).

fn file_changes(files: Files<'_>, out: &mut Vec<Change>) {
    let Files { old, new } = files;
    let mut log = Log::new(Subject::File, out);
    let root = Pointer::root();
    let schema = field_change("$schema", old.schema.as_deref(), new.schema.as_deref(), quoted_if_short);
    log.push_field(&root.key("$schema"), schema);
    if old.version != new.version {
        log.push(ChangeKind::Changed, &root.key("version"), format!("version {} → {}", old.version, new.version));
    }
    let at = root.key("environments");
    let (was, now) = (keys(old.environments.iter()), keys(new.environments.iter()));
    let pairs = pair_up(&was, &now);
    for pair in &pairs {
        match *pair {
            Pair::New(j) => log.push(ChangeKind::Added, &at.index(j), format!("environment `{}` added", now[j])),
            Pair::Old(i) => log.push(ChangeKind::Removed, &at.index(i), format!("environment `{}` removed", was[i])),
            Pair::Both(..) => {}
        }
    }
    if !moved_pairs(&pairs).is_empty() {
        log.push(ChangeKind::Moved, &at, "environments reordered");
    }
}

fn stage_changes(files: Files<'_>, out: &mut Vec<Change>) {
    let (old, new) = (files.old.effective_stages(), files.new.effective_stages());
    let pairs = pair_up(&keys(old.iter().map(|s| &s.key)), &keys(new.iter().map(|s| &s.key)));
    let moved = moved_pairs(&pairs);
    for pair in pairs {
        match pair {
            Pair::New(j) => Log::new(Subject::Stage(new[j].key.clone()), out).push(
                ChangeKind::Added,
                &stage_pointer(files.new, j, None),
                format!("stage added ({})", new[j].name),
            ),
            Pair::Old(i) => Log::new(Subject::Stage(old[i].key.clone()), out).push(
                ChangeKind::Removed,
                &stage_pointer(files.old, i, None),
                "stage removed",
            ),
            Pair::Both(i, j) => {
                let mut log = Log::new(Subject::Stage(new[j].key.clone()), out);
                if moved.contains(&j) {
                    let summary = format!("moved from position {} to {}", i + 1, j + 1);
                    log.push(ChangeKind::Moved, &stage_pointer(files.new, j, None), summary);
                }
                stage_edits(&mut log, files.new, j, &old[i], &new[j]);
            }
        }
    }
}

/// What changed in a stage that is in both versions (`index` in the new one).
fn stage_edits(log: &mut Log<'_>, new_file: &FlagFile, index: usize, old: &Stage, new: &Stage) {
    let at = |field| stage_pointer(new_file, index, Some(field));
    log.push_field(&at("name"), field_change("name", Some(old.name.as_str()), Some(new.name.as_str()), as_written));
    let description =
        field_change("description", old.description.as_deref(), new.description.as_deref(), quoted_if_short);
    log.push_field(&at("description"), description);
    log.push_field(&at("template"), field_change("template", old.template.as_ref(), new.template.as_ref(), hidden));
}

/// What [`keyed_changes`] needs to know of flags and segments.
trait Keyed: PartialEq + Sized {
    /// "flag" or "segment".
    const NOUN: &'static str;
    fn subject(key: &str) -> Subject;
    fn pointer(key: &str) -> Pointer;
    /// Equal content, checked cheaply first by pointer.
    fn same(a: &Arc<Self>, b: &Arc<Self>) -> bool;
    /// A hash of some fields: entries that are [`Keyed::same`] have the same one.
    fn fingerprint(&self) -> u64;
    /// The summary of its addition to `file`.
    fn added(&self, file: &FlagFile) -> String;
    /// Every change between two versions of entry `key` that are not the same.
    fn edits(key: &str, old: &Self, new: &Self, files: Files<'_>, out: &mut Vec<Change>);
}

/// The changes of flags or segments: one per entry added, removed or
/// renamed, and the edits of each entry in both versions.
fn keyed_changes<T: Keyed>(
    old: Option<&IndexMap<String, Arc<T>>>,
    new: Option<&IndexMap<String, Arc<T>>>,
    files: Files<'_>,
    out: &mut Vec<Change>,
) {
    let (old, new) = (entries(old), entries(new));
    let pairs = pair_up(&old.iter().map(|e| e.0).collect::<Vec<_>>(), &new.iter().map(|e| e.0).collect::<Vec<_>>());
    let renames = renames(&pairs, &old, &new);
    for pair in pairs {
        match pair {
            Pair::Both(i, j) => {
                let ((key, a), (_, b)) = (old[i], new[j]);
                if !T::same(a, b) {
                    T::edits(key, a, b, files, out);
                }
            }
            Pair::New(j) => {
                let (key, entry) = new[j];
                let mut log = Log::new(T::subject(key), out);
                match renames.from.get(&j) {
                    Some(&i) => log.push(ChangeKind::Changed, &T::pointer(key), format!("renamed from `{}`", old[i].0)),
                    None => log.push(ChangeKind::Added, &T::pointer(key), entry.added(files.new)),
                }
            }
            Pair::Old(i) if !renames.renamed.contains(&i) => {
                let key = old[i].0;
                Log::new(T::subject(key), out).push(
                    ChangeKind::Removed,
                    &T::pointer(key),
                    format!("{} removed", T::NOUN),
                );
            }
            Pair::Old(_) => {}
        }
    }
}

/// A map's entries by index, with `&str` keys.
fn entries<T>(map: Option<&IndexMap<String, Arc<T>>>) -> Vec<(&str, &Arc<T>)> {
    map.into_iter().flatten().map(|(k, v)| (k.as_str(), v)).collect()
}

fn fingerprint(fields: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    fields.hash(&mut hasher);
    hasher.finish()
}

// ---------------------------------------------------------------------------
// Segments.

impl Keyed for Segment {
    const NOUN: &'static str = "segment";

    fn subject(key: &str) -> Subject {
        Subject::Segment(key.to_string())
    }

    fn pointer(key: &str) -> Pointer {
        segment_pointer(key)
    }

    fn same(a: &Arc<Self>, b: &Arc<Self>) -> bool {
        Arc::ptr_eq(a, b) || a == b
    }

    fn fingerprint(&self) -> u64 {
        fingerprint((&self.description, &self.included, &self.excluded))
    }

    fn added(&self, _: &FlagFile) -> String {
        let mut parts = Vec::new();
        if !listed(&self.included).is_empty() {
            parts.push(format!("{} included", listed(&self.included).len()));
        }
        if !listed(&self.excluded).is_empty() {
            parts.push(format!("{} excluded", listed(&self.excluded).len()));
        }
        if self.matches.is_some() {
            parts.push("with a condition".to_string());
        }
        if parts.is_empty() { "segment added".to_string() } else { format!("segment added ({})", parts.join(", ")) }
    }

    fn edits(key: &str, old: &Self, new: &Self, _: Files<'_>, out: &mut Vec<Change>) {
        let at = segment_pointer(key);
        let mut log = Log::new(Subject::Segment(key.to_string()), out);
        let description =
            field_change("description", old.description.as_deref(), new.description.as_deref(), quoted_if_short);
        log.push_field(&at.key("description"), description);
        log.push_field(&at.key("included"), list_change("included", listed(&old.included), listed(&new.included)));
        log.push_field(&at.key("excluded"), list_change("excluded", listed(&old.excluded), listed(&new.excluded)));
        log.push_field(&at.key("match"), field_change("condition", old.matches.as_ref(), new.matches.as_ref(), hidden));
    }
}

/// Keys added to and removed from a list: "{what}: a, b added; c removed".
fn list_change(what: &str, old: &[String], new: &[String]) -> Option<(ChangeKind, String)> {
    let was: HashSet<&str> = old.iter().map(String::as_str).collect();
    let now: HashSet<&str> = new.iter().map(String::as_str).collect();
    let (added, removed) = (missing_from(new, &was), missing_from(old, &now));
    let part = |keys: &[&str], verb: &str| {
        if keys.len() <= LISTED_KEYS {
            format!("{} {verb}", key_list(keys))
        } else {
            format!("{} {verb} ({})", keys.len(), key_list(keys))
        }
    };
    match (added.is_empty(), removed.is_empty()) {
        (true, true) => None,
        (false, true) => Some((ChangeKind::Added, format!("{what}: {}", part(&added, "added")))),
        (true, false) => Some((ChangeKind::Removed, format!("{what}: {}", part(&removed, "removed")))),
        (false, false) => {
            Some((ChangeKind::Changed, format!("{what}: {}; {}", part(&added, "added"), part(&removed, "removed"))))
        }
    }
}

/// The keys of `list` not in `other`, each once, in order.
fn missing_from<'k>(list: &'k [String], other: &HashSet<&str>) -> Vec<&'k str> {
    let mut seen = HashSet::new();
    list.iter().map(String::as_str).filter(|k| !other.contains(k) && seen.insert(*k)).collect()
}

// ---------------------------------------------------------------------------
// Flags: the definition.

impl Keyed for Flag {
    const NOUN: &'static str = "flag";

    fn subject(key: &str) -> Subject {
        Subject::Flag(key.to_string())
    }

    fn pointer(key: &str) -> Pointer {
        flag_pointer(key)
    }

    /// Equal content and variants in the same order (map equality ignores
    /// order, and the order of variants is shown to people).
    fn same(a: &Arc<Self>, b: &Arc<Self>) -> bool {
        Arc::ptr_eq(a, b) || (a == b && a.variants.keys().eq(b.variants.keys()))
    }

    fn fingerprint(&self) -> u64 {
        let variants: Vec<&String> = self.variants.keys().collect();
        fingerprint((&self.description, &self.stage, &self.off, variants, self.environments.len()))
    }

    /// "flag added (boolean: on, off; enabled in production)".
    fn added(&self, file: &FlagFile) -> String {
        let kind = self.variants.values().next().map_or("no variants", value_type);
        let variants = key_list(&keys(self.variants.keys()));
        let enabled = file.environments.iter().filter(|e| self.environments.get(*e).is_some_and(|s| s.enabled));
        let enabled = keys(enabled);
        let place = if enabled.is_empty() {
            "disabled everywhere".to_string()
        } else {
            format!("enabled in {}", key_list(&enabled))
        };
        format!("flag added ({kind}: {variants}; {place})")
    }

    fn edits(key: &str, old: &Self, new: &Self, files: Files<'_>, out: &mut Vec<Change>) {
        definition_changes(&mut Log::new(Subject::Flag(key.to_string()), out), key, old, new);
        for environment in environment_order(files, old, new) {
            let subject = Subject::FlagEnvironment { flag: key.to_string(), environment: environment.to_string() };
            let at = flag_pointer(key).key("environments").key(environment);
            let (was, now) = (old.environments.get(environment), new.environments.get(environment));
            environment_changes(&mut Log::new(subject, out), &at, &new.off, was, now);
        }
    }
}

/// The JSON type of a flag's values, for people.
fn value_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Object(_) => "object",
        Value::Array(_) => "list",
        Value::Null => "null",
    }
}

/// The environments to compare a flag in: the new file's, then the old
/// file's, then any others either version of the flag has (an invalid file).
fn environment_order<'a>(files: Files<'a>, old: &'a Flag, new: &'a Flag) -> Vec<&'a str> {
    let mut order: Vec<&str> = Vec::new();
    let all = files.new.environments.iter().chain(&files.old.environments).chain(new.environments.keys());
    for environment in all.chain(old.environments.keys()) {
        if !order.contains(&environment.as_str()) {
            order.push(environment);
        }
    }
    order
}

/// Description, stage, variants and off variant.
fn definition_changes(log: &mut Log<'_>, key: &str, old: &Flag, new: &Flag) {
    let at = flag_pointer(key);
    let description =
        field_change("description", old.description.as_deref(), new.description.as_deref(), quoted_if_short);
    log.push_field(&at.key("description"), description);
    log.push_field(&at.key("stage"), field_change("stage", old.stage.as_deref(), new.stage.as_deref(), as_written));
    variant_changes(log, &at.key("variants"), &old.variants, &new.variants);
    log.push_field(
        &at.key("off"),
        field_change("off variant", Some(old.off.as_str()), Some(new.off.as_str()), as_written),
    );
}

fn variant_changes(log: &mut Log<'_>, at: &Pointer, old: &IndexMap<String, Value>, new: &IndexMap<String, Value>) {
    let (was, now): (Vec<_>, Vec<_>) = (old.iter().collect(), new.iter().collect());
    let pairs = pair_up(&keys(old.keys()), &keys(new.keys()));
    for pair in &pairs {
        match *pair {
            Pair::New(j) => {
                let (name, value) = now[j];
                let value = if_short(&value.to_string()).map(|v| format!(" (value {v})")).unwrap_or_default();
                log.push(ChangeKind::Added, &at.key(name), format!("variant `{name}` added{value}"));
            }
            Pair::Old(i) => log.push(ChangeKind::Removed, &at.key(was[i].0), format!("variant `{}` removed", was[i].0)),
            Pair::Both(i, j) => {
                let (name, (a, b)) = (now[j].0, (was[i].1.to_string(), now[j].1.to_string()));
                let what = format!("variant `{name}`: value");
                log.push_field(&at.key(name), field_change(&what, Some(a.as_str()), Some(b.as_str()), if_short));
            }
        }
    }
    if !moved_pairs(&pairs).is_empty() {
        log.push(ChangeKind::Moved, at, "variants reordered");
    }
}

// ---------------------------------------------------------------------------
// Flags: the settings in one environment.

/// A flag environment's settings added, removed or changed; `off` is the
/// flag's (new) off variant.
fn environment_changes(
    log: &mut Log<'_>,
    at: &Pointer,
    off: &str,
    old: Option<&FlagEnvironment>,
    new: Option<&FlagEnvironment>,
) {
    match (old, new) {
        (None, None) => {}
        (None, Some(e)) => log.push(ChangeKind::Added, at, format!("settings added: {}", settings_summary(e))),
        (Some(_), None) => log.push(ChangeKind::Removed, at, "settings removed: the flag is off here"),
        (Some(a), Some(b)) if a == b => {}
        (Some(a), Some(b)) => {
            if a.enabled != b.enabled {
                let summary =
                    if b.enabled { "turned on".to_string() } else { format!("turned off (everyone gets `{off}`)") };
                log.push(ChangeKind::Changed, &at.key("enabled"), summary);
            }
            prerequisite_changes(log, &at.key("prerequisites"), listed(&a.prerequisites), listed(&b.prerequisites));
            target_changes(log, &at.key("targets"), a.targets.as_ref(), b.targets.as_ref());
            rule_changes(log, &at.key("rules"), listed(&a.rules), listed(&b.rules));
            for summary in serve_changes(&ServeSite::Default, &a.default, &b.default) {
                log.push(ChangeKind::Changed, &at.key("default"), summary);
            }
        }
    }
}

/// "enabled, 2 rules, default on".
fn settings_summary(e: &FlagEnvironment) -> String {
    let mut parts = vec![if e.enabled { "enabled" } else { "disabled" }.to_string()];
    let targets: usize = e.targets.iter().flatten().map(|(_, keys)| keys.len()).sum();
    let counts =
        [(listed(&e.prerequisites).len(), "prerequisite"), (targets, "target"), (listed(&e.rules).len(), "rule")];
    parts.extend(counts.into_iter().filter(|(n, _)| *n > 0).map(|(n, noun)| count(n, noun)));
    parts.push(format!("default {}", serve_text(&e.default)));
    parts.join(", ")
}

fn prerequisite_changes(log: &mut Log<'_>, at: &Pointer, old: &[Prerequisite], new: &[Prerequisite]) {
    let pairs = pair_up(&keys(old.iter().map(|p| &p.flag)), &keys(new.iter().map(|p| &p.flag)));
    for pair in pairs {
        match pair {
            Pair::New(j) => {
                let summary = format!("prerequisite `{}` added (needs {})", new[j].flag, new[j].variants.join(", "));
                log.push(ChangeKind::Added, &at.index(j), summary);
            }
            Pair::Old(i) => {
                log.push(ChangeKind::Removed, &at.index(i), format!("prerequisite `{}` removed", old[i].flag))
            }
            Pair::Both(i, j) if old[i].variants != new[j].variants => {
                let (a, b) = (old[i].variants.join(", "), new[j].variants.join(", "));
                let summary = format!("prerequisite `{}`: needs {a} → {b}", new[j].flag);
                log.push(ChangeKind::Changed, &at.index(j).key("variants"), summary);
            }
            Pair::Both(..) => {}
        }
    }
}

type Targets = IndexMap<String, Vec<String>>;

/// Targets added to, removed from and moved between variants, per variant
/// (in the new file's order): added to it, moved to it, removed from it.
fn target_changes(log: &mut Log<'_>, at: &Pointer, old: Option<&Targets>, new: Option<&Targets>) {
    let empty = Targets::new();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    if old == new {
        return;
    }
    let (was, now) = (placements(old), placements(new));
    let variants = keys(new.keys().chain(old.keys().filter(|v| !new.contains_key(*v))));
    for variant in variants {
        let listed_now = listed_under(new, &now, variant);
        let added: Vec<_> = listed_now.iter().filter(|(key, _)| !was.contains_key(key)).copied().collect();
        target_group(log, at, TargetMove::Added { to: variant }, &added);
        let mut moved: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
        for &(key, index) in &listed_now {
            if let Some(&(from, _)) = was.get(key)
                && from != variant
            {
                match moved.iter_mut().find(|(f, _)| *f == from) {
                    Some((_, group)) => group.push((key, index)),
                    None => moved.push((from, vec![(key, index)])),
                }
            }
        }
        for (from, group) in moved {
            target_group(log, at, TargetMove::Moved { from, to: variant }, &group);
        }
        let removed: Vec<_> =
            listed_under(old, &was, variant).into_iter().filter(|(k, _)| !now.contains_key(k)).collect();
        target_group(log, at, TargetMove::Removed { from: variant }, &removed);
    }
}

/// Each targeting key with the variant it is listed under and its index in
/// that list (the first place, for a key listed twice).
fn placements(targets: &Targets) -> HashMap<&str, (&str, usize)> {
    let mut placed = HashMap::new();
    for (variant, keys) in targets {
        for (i, key) in keys.iter().enumerate() {
            placed.entry(key.as_str()).or_insert((variant.as_str(), i));
        }
    }
    placed
}

/// The keys listed under `variant` at their first place, with their index.
fn listed_under<'t>(
    targets: &'t Targets,
    placed: &HashMap<&str, (&str, usize)>,
    variant: &str,
) -> Vec<(&'t str, usize)> {
    let keys = targets.get(variant).into_iter().flatten().enumerate();
    keys.filter(|&(i, key)| placed.get(key.as_str()) == Some(&(variant, i))).map(|(i, key)| (key.as_str(), i)).collect()
}

/// Which way a group of targets changed.
#[derive(Clone, Copy)]
enum TargetMove<'v> {
    Added { to: &'v str },
    Removed { from: &'v str },
    Moved { from: &'v str, to: &'v str },
}

impl TargetMove<'_> {
    fn kind(self) -> ChangeKind {
        match self {
            TargetMove::Added { .. } => ChangeKind::Added,
            TargetMove::Removed { .. } => ChangeKind::Removed,
            TargetMove::Moved { .. } => ChangeKind::Changed,
        }
    }

    /// The variant whose list the change points into.
    fn list(self) -> String {
        match self {
            TargetMove::Added { to } | TargetMove::Moved { to, .. } => to.to_string(),
            TargetMove::Removed { from } => from.to_string(),
        }
    }

    /// "added to `on`", "removed from `off`", "moved from `off` to `on`".
    fn phrase(self) -> String {
        match self {
            TargetMove::Added { to } => format!("added to `{to}`"),
            TargetMove::Removed { from } => format!("removed from `{from}`"),
            TargetMove::Moved { from, to } => format!("moved from `{from}` to `{to}`"),
        }
    }
}

/// One change per target, or one for the whole group when it is long.
fn target_group(log: &mut Log<'_>, at: &Pointer, way: TargetMove<'_>, group: &[(&str, usize)]) {
    let list = at.key(&way.list());
    if group.len() > LISTED_KEYS {
        let names: Vec<&str> = group.iter().map(|(key, _)| *key).collect();
        let summary = format!("{} {}: {}", count(group.len(), "target"), way.phrase(), key_list(&names));
        log.push(way.kind(), &list, summary);
    } else {
        for (key, index) in group {
            log.push(way.kind(), &list.index(*index), format!("target `{key}` {}", way.phrase()));
        }
    }
}

/// Rules matched by id, each in turn (in the new order, removed ones where
/// they were): added, removed, moved, and what changed in it.
fn rule_changes(log: &mut Log<'_>, at: &Pointer, old: &[Rule], new: &[Rule]) {
    let pairs = pair_up(&keys(old.iter().map(|r| &r.id)), &keys(new.iter().map(|r| &r.id)));
    let moved = moved_pairs(&pairs);
    for pair in pairs {
        match pair {
            Pair::New(j) => {
                log.push(ChangeKind::Added, &at.index(j), format!("rule `{}` added at position {}", new[j].id, j + 1));
            }
            Pair::Old(i) => {
                let summary = format!("rule `{}` removed (was at position {})", old[i].id, i + 1);
                log.push(ChangeKind::Removed, &at.index(i), summary);
            }
            Pair::Both(i, j) => {
                if moved.contains(&j) {
                    let summary = format!("rule `{}` moved from position {} to {}", new[j].id, i + 1, j + 1);
                    log.push(ChangeKind::Moved, &at.index(j), summary);
                }
                if old[i] != new[j] {
                    rule_edits(log, &at.index(j), &old[i], &new[j]);
                }
            }
        }
    }
}

/// What changed in a rule kept by id: "rule `x`: segment staff → beta".
fn rule_edits(log: &mut Log<'_>, at: &Pointer, old: &Rule, new: &Rule) {
    let name = format!("rule `{}`:", new.id);
    let description = field_change(
        &format!("{name} description"),
        old.description.as_deref(),
        new.description.as_deref(),
        quoted_if_short,
    );
    log.push_field(&at.key("description"), description);
    if old.segment != new.segment {
        let everyone = |s: &Option<String>| s.clone().unwrap_or_else(|| "everyone".to_string());
        let summary = format!("{name} segment {} → {}", everyone(&old.segment), everyone(&new.segment));
        log.push(ChangeKind::Changed, &at.key("segment"), summary);
    }
    let condition = field_change(&format!("{name} condition"), old.matches.as_ref(), new.matches.as_ref(), hidden);
    log.push_field(&at.key("match"), condition);
    for summary in serve_changes(&ServeSite::Rule(&new.id), &old.serve, &new.serve) {
        log.push(ChangeKind::Changed, &at.key("serve"), summary);
    }
}

// ---------------------------------------------------------------------------
// Serves.

/// Where a serve is: a rule's (by id), or the default.
enum ServeSite<'a> {
    Rule(&'a str),
    Default,
}

/// A serve in words: `on`, or `rollout on 10 %, off 90 %`.
fn serve_text(serve: &Serve) -> String {
    match serve {
        Serve::Variant(variant) => variant.clone(),
        Serve::Rollout(rollout) => {
            let entries: Vec<String> =
                rollout.entries.iter().map(|e| format!("{} {} %", e.variant, e.weight)).collect();
            format!("rollout {}", entries.join(", "))
        }
    }
}

/// How a serve changed, one summary per aspect: "rule `x`: serves on → off",
/// "default on → off", "default serves on → rollout on 10 %, off 90 %",
/// "rule `x`: rollout on 5 % → 10 %, off 95 % → 90 %".
fn serve_changes(site: &ServeSite<'_>, old: &Serve, new: &Serve) -> Vec<String> {
    let lead = match site {
        ServeSite::Rule(id) => format!("rule `{id}`:"),
        ServeSite::Default => "default".to_string(),
    };
    match (old, new) {
        _ if old == new => Vec::new(),
        (Serve::Variant(a), Serve::Variant(b)) => match site {
            ServeSite::Rule(_) => vec![format!("{lead} serves {a} → {b}")],
            ServeSite::Default => vec![format!("{lead} {a} → {b}")],
        },
        (Serve::Rollout(a), Serve::Rollout(b)) => {
            rollout_changes(a, b).into_iter().map(|change| format!("{lead} {change}")).collect()
        }
        _ => vec![format!("{lead} serves {} → {}", serve_text(old), serve_text(new))],
    }
}

/// How a rollout changed: weights (only entries whose weight changed), the
/// order of its entries, what it buckets by, its salt.
fn rollout_changes(old: &Rollout, new: &Rollout) -> Vec<String> {
    let variant = |e: &RolloutEntry| e.variant.clone();
    let (was, now): (Vec<String>, Vec<String>) =
        (old.entries.iter().map(variant).collect(), new.entries.iter().map(variant).collect());
    let pairs = pair_up(&keys(was.iter()), &keys(now.iter()));
    let mut weights = Vec::new();
    for pair in &pairs {
        match *pair {
            Pair::Both(i, j) if !same_weight(&old.entries[i].weight, &new.entries[j].weight) => {
                weights.push(format!("{} {} % → {} %", now[j], old.entries[i].weight, new.entries[j].weight));
            }
            Pair::Both(..) => {}
            Pair::New(j) => weights.push(format!("{} added at {} %", now[j], new.entries[j].weight)),
            Pair::Old(i) => weights.push(format!("{} removed (was {} %)", was[i], old.entries[i].weight)),
        }
    }
    let mut changes = Vec::new();
    if !weights.is_empty() {
        changes.push(format!("rollout {}", weights.join(", ")));
    }
    if !moved_pairs(&pairs).is_empty() {
        changes.push("rollout order changed (users are re-bucketed)".to_string());
    }
    let bucket_by = |r: &Rollout| r.bucket_by.clone().unwrap_or_else(|| "targetingKey".to_string());
    if bucket_by(old) != bucket_by(new) {
        changes.push(format!("rollout buckets by {} → {}", bucket_by(old), bucket_by(new)));
    }
    if old.salt != new.salt {
        changes.push("rollout salt changed (users are re-bucketed)".to_string());
    }
    changes
}

/// Equal weights, however written (`25` and `25.0`).
fn same_weight(a: &Number, b: &Number) -> bool {
    match (Weight::nearest(a), Weight::nearest(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::read as parse;

    const EXAMPLE: &str = include_str!("../../examples/flags.json");

    fn file(json: &str) -> FlagFile {
        parse(json).unwrap()
    }

    /// A file with environments staging and production, segments `staff`
    /// and `beta` (which names `staff`), and these flags (object members).
    fn with_flags(flags: &str) -> FlagFile {
        file(&format!(
            r#"{{"version": 1, "environments": ["staging", "production"],
                "segments": {{"staff": {{"included": ["user-1"]}}, "beta": {{"match": {{"segment": "staff"}}}}}},
                "flags": {{{flags}}}}}"#
        ))
    }

    /// A boolean flag `f` with these production settings.
    fn production(settings: &str) -> FlagFile {
        with_flags(&format!(
            r#""f": {{"variants": {{"on": true, "off": false}}, "off": "off", "environments": {{"production": {settings}}}}}"#
        ))
    }

    /// Production settings with these rules and default `off`.
    fn rules(rules: &str) -> FlagFile {
        production(&format!(r#"{{"enabled": true, "rules": [{rules}], "default": {{"variant": "off"}}}}"#))
    }

    /// Production settings with no rules and this default.
    fn default(serve: &str) -> FlagFile {
        production(&format!(r#"{{"enabled": true, "default": {serve}}}"#))
    }

    /// Production settings with these targets.
    fn targets(targets: &str) -> FlagFile {
        production(&format!(r#"{{"enabled": true, "targets": {targets}, "default": {{"variant": "off"}}}}"#))
    }

    /// "subject: summary @ pointer", as the CLI prints it (plus the pointer).
    fn changes(old: &FlagFile, new: &FlagFile) -> Vec<String> {
        diff(old, new).iter().map(|c| format!("{}: {} @ {}", c.subject, c.summary, c.pointer)).collect()
    }

    fn kinds(old: &FlagFile, new: &FlagFile) -> Vec<ChangeKind> {
        diff(old, new).iter().map(|c| c.kind).collect()
    }

    fn rule(id: &str, segment: &str) -> String {
        format!(r#"{{"id": "{id}", "segment": "{segment}", "serve": {{"variant": "on"}}}}"#)
    }

    const PROD: &str = "/flags/f/environments/production";

    #[test]
    fn untouched_files_have_no_changes() {
        let example = file(EXAMPLE);
        assert_eq!(diff(&example, &example), []);
        assert_eq!(diff(&example, &file(EXAMPLE)), [], "separately parsed copies are equal too");
        assert_eq!(affected_flags(&example, &example, &[]), []);
    }

    #[test]
    fn a_rule_added_says_where() {
        let old = rules(&rule("staff", "staff"));
        let new = rules(&[rule("beta-10", "beta"), rule("staff", "staff")].join(","));
        assert_eq!(
            changes(&old, &new),
            [format!("f / production: rule `beta-10` added at position 1 @ {PROD}/rules/0")]
        );
        assert_eq!(kinds(&old, &new), [ChangeKind::Added]);
    }

    #[test]
    fn a_rule_removed_says_where_it_was() {
        let old = rules(&[rule("a", "staff"), rule("b", "staff"), rule("c", "staff")].join(","));
        let new = rules(&[rule("a", "staff"), rule("c", "staff")].join(","));
        assert_eq!(
            changes(&old, &new),
            [format!("f / production: rule `b` removed (was at position 2) @ {PROD}/rules/1")]
        );
        assert_eq!(kinds(&old, &new), [ChangeKind::Removed]);
    }

    #[test]
    fn a_rule_moved_to_the_top_is_the_only_move() {
        let old = rules(&["a", "b", "c", "d"].map(|id| rule(id, "staff")).join(","));
        let new = rules(&["d", "a", "b", "c"].map(|id| rule(id, "staff")).join(","));
        assert_eq!(
            changes(&old, &new),
            [format!("f / production: rule `d` moved from position 4 to 1 @ {PROD}/rules/0")]
        );
        assert_eq!(kinds(&old, &new), [ChangeKind::Moved]);
    }

    #[test]
    fn a_rule_changed_says_what_changed() {
        let old = rules(&rule("staff", "staff"));
        let new = rules(
            r#"{"id": "staff", "description": "Beta people", "segment": "beta",
                "match": {"attribute": "plan", "op": "in", "values": ["pro"]}, "serve": {"variant": "off"}}"#,
        );
        assert_eq!(
            changes(&old, &new),
            [
                format!(
                    "f / production: rule `staff`: description set to \"Beta people\" @ {PROD}/rules/0/description"
                ),
                format!("f / production: rule `staff`: segment staff → beta @ {PROD}/rules/0/segment"),
                format!("f / production: rule `staff`: condition added @ {PROD}/rules/0/match"),
                format!("f / production: rule `staff`: serves on → off @ {PROD}/rules/0/serve"),
            ]
        );
        let everyone = rules(r#"{"id": "staff", "serve": {"variant": "off"}}"#);
        assert_eq!(
            changes(&new, &everyone),
            [
                format!(
                    "f / production: rule `staff`: description removed (was \"Beta people\") @ {PROD}/rules/0/description"
                ),
                format!("f / production: rule `staff`: segment beta → everyone @ {PROD}/rules/0/segment"),
                format!("f / production: rule `staff`: condition removed @ {PROD}/rules/0/match"),
            ]
        );
    }

    #[test]
    fn weights_changed_say_from_and_to() {
        let rollout = |on: &str, off: &str| {
            format!(r#"{{"rollout": [{{"variant": "on", "weight": {on}}}, {{"variant": "off", "weight": {off}}}]}}"#)
        };
        assert_eq!(
            changes(&default(&rollout("5", "95")), &default(&rollout("10", "90"))),
            [format!("f / production: default rollout on 5 % → 10 %, off 95 % → 90 % @ {PROD}/default")]
        );
        let in_rule = |serve: &str| rules(&format!(r#"{{"id": "x", "serve": {serve}}}"#));
        assert_eq!(
            changes(&in_rule(&rollout("33.333", "66.667")), &in_rule(&rollout("50", "50"))),
            [format!(
                "f / production: rule `x`: rollout on 33.333 % → 50 %, off 66.667 % → 50 % @ {PROD}/rules/0/serve"
            )]
        );
    }

    #[test]
    fn only_the_weights_that_changed_are_listed() {
        let three = |a: &str, b: &str, c: &str| {
            with_flags(&format!(
                r#""f": {{"variants": {{"a": 1, "b": 2, "c": 3}}, "off": "a", "environments": {{"production":
                    {{"enabled": true, "default": {{"rollout": [{{"variant": "a", "weight": {a}}},
                      {{"variant": "b", "weight": {b}}}, {{"variant": "c", "weight": {c}}}]}}}}}}}}"#
            ))
        };
        assert_eq!(
            changes(&three("33.333", "33.333", "33.334"), &three("50", "16.666", "33.334")),
            [format!("f / production: default rollout a 33.333 % → 50 %, b 33.333 % → 16.666 % @ {PROD}/default")]
        );
    }

    #[test]
    fn weights_written_differently_are_no_change() {
        let rollout = |on: &str| {
            default(&format!(
                r#"{{"rollout": [{{"variant": "on", "weight": {on}}}, {{"variant": "off", "weight": 75}}]}}"#
            ))
        };
        assert_eq!(diff(&rollout("25"), &rollout("25.0")), []);
    }

    #[test]
    fn a_variant_served_becomes_a_rollout() {
        let rollout = r#"{"rollout": [{"variant": "on", "weight": 10}, {"variant": "off", "weight": 90}]}"#;
        let on = r#"{"variant": "on"}"#;
        assert_eq!(
            changes(&default(on), &default(rollout)),
            [format!("f / production: default serves on → rollout on 10 %, off 90 % @ {PROD}/default")]
        );
        assert_eq!(
            changes(&default(rollout), &default(on)),
            [format!("f / production: default serves rollout on 10 %, off 90 % → on @ {PROD}/default")]
        );
        assert_eq!(
            changes(&default(on), &default(r#"{"variant": "off"}"#)),
            [format!("f / production: default on → off @ {PROD}/default")]
        );
        let in_rule = |serve: &str| rules(&format!(r#"{{"id": "x", "serve": {serve}}}"#));
        assert_eq!(
            changes(&in_rule(on), &in_rule(rollout)),
            [format!("f / production: rule `x`: serves on → rollout on 10 %, off 90 % @ {PROD}/rules/0/serve")]
        );
    }

    #[test]
    fn rebucketing_changes_are_called_out() {
        let plain = default(r#"{"rollout": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}"#);
        let by_company = default(
            r#"{"rollout": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}],
                "bucket_by": "company.id", "salt": "exp-2"}"#,
        );
        assert_eq!(
            changes(&plain, &by_company),
            [
                format!("f / production: default rollout buckets by targetingKey → company.id @ {PROD}/default"),
                format!("f / production: default rollout salt changed (users are re-bucketed) @ {PROD}/default"),
            ]
        );
        let swapped = default(r#"{"rollout": [{"variant": "off", "weight": 50}, {"variant": "on", "weight": 50}]}"#);
        assert_eq!(
            changes(&plain, &swapped),
            [format!("f / production: default rollout order changed (users are re-bucketed) @ {PROD}/default")]
        );
    }

    #[test]
    fn targets_added_removed_and_moved_are_listed() {
        let old = targets(r#"{"on": ["user-42"], "off": ["user-13", "user-7"]}"#);
        let new = targets(r#"{"on": ["user-42", "user-7", "user-99"], "off": []}"#);
        assert_eq!(
            changes(&old, &new),
            [
                format!("f / production: target `user-99` added to `on` @ {PROD}/targets/on/2"),
                format!("f / production: target `user-7` moved from `off` to `on` @ {PROD}/targets/on/1"),
                format!("f / production: target `user-13` removed from `off` @ {PROD}/targets/off/0"),
            ]
        );
        assert_eq!(kinds(&old, &new), [ChangeKind::Added, ChangeKind::Changed, ChangeKind::Removed]);
    }

    #[test]
    fn many_targets_are_summarized() {
        let users = |n: usize| (1..=n).map(|i| format!("\"user-{i}\"")).collect::<Vec<_>>().join(", ");
        let none = targets("{}");
        assert_eq!(
            changes(&none, &targets(&format!(r#"{{"on": [{}]}}"#, users(12)))),
            [format!("f / production: 12 targets added to `on`: user-1, user-2, user-3, … @ {PROD}/targets/on")]
        );
        assert_eq!(
            diff(&none, &targets(&format!(r#"{{"on": [{}]}}"#, users(5)))).len(),
            5,
            "five are listed one by one"
        );
    }

    #[test]
    fn prerequisites_are_matched_by_flag() {
        let with = |prerequisites: &str| {
            production(&format!(
                r#"{{"enabled": true, "prerequisites": [{prerequisites}], "default": {{"variant": "on"}}}}"#
            ))
        };
        let old = with(r#"{"flag": "p", "variants": ["on"]}, {"flag": "q", "variants": ["on"]}"#);
        let new = with(r#"{"flag": "p", "variants": ["on", "beta"]}, {"flag": "r", "variants": ["on"]}"#);
        assert_eq!(
            changes(&old, &new),
            [
                format!("f / production: prerequisite `p`: needs on → on, beta @ {PROD}/prerequisites/0/variants"),
                format!("f / production: prerequisite `q` removed @ {PROD}/prerequisites/1"),
                format!("f / production: prerequisite `r` added (needs on) @ {PROD}/prerequisites/1"),
            ]
        );
    }

    #[test]
    fn the_kill_switch_names_the_off_variant() {
        let (on, off) = (
            production(r#"{"enabled": true, "default": {"variant": "on"}}"#),
            production(r#"{"enabled": false, "default": {"variant": "on"}}"#),
        );
        assert_eq!(changes(&on, &off), [format!("f / production: turned off (everyone gets `off`) @ {PROD}/enabled")]);
        assert_eq!(changes(&off, &on), [format!("f / production: turned on @ {PROD}/enabled")]);
    }

    #[test]
    fn settings_added_and_removed_say_what_they_are() {
        let flag = |staging: &str| {
            with_flags(&format!(
                r#""f": {{"variants": {{"on": true, "off": false}}, "off": "off", "environments": {{{staging}
                    "production": {{"enabled": true, "default": {{"variant": "on"}}}}}}}}"#
            ))
        };
        let without = flag("");
        let with = flag(r#""staging": {"enabled": true, "default": {"variant": "on"}},"#);
        assert_eq!(
            changes(&without, &with),
            ["f / staging: settings added: enabled, default on @ /flags/f/environments/staging"]
        );
        assert_eq!(
            changes(&with, &without),
            ["f / staging: settings removed: the flag is off here @ /flags/f/environments/staging"]
        );
        let with_rules = flag(&format!(
            r#""staging": {{"enabled": false, "rules": [{}], "default": {{"variant": "off"}}}},"#,
            rule("staff", "staff")
        ));
        assert_eq!(
            changes(&without, &with_rules),
            ["f / staging: settings added: disabled, 1 rule, default off @ /flags/f/environments/staging"]
        );
    }

    #[test]
    fn a_flag_definition_comes_before_its_environments() {
        let old = with_flags(
            r#""f": {"description": "Old text", "stage": "beta", "variants": {"a": "x", "b": "y", "gone": "z"},
                "off": "a", "environments": {"production": {"enabled": true, "default": {"variant": "a"}}}}"#,
        );
        let new = with_flags(
            r#""f": {"description": "New text", "stage": "ga", "variants": {"a": "x", "b": "w", "new": "v"},
                "off": "b", "environments": {"production": {"enabled": true, "default": {"variant": "b"}}}}"#,
        );
        assert_eq!(
            changes(&old, &new),
            [
                "flag `f`: description \"Old text\" → \"New text\" @ /flags/f/description",
                "flag `f`: stage beta → ga @ /flags/f/stage",
                "flag `f`: variant `b`: value \"y\" → \"w\" @ /flags/f/variants/b",
                "flag `f`: variant `gone` removed @ /flags/f/variants/gone",
                "flag `f`: variant `new` added (value \"v\") @ /flags/f/variants/new",
                "flag `f`: off variant a → b @ /flags/f/off",
                "f / production: default a → b @ /flags/f/environments/production/default",
            ]
        );
    }

    #[test]
    fn stages_set_and_removed_and_variants_reordered() {
        let flag = |stage: &str, variants: &str| {
            with_flags(&format!(
                r#""f": {{{stage} "variants": {variants}, "off": "off",
                    "environments": {{"production": {{"enabled": true, "default": {{"variant": "on"}}}}}}}}"#
            ))
        };
        let (none, beta) =
            (flag("", r#"{"on": true, "off": false}"#), flag(r#""stage": "beta","#, r#"{"on": true, "off": false}"#));
        assert_eq!(changes(&none, &beta), ["flag `f`: stage set to beta @ /flags/f/stage"]);
        assert_eq!(changes(&beta, &none), ["flag `f`: stage removed (was beta) @ /flags/f/stage"]);
        let reordered = flag("", r#"{"off": false, "on": true}"#);
        assert_eq!(changes(&none, &reordered), ["flag `f`: variants reordered @ /flags/f/variants"]);
        assert_eq!(kinds(&none, &reordered), [ChangeKind::Moved]);
    }

    #[test]
    fn long_descriptions_are_not_quoted() {
        let flag = |description: &str| {
            with_flags(&format!(
                r#""f": {{"description": "{description}", "variants": {{"on": true}}, "off": "on", "environments": {{}}}}"#
            ))
        };
        let long = "A description long enough that quoting it would drown the summary in text";
        assert_eq!(changes(&flag("Short"), &flag(long)), ["flag `f`: description changed @ /flags/f/description"]);
    }

    #[test]
    fn a_flag_added_says_what_it_is() {
        let empty = with_flags("");
        let added = with_flags(
            r#""g": {"variants": {"on": true, "off": false}, "off": "off", "environments": {
                  "staging": {"enabled": false, "default": {"variant": "on"}},
                  "production": {"enabled": true, "default": {"variant": "on"}}}},
               "n": {"variants": {"low": 1, "high": 2}, "off": "low", "environments": {}}"#,
        );
        assert_eq!(
            changes(&empty, &added),
            [
                "flag `g`: flag added (boolean: on, off; enabled in production) @ /flags/g",
                "flag `n`: flag added (number: low, high; disabled everywhere) @ /flags/n",
            ]
        );
        assert_eq!(changes(&added, &empty), ["flag `g`: flag removed @ /flags/g", "flag `n`: flag removed @ /flags/n"]);
        assert_eq!(kinds(&added, &empty), [ChangeKind::Removed, ChangeKind::Removed]);
    }

    #[test]
    fn removed_flags_stay_after_the_flag_they_followed() {
        let flag = |key: &str, description: &str| {
            format!(
                r#""{key}": {{"description": "{description}", "variants": {{"on": true}}, "off": "on", "environments": {{}}}}"#
            )
        };
        let old = with_flags(&[flag("x", "X"), flag("a", "A"), flag("b", "B")].join(","));
        let new = with_flags(&[flag("a", "A2"), flag("n", "N")].join(","));
        assert_eq!(
            changes(&old, &new),
            [
                "flag `a`: description \"A\" → \"A2\" @ /flags/a/description",
                "flag `b`: flag removed @ /flags/b",
                "flag `n`: flag added (boolean: on; disabled everywhere) @ /flags/n",
                "flag `x`: flag removed @ /flags/x",
            ],
            "`b` follows `a`, as it did; `x` followed no kept flag, so it comes last"
        );
    }

    #[test]
    fn a_renamed_flag_is_one_change() {
        let flag = |key: &str, default: &str| {
            with_flags(&format!(
                r#""{key}": {{"variants": {{"on": true, "off": false}}, "off": "off",
                    "environments": {{"production": {{"enabled": true, "default": {{"variant": "{default}"}}}}}}}}"#
            ))
        };
        assert_eq!(
            changes(&flag("old-name", "on"), &flag("new-name", "on")),
            ["flag `new-name`: renamed from `old-name` @ /flags/new-name"]
        );
        assert_eq!(kinds(&flag("old-name", "on"), &flag("new-name", "on")), [ChangeKind::Changed]);
        assert_eq!(
            changes(&flag("old-name", "on"), &flag("new-name", "off")),
            [
                "flag `new-name`: flag added (boolean: on, off; enabled in production) @ /flags/new-name",
                "flag `old-name`: flag removed @ /flags/old-name",
            ],
            "renamed and changed is removed and added"
        );
    }

    #[test]
    fn a_renamed_segment_is_one_change() {
        let segments = |staff: &str| {
            file(&format!(
                r#"{{"version": 1, "environments": ["production"], "flags": {{}},
                    "segments": {{"{staff}": {{"included": ["user-1"]}}, "other": {{"included": ["user-2"]}}}}}}"#
            ))
        };
        assert_eq!(
            changes(&segments("staff"), &segments("team")),
            ["segment `team`: renamed from `staff` @ /segments/team"]
        );
    }

    #[test]
    fn segment_changes_list_keys_and_conditions() {
        let segment = |staff: &str| {
            file(&format!(
                r#"{{"version": 1, "environments": ["production"], "flags": {{}}, "segments": {{"staff": {staff}}}}}"#
            ))
        };
        let old = segment(
            r#"{"description": "Staff", "included": ["user-1", "user-3"],
                "match": {"attribute": "email", "op": "ends_with", "values": ["@example.com"]}}"#,
        );
        let new = segment(
            r#"{"description": "Our staff", "included": ["user-1", "user-2", "user-4"], "excluded": ["user-9"]}"#,
        );
        assert_eq!(
            changes(&old, &new),
            [
                "segment `staff`: description \"Staff\" → \"Our staff\" @ /segments/staff/description",
                "segment `staff`: included: user-2, user-4 added; user-3 removed @ /segments/staff/included",
                "segment `staff`: excluded: user-9 added @ /segments/staff/excluded",
                "segment `staff`: condition removed @ /segments/staff/match",
            ]
        );
        assert_eq!(
            kinds(&old, &new),
            [ChangeKind::Changed, ChangeKind::Changed, ChangeKind::Added, ChangeKind::Removed]
        );
        let changed_condition = segment(
            r#"{"description": "Staff", "included": ["user-1", "user-3"],
                "match": {"attribute": "email", "op": "ends_with", "values": ["@example.org"]}}"#,
        );
        assert_eq!(changes(&old, &changed_condition), ["segment `staff`: condition changed @ /segments/staff/match"]);
        let none = file(r#"{"version": 1, "environments": ["production"], "flags": {}}"#);
        assert_eq!(
            changes(&none, &old),
            ["segment `staff`: segment added (2 included, with a condition) @ /segments/staff"]
        );
        assert_eq!(changes(&old, &none), ["segment `staff`: segment removed @ /segments/staff"]);
    }

    #[test]
    fn the_files_own_fields() {
        let old = file(
            r#"{"$schema": "a.json", "version": 1, "environments": ["dev", "staging", "production"], "flags": {}}"#,
        );
        let new = file(
            r#"{"$schema": "b.json", "version": 2, "environments": ["production", "staging", "qa"], "flags": {}}"#,
        );
        assert_eq!(
            changes(&old, &new),
            [
                "the file: $schema \"a.json\" → \"b.json\" @ /$schema",
                "the file: version 1 → 2 @ /version",
                "the file: environment `qa` added @ /environments/2",
                "the file: environment `dev` removed @ /environments/0",
                "the file: environments reordered @ /environments",
            ]
        );
    }

    /// A file with these stages (JSON list), or the default ones.
    fn stages(stages: Option<&str>) -> FlagFile {
        let stages = stages.map(|s| format!(r#""stages": {s},"#)).unwrap_or_default();
        file(&format!(r#"{{"version": 1, "environments": ["production"], {stages} "flags": {{}}}}"#))
    }

    const DEFAULT_STAGES: &str = r#"[{"key": "in-development", "name": "In development"},
        {"key": "internal", "name": "Internal"}, {"key": "beta", "name": "Beta"},
        {"key": "ga", "name": "General availability"}]"#;

    #[test]
    fn default_stages_written_out_are_no_change() {
        assert_eq!(diff(&stages(None), &stages(Some(DEFAULT_STAGES))), []);
        assert_eq!(diff(&stages(Some(DEFAULT_STAGES)), &stages(None)), []);
        let renamed = DEFAULT_STAGES.replace(r#""name": "Beta""#, r#""name": "Public beta""#);
        assert_eq!(
            changes(&stages(None), &stages(Some(&renamed))),
            ["stage `beta`: name Beta → Public beta @ /stages/2/name"]
        );
    }

    #[test]
    fn stages_added_removed_moved_and_changed() {
        let new = stages(Some(
            r#"[{"key": "in-development", "name": "In development"}, {"key": "beta", "name": "Beta"},
                {"key": "internal", "name": "Internal", "template": {"production": {"default": {"variant": "off"}}}},
                {"key": "ga", "name": "General availability", "description": "Everyone"},
                {"key": "retired", "name": "Retired"}]"#,
        ));
        assert_eq!(
            changes(&stages(None), &new),
            [
                "stage `beta`: moved from position 3 to 2 @ /stages/1",
                "stage `internal`: template added @ /stages/2/template",
                "stage `ga`: description set to \"Everyone\" @ /stages/3/description",
                "stage `retired`: stage added (Retired) @ /stages/4",
            ]
        );
        let without_ga = stages(Some(&DEFAULT_STAGES.replace(
            r#",
        {"key": "ga", "name": "General availability"}"#,
            "",
        )));
        assert_eq!(
            changes(&stages(None), &without_ga),
            ["stage `ga`: stage removed @ /stages"],
            "the old file lists no stages"
        );
    }

    #[test]
    fn environments_come_in_the_files_order() {
        let flag = |description: &str, default: &str| {
            with_flags(&format!(
                r#""f": {{"description": "{description}", "variants": {{"on": true, "off": false}}, "off": "off",
                    "environments": {{"production": {{"enabled": true, "default": {{"variant": "{default}"}}}},
                                      "staging": {{"enabled": true, "default": {{"variant": "{default}"}}}}}}}}"#
            ))
        };
        let subjects: Vec<String> =
            diff(&flag("A", "on"), &flag("B", "off")).iter().map(|c| c.subject.to_string()).collect();
        assert_eq!(subjects, ["flag `f`", "f / staging", "f / production"]);
    }

    #[test]
    fn a_segment_change_affects_flags_using_it_through_other_segments() {
        let world = |staff: &str, description: &str, other: &str| {
            file(&format!(
                r#"{{"version": 1, "environments": ["production"],
                  "segments": {{"staff": {{"included": [{staff}]}}, "beta": {{"match": {{"segment": "staff"}}}},
                               "vip": {{"match": {{"any": [{{"segment": "beta"}}]}}}} {other}}},
                  "flags": {{
                    "direct": {{"variants": {{"on": true}}, "off": "on", "environments": {{"production":
                        {{"enabled": true, "rules": [{{"id": "r", "segment": "staff", "serve": {{"variant": "on"}}}}],
                          "default": {{"variant": "on"}}}}}}}},
                    "via-condition": {{"variants": {{"on": true}}, "off": "on", "environments": {{"production":
                        {{"enabled": true, "rules": [{{"id": "r", "match": {{"segment": "vip"}}, "serve": {{"variant": "on"}}}}],
                          "default": {{"variant": "on"}}}}}}}},
                    "unrelated": {{"variants": {{"on": true}}, "off": "on", "environments": {{"production":
                        {{"enabled": true, "rules": [{{"id": "r", "segment": "other", "serve": {{"variant": "on"}}}}],
                          "default": {{"variant": "on"}}}}}}}},
                    "changed": {{"description": "{description}", "variants": {{"on": true}}, "off": "on",
                        "environments": {{"production": {{"enabled": true,
                          "rules": [{{"id": "r", "segment": "staff", "serve": {{"variant": "on"}}}}], "default": {{"variant": "on"}}}}}}}}}}}}"#
            ))
        };
        let other = r#", "other": {"included": ["x"]}"#;
        let (old, new) = (world(r#""user-1""#, "A", other), world(r#""user-1", "user-2""#, "B", other));
        let staff = || AffectedBy::Segment("staff".into());
        assert_eq!(
            affected_flags(&old, &new, &diff(&old, &new)),
            [
                Affected { flag: "direct".into(), by: staff() },
                Affected { flag: "via-condition".into(), by: staff() },
                Affected { flag: "changed".into(), by: AffectedBy::Changed },
            ]
        );
        let without_other = world(r#""user-1""#, "A", "");
        assert_eq!(
            affected_flags(&old, &without_other, &diff(&old, &without_other)),
            [Affected { flag: "unrelated".into(), by: AffectedBy::Segment("other".into()) }],
            "a removed segment affects the flags still naming it"
        );
    }

    #[test]
    fn prerequisites_carry_the_effect() {
        let flag = |key: &str, description: &str, prerequisites: &[&str]| {
            let prerequisites: Vec<String> =
                prerequisites.iter().map(|p| format!(r#"{{"flag": "{p}", "variants": ["on"]}}"#)).collect();
            format!(
                r#""{key}": {{"description": "{description}", "variants": {{"on": true}}, "off": "on", "environments":
                    {{"production": {{"enabled": true, "prerequisites": [{}], "default": {{"variant": "on"}}}}}}}}"#,
                prerequisites.join(",")
            )
        };
        let old = with_flags(
            &[
                flag("a", "A", &[]),
                flag("b", "", &["a"]),
                flag("c", "", &["b"]),
                flag("d", "", &["x"]),
                flag("e", "", &["d", "b"]),
                flag("r", "", &[]),
                flag("s", "", &["r"]),
                flag("x", "", &[]),
            ]
            .join(","),
        );
        let new = with_flags(
            &[
                flag("a", "A2", &[]),
                flag("b", "", &["a"]),
                flag("c", "", &["b"]),
                flag("d", "", &["x"]),
                flag("e", "", &["d", "b"]),
                flag("s", "", &["r"]),
                flag("x", "", &[]),
            ]
            .join(","),
        );
        let by = |flag: &str, by: AffectedBy| Affected { flag: flag.into(), by };
        let prerequisite = |p: &str| AffectedBy::Prerequisite(p.into());
        assert_eq!(
            affected_flags(&old, &new, &diff(&old, &new)),
            [
                by("a", AffectedBy::Changed),
                by("b", prerequisite("a")),
                by("c", prerequisite("b")),
                by("e", prerequisite("b")),
                by("s", prerequisite("r")),
                by("r", AffectedBy::Changed),
            ]
        );
    }

    #[test]
    fn a_realistic_edit_of_the_example_lists_every_change() {
        let old = file(EXAMPLE);
        let mut new = old.clone();
        new.stages.as_mut().unwrap()[2].name = "Public beta".into();
        let beta_testers = new.segments.as_mut().unwrap().get_mut("beta-testers").unwrap();
        Arc::make_mut(beta_testers).included.as_mut().unwrap().push("user-2004".into());
        let checkout = Arc::make_mut(new.flags.get_mut("new-checkout").unwrap());
        let production = checkout.environments.get_mut("production").unwrap();
        production.rules.as_mut().unwrap().push(
            serde_json::from_str(
                r#"{"id": "enterprise-preview", "segment": "enterprise-companies", "serve": {"variant": "on"}}"#,
            )
            .unwrap(),
        );
        production.default =
            serde_json::from_str(r#"{"rollout": [{"variant": "on", "weight": 25}, {"variant": "off", "weight": 75}]}"#)
                .unwrap();
        let assistant = Arc::make_mut(new.flags.get_mut("ai-assistant").unwrap());
        let targets = assistant.environments.get_mut("production").unwrap().targets.as_mut().unwrap();
        targets.get_mut("on").unwrap().push("user-6001".into());
        let collaboration = Arc::make_mut(new.flags.get_mut("realtime-collaboration").unwrap());
        collaboration.environments.get_mut("staging").unwrap().enabled = false;
        new.flags.shift_remove("legacy-pricing");

        let changes_made = diff(&old, &new);
        let lines: Vec<String> =
            changes_made.iter().map(|c| format!("{}: {} @ {}", c.subject, c.summary, c.pointer)).collect();
        assert_eq!(
            lines,
            [
                "stage `beta`: name Beta → Public beta @ /stages/2/name",
                "segment `beta-testers`: included: user-2004 added @ /segments/beta-testers/included",
                "new-checkout / production: rule `enterprise-preview` added at position 3 \
                 @ /flags/new-checkout/environments/production/rules/2",
                "new-checkout / production: default rollout on 10 % → 25 %, off 90 % → 75 % \
                 @ /flags/new-checkout/environments/production/default",
                "flag `legacy-pricing`: flag removed @ /flags/legacy-pricing",
                "ai-assistant / production: target `user-6001` added to `on` \
                 @ /flags/ai-assistant/environments/production/targets/on/2",
                "realtime-collaboration / staging: turned off (everyone gets `off`) \
                 @ /flags/realtime-collaboration/environments/staging/enabled",
            ]
        );
        let affected: Vec<(String, AffectedBy)> =
            affected_flags(&old, &new, &changes_made).into_iter().map(|a| (a.flag, a.by)).collect();
        assert_eq!(
            affected,
            [
                ("new-checkout".into(), AffectedBy::Changed),
                ("checkout-upsell".into(), AffectedBy::Prerequisite("new-checkout".into())),
                ("ai-assistant".into(), AffectedBy::Changed),
                ("realtime-collaboration".into(), AffectedBy::Changed),
                ("legacy-pricing".into(), AffectedBy::Changed),
            ]
        );
    }

    #[test]
    fn ten_thousand_flags_with_one_changed_give_one_change() {
        let flags: Vec<String> = (0..10_000)
            .map(|i| {
                format!(
                    r#""flag-{i}": {{"variants": {{"on": true, "off": false}}, "off": "off", "environments":
                        {{"production": {{"enabled": true, "rules": [{{"id": "staff", "segment": "staff",
                          "serve": {{"variant": "on"}}}}], "default": {{"variant": "off"}}}}}}}}"#
                )
            })
            .collect();
        let old = with_flags(&flags.join(","));
        let turn_off = |file: &mut FlagFile| {
            let flag = Arc::make_mut(file.flags.get_mut("flag-5000").unwrap());
            flag.environments.get_mut("production").unwrap().enabled = false;
        };
        let mut shared = old.clone();
        turn_off(&mut shared);
        let expected = [
            "flag-5000 / production: turned off (everyone gets `off`) @ /flags/flag-5000/environments/production/enabled",
        ];
        assert_eq!(changes(&old, &shared), expected, "a copy sharing every other flag");
        let mut separate = with_flags(&flags.join(","));
        turn_off(&mut separate);
        assert_eq!(changes(&old, &separate), expected, "a separately parsed file");
    }
}
