//! The flags file as written: serde types that mirror `flags-file.md` field for
//! field, in the order the contract lists them.
//!
//! These types are what the editor edits and what [`crate::serialize`] writes.
//! They accept any structurally well-formed file; whether it *makes sense*
//! (references resolve, weights add up, no cycles) is [`crate::validate`]'s job,
//! and turning it into something fast to evaluate is [`crate::compile`]'s.
//! Maps are [`IndexMap`]s so that the order people wrote is the order we write.
//!
//! Flags and segments are held in [`Arc`]s: a copy of a [`FlagFile`] (an
//! editor's undo step, a preview's snapshot) shares every flag it does not
//! change, and comparing two copies skips the shared ones. Change one with
//! [`Arc::make_mut`], which copies only that flag when it is shared.

use std::sync::Arc;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::diagnostic::Pointer;

/// Lists and maps read from a file grow by doubling; a big file's model
/// holds hundreds of thousands of them, so what is read gives back its slack.
trait Shrink {
    fn shrink(&mut self);
}

impl<T> Shrink for Vec<T> {
    fn shrink(&mut self) {
        self.shrink_to_fit();
    }
}

impl<V: Shrink> Shrink for IndexMap<String, V> {
    fn shrink(&mut self) {
        self.shrink_to_fit();
        self.values_mut().for_each(Shrink::shrink);
    }
}

impl<T: Shrink> Shrink for Option<T> {
    fn shrink(&mut self) {
        if let Some(t) = self {
            t.shrink();
        }
    }
}

impl Shrink for Value {
    fn shrink(&mut self) {}
}

impl Shrink for FlagEnvironment {
    fn shrink(&mut self) {}
}

/// Deserialize, then [`Shrink`].
fn shrunk<'de, D: serde::Deserializer<'de>, T: Deserialize<'de> + Shrink>(d: D) -> Result<T, D::Error> {
    let mut t = T::deserialize(d)?;
    t.shrink();
    Ok(t)
}

/// A whole flags file (format version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Burgee flags file",
    description = "One project's feature flags for all of its environments (format version 1)."
)]
pub struct FlagFile {
    /// Where editors find the JSON Schema; ignored by Burgee.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The format version; must be 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u64,
    /// The environments flags are configured for, e.g. `development`, `production`.
    #[schemars(length(min = 1))]
    pub environments: Vec<String>,
    /// Release stages; when absent, the four default stages apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<Stage>>,
    /// Reusable groups of users or companies, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("propertyNames" = {"pattern": KEY_PATTERN, "maxLength": 128}))]
    pub segments: Option<IndexMap<String, Arc<Segment>>>,
    /// The flags, by key.
    #[schemars(extend("propertyNames" = {"pattern": KEY_PATTERN, "maxLength": 128}))]
    pub flags: IndexMap<String, Arc<Flag>>,
}

/// The pattern every key (flag, segment, stage, variant, environment, rule id) matches.
pub const KEY_PATTERN: &str = "^[A-Za-z0-9_.-]{1,128}$";

/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// A release stage, such as "Beta".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// The key flags use to name this stage.
    #[schemars(regex(pattern = KEY_PATTERN))]
    pub key: String,
    /// The name people see.
    pub name: String,
    /// What the stage means, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Per environment, the rules and default the editor applies to a flag that
    /// moves to this stage. Evaluation ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<IndexMap<String, StageTemplate>>,
}

/// What a stage's template sets in one environment of a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageTemplate {
    /// The rules to install, replacing the flag's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Rule>>,
    /// The default to install, replacing the flag's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Serve>,
}

/// A segment: users or companies matched by key lists and attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// What the segment is, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Targeting keys that are always in the segment (unless excluded).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    pub included: Option<Vec<String>>,
    /// Targeting keys that are never in the segment; beats everything.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    pub excluded: Option<Vec<String>>,
    /// The condition that puts a context in the segment.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<Condition>,
}

/// A feature flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    /// What the flag does, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The key of the flag's release stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The values the flag can take, by variant key; all of one JSON type.
    #[schemars(extend("minProperties" = 1, "propertyNames" = {"pattern": KEY_PATTERN, "maxLength": 128}))]
    #[serde(deserialize_with = "shrunk")]
    pub variants: IndexMap<String, Value>,
    /// The variant served wherever the flag is disabled.
    pub off: String,
    /// The flag's settings per environment; a missing one means disabled there.
    #[serde(deserialize_with = "shrunk")]
    pub environments: IndexMap<String, FlagEnvironment>,
}

/// A flag's settings in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagEnvironment {
    /// The kill switch: when false, everyone gets the `off` variant.
    pub enabled: bool,
    /// Flags that must serve one of the listed variants first.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    pub prerequisites: Option<Vec<Prerequisite>>,
    /// Individual targets: variant key → targeting keys. Beats every rule.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    pub targets: Option<IndexMap<String, Vec<String>>>,
    /// Rules in priority order; the first that matches decides.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    pub rules: Option<Vec<Rule>>,
    /// What everyone else gets.
    pub default: Serve,
}

/// A prerequisite: another flag must serve one of these variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prerequisite {
    /// The key of the flag that must be served first.
    pub flag: String,
    /// The variants of that flag that let this one through.
    #[schemars(length(min = 1))]
    pub variants: Vec<String>,
}

/// A targeting rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The rule's id, unique within its flag environment.
    #[schemars(regex(pattern = KEY_PATTERN))]
    pub id: String,
    /// What the rule is for, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A segment the context must be in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// A condition the context must meet.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<Condition>,
    /// What a matching context gets.
    pub serve: Serve,
}

/// What to serve: one variant, or a percentage rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ServeFields", into = "ServeFields")]
pub enum Serve {
    /// Always this variant.
    Variant(String),
    /// A sticky percentage split.
    Rollout(Rollout),
}

/// A percentage rollout across variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// The variants and their weights, in bucket order.
    pub entries: Vec<RolloutEntry>,
    /// The attribute path whose value is hashed; `targetingKey` when absent.
    pub bucket_by: Option<String>,
    /// The hash salt; the flag's key when absent.
    pub salt: Option<String>,
}

/// One variant's share of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutEntry {
    /// The variant key.
    pub variant: String,
    /// Its share, a percentage with at most 3 decimals. Kept as written
    /// (`25` stays `25`, `25.0` stays `25.0`).
    #[schemars(with = "f64", range(min = 0, max = 100))]
    pub weight: Number,
}

/// The serve object as it appears in JSON, before we know which kind it is.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ServeFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    rollout: Option<Vec<RolloutEntry>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bucket_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
}

impl TryFrom<ServeFields> for Serve {
    type Error = String;
    fn try_from(f: ServeFields) -> Result<Self, String> {
        match (f.variant, f.rollout) {
            (Some(v), None) => {
                if f.bucket_by.is_some() || f.salt.is_some() {
                    Err("`bucket_by` and `salt` belong to a rollout, not to a single variant".into())
                } else {
                    Ok(Serve::Variant(v))
                }
            }
            (None, Some(entries)) => Ok(Serve::Rollout(Rollout { entries, bucket_by: f.bucket_by, salt: f.salt })),
            (Some(_), Some(_)) => Err("a serve has either `variant` or `rollout`, not both".into()),
            (None, None) => Err("a serve needs `variant` or `rollout`".into()),
        }
    }
}

impl From<Serve> for ServeFields {
    fn from(s: Serve) -> Self {
        match s {
            Serve::Variant(v) => ServeFields { variant: Some(v), rollout: None, bucket_by: None, salt: None },
            Serve::Rollout(r) => {
                ServeFields { variant: None, rollout: Some(r.entries), bucket_by: r.bucket_by, salt: r.salt }
            }
        }
    }
}

/// A condition tree over the evaluation context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConditionFields", into = "ConditionFields")]
pub enum Condition {
    /// Every child holds (an empty list holds).
    All(Vec<Condition>),
    /// At least one child holds (an empty list does not hold).
    Any(Vec<Condition>),
    /// No child holds.
    None(Vec<Condition>),
    /// The context is in this segment.
    Segment(String),
    /// An attribute test.
    Leaf(Leaf),
}

/// An attribute test: `attribute` `op` any of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// A dot-separated attribute path, e.g. `company.plan`.
    pub attribute: String,
    /// The comparison.
    pub op: Op,
    /// The values to compare with; the leaf holds when any value holds.
    pub values: Vec<Value>,
}

/// The comparison operators of a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // each op is documented in the contract's table; names say it
pub enum Op {
    In,
    NotIn,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Matches,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverLt,
    SemverLte,
    SemverGt,
    SemverGte,
    Before,
    After,
    Exists,
    NotExists,
    Percent,
}

impl Op {
    /// Every op, in the contract's order.
    pub const ALL: [Op; 21] = [
        Op::In,
        Op::NotIn,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::EndsWith,
        Op::Matches,
        Op::Lt,
        Op::Lte,
        Op::Gt,
        Op::Gte,
        Op::SemverEq,
        Op::SemverLt,
        Op::SemverLte,
        Op::SemverGt,
        Op::SemverGte,
        Op::Before,
        Op::After,
        Op::Exists,
        Op::NotExists,
        Op::Percent,
    ];

    /// The op's name as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Matches => "matches",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::SemverEq => "semver_eq",
            Op::SemverLt => "semver_lt",
            Op::SemverLte => "semver_lte",
            Op::SemverGt => "semver_gt",
            Op::SemverGte => "semver_gte",
            Op::Before => "before",
            Op::After => "after",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::Percent => "percent",
        }
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The condition object as it appears in JSON, before we know which kind it is.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionFields {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    any: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    none: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    segment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<Op>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shrunk")]
    values: Option<Vec<Value>>,
}

impl TryFrom<ConditionFields> for Condition {
    type Error = String;
    fn try_from(f: ConditionFields) -> Result<Self, String> {
        let shape_count = [f.all.is_some(), f.any.is_some(), f.none.is_some(), f.segment.is_some()]
            .into_iter()
            .filter(|b| *b)
            .count()
            + usize::from(f.attribute.is_some() || f.op.is_some() || f.values.is_some());
        if shape_count != 1 {
            return Err("a condition is exactly one of {\"all\": [...]}, {\"any\": [...]}, {\"none\": [...]}, \
                 {\"segment\": KEY} or a leaf {\"attribute\", \"op\", \"values\"}"
                .into());
        }
        Ok(if let Some(c) = f.all {
            Condition::All(c)
        } else if let Some(c) = f.any {
            Condition::Any(c)
        } else if let Some(c) = f.none {
            Condition::None(c)
        } else if let Some(s) = f.segment {
            Condition::Segment(s)
        } else {
            let attribute = f.attribute.ok_or("a leaf needs `attribute`")?;
            let op = f.op.ok_or("a leaf needs `op`")?;
            let values = f.values.ok_or("a leaf needs `values` (use [] for exists and not_exists)")?;
            Condition::Leaf(Leaf { attribute, op, values })
        })
    }
}

impl From<Condition> for ConditionFields {
    fn from(c: Condition) -> Self {
        let mut f = ConditionFields {
            all: None,
            any: None,
            none: None,
            segment: None,
            attribute: None,
            op: None,
            values: None,
        };
        match c {
            Condition::All(c) => f.all = Some(c),
            Condition::Any(c) => f.any = Some(c),
            Condition::None(c) => f.none = Some(c),
            Condition::Segment(s) => f.segment = Some(s),
            Condition::Leaf(l) => {
                f.attribute = Some(l.attribute);
                f.op = Some(l.op);
                f.values = Some(l.values);
            }
        }
        f
    }
}

impl Flag {
    /// Every prerequisite of the flag, in all its environments, in order.
    pub fn prerequisites(&self) -> impl Iterator<Item = &Prerequisite> {
        self.environments.values().flat_map(|e| e.prerequisites.iter().flatten())
    }
}

/// What a condition holds at its ends, as [`Condition::walk`] meets it.
#[derive(Debug, Clone, Copy)]
pub enum Part<'a> {
    /// `{"segment": key}`: the context is in that segment.
    Segment(&'a str),
    /// An attribute test.
    Leaf(&'a Leaf),
}

/// Where a [`Part`] sits inside a condition: the groups passed on the way
/// down, each as its field name (`all`, `any`, `none`) and the child's index.
#[derive(Debug, Clone, Copy)]
pub struct Trail<'t>(&'t [(&'static str, usize)]);

impl Trail<'_> {
    /// The child positions from the condition down to the part, for
    /// [`Condition::get_mut`].
    pub fn indices(&self) -> Vec<usize> {
        self.0.iter().map(|&(_, i)| i).collect()
    }

    /// The part's JSON pointer, given the condition's own pointer `at`.
    pub fn pointer(&self, at: &Pointer) -> Pointer {
        self.0.iter().fold(at.clone(), |p, &(name, i)| p.key(name).index(i))
    }
}

impl Condition {
    /// For `all` / `any` / `none`: the group's field name and its children.
    pub fn group(&self) -> Option<(&'static str, &[Condition])> {
        match self {
            Condition::All(c) => Some(("all", c)),
            Condition::Any(c) => Some(("any", c)),
            Condition::None(c) => Some(("none", c)),
            Condition::Segment(_) | Condition::Leaf(_) => None,
        }
    }

    /// Every segment reference and attribute test inside this condition, in
    /// the order they are written, each with the [`Trail`] down to it.
    ///
    /// This is the one walk over a condition tree: validation, segment
    /// references and renames, attribute paths and the editor's projection
    /// all see a condition through it.
    pub fn walk<'a>(&'a self, mut visit: impl FnMut(Part<'a>, Trail<'_>)) {
        fn go<'a>(
            c: &'a Condition,
            steps: &mut Vec<(&'static str, usize)>,
            visit: &mut dyn FnMut(Part<'a>, Trail<'_>),
        ) {
            match c {
                Condition::Segment(key) => visit(Part::Segment(key), Trail(steps)),
                Condition::Leaf(leaf) => visit(Part::Leaf(leaf), Trail(steps)),
                Condition::All(_) | Condition::Any(_) | Condition::None(_) => {
                    let Some((name, children)) = c.group() else { return };
                    for (i, child) in children.iter().enumerate() {
                        steps.push((name, i));
                        go(child, steps, visit);
                        steps.pop();
                    }
                }
            }
        }
        go(self, &mut Vec::new(), &mut visit)
    }

    /// The node `indices` leads to (child positions from this condition
    /// down, as [`Trail::indices`] gives them), or `None` if there is none.
    pub fn get_mut(&mut self, indices: &[usize]) -> Option<&mut Condition> {
        let mut node = self;
        for &i in indices {
            node = match node {
                Condition::All(c) | Condition::Any(c) | Condition::None(c) => c.get_mut(i)?,
                Condition::Segment(_) | Condition::Leaf(_) => return None,
            };
        }
        Some(node)
    }

    /// The segments this condition names (`{"segment": key}` anywhere
    /// inside it), in order.
    pub fn segments(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(|part, _| {
            if let Part::Segment(key) = part {
                out.push(key)
            }
        });
        out
    }

    /// A leaf condition.
    pub fn leaf(attribute: impl Into<String>, op: Op, values: Vec<Value>) -> Self {
        Condition::Leaf(Leaf { attribute: attribute.into(), op, values })
    }
}

/// The stages that apply when a file lists none: In development, Internal,
/// Beta, General availability.
pub fn default_stages() -> Vec<Stage> {
    [("in-development", "In development"), ("internal", "Internal"), ("beta", "Beta"), ("ga", "General availability")]
        .into_iter()
        .map(|(key, name)| Stage { key: key.into(), name: name.into(), description: None, template: None })
        .collect()
}

impl FlagFile {
    /// The stages in force: the file's own, or [`default_stages`].
    pub fn effective_stages(&self) -> Vec<Stage> {
        self.stages.clone().unwrap_or_else(default_stages)
    }
}

/// Whether `key` is a valid key: 1 to 128 of `A-Z a-z 0-9 _ - .`.
pub fn is_valid_key(key: &str) -> bool {
    (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"any": [{"segment": "beta"}, {"none": [leaf, {"segment": "staff"}]}]}`
    fn nested() -> Condition {
        Condition::Any(vec![
            Condition::Segment("beta".into()),
            Condition::None(vec![
                Condition::leaf("country", Op::In, vec!["DE".into()]),
                Condition::Segment("staff".into()),
            ]),
        ])
    }

    #[test]
    fn walk_meets_every_part_in_order_with_its_pointer() {
        let c = nested();
        let at = Pointer::root().key("match");
        let mut seen = Vec::new();
        c.walk(|part, trail| {
            let what = match part {
                Part::Segment(s) => format!("segment {s}"),
                Part::Leaf(l) => format!("leaf {}", l.attribute),
            };
            seen.push((what, trail.pointer(&at).as_str().to_owned(), trail.indices()));
        });
        let want = [
            ("segment beta", "/match/any/0", vec![0]),
            ("leaf country", "/match/any/1/none/0", vec![1, 0]),
            ("segment staff", "/match/any/1/none/1", vec![1, 1]),
        ];
        let want: Vec<_> = want.into_iter().map(|(w, p, i)| (w.to_owned(), p.to_owned(), i)).collect();
        assert_eq!(seen, want);
        assert_eq!(c.segments(), ["beta", "staff"]);
    }

    #[test]
    fn get_mut_follows_the_indices_a_trail_gives() {
        let mut c = nested();
        assert!(matches!(c.get_mut(&[1, 1]), Some(Condition::Segment(s)) if s == "staff"));
        assert!(matches!(c.get_mut(&[]), Some(Condition::Any(_))));
        assert!(c.get_mut(&[0, 0]).is_none(), "a segment has no children");
        assert!(c.get_mut(&[2]).is_none(), "no third child");
    }
}
