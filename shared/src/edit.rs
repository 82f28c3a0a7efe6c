//! Edits of a [`FlagFile`] that touch more than one place: finding what refers
//! to a flag or segment, renaming with every reference updated, duplicating,
//! deleting, applying a stage's template, and setting a rollout weight while
//! keeping the total at exactly 100 (the difference goes to one balancing
//! variant; the others keep theirs).
//!
//! Pure functions on the model, like the rest of this crate: no I/O. Each
//! either succeeds completely or returns an [`EditError`] and leaves the file
//! as it was. Map order is kept (a renamed key stays where it was), so the
//! written file's git diff shows only the edit.
//!
//! Renaming a flag or segment changes the default `salt` of its rollouts and
//! `percent` leaves (the key), so users may move between buckets; the
//! editor's change-impact preview shows by how much.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::diagnostic::Pointer;
use crate::model::is_valid_key;
use crate::model::{Condition, Flag, FlagFile, Part, RolloutEntry, Rule, Segment, Serve};
use crate::weight::Weight;

/// Why an edit was refused; the message is fit to show a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// No flag has this key.
    #[error("there is no flag `{0}`")]
    NoSuchFlag(String),
    /// No segment has this key.
    #[error("there is no segment `{0}`")]
    NoSuchSegment(String),
    /// No stage (of the file's, or the default ones) has this key.
    #[error("there is no stage `{0}`")]
    NoSuchStage(String),
    /// The flag has no variant with this key.
    #[error("flag `{flag}` has no variant `{variant}`")]
    NoSuchVariant {
        /// The flag.
        flag: String,
        /// The missing variant.
        variant: String,
    },
    /// A new key does not follow the key rules.
    #[error("`{key}` is not a valid {what} key: use 1 to 128 of A-Z a-z 0-9 _ - .")]
    InvalidKey {
        /// What the key is for ("flag", "segment", "variant").
        what: &'static str,
        /// The rejected key.
        key: String,
    },
    /// A new key is already taken.
    #[error("a {what} named `{key}` already exists")]
    AlreadyExists {
        /// What the key is for ("flag", "segment", "variant").
        what: &'static str,
        /// The taken key.
        key: String,
    },
    /// A stage template serves a variant the flag does not have.
    #[error(
        "stage `{stage}` serves variant `{variant}` in `{environment}`, but flag `{flag}` has no such variant; \
         add it to the flag or change the stage's template"
    )]
    MissingVariant {
        /// The stage whose template was applied.
        stage: String,
        /// The template's environment.
        environment: String,
        /// The flag.
        flag: String,
        /// The variant the template serves.
        variant: String,
    },
    /// A stage template names an environment the file does not list.
    #[error("stage `{stage}` has a template for environment `{environment}`, which the file does not list")]
    UnknownEnvironment {
        /// The stage.
        stage: String,
        /// The unknown environment.
        environment: String,
    },
    /// A rollout entry index past the end.
    #[error("the rollout has {len} entries; there is no entry {index}")]
    NoSuchEntry {
        /// The index asked for.
        index: usize,
        /// How many entries there are.
        len: usize,
    },
}

/// One place in the file that refers to a flag or segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// JSON pointer to the referring field (e.g.
    /// `/flags/new-checkout/environments/production/prerequisites/0/flag`).
    pub pointer: String,
    /// Where it is, for a person: "flag `new-checkout`, production, prerequisite 1".
    pub description: String,
}

/// Every prerequisite, in any flag and environment, that names flag `key`.
pub fn references_to_flag(file: &FlagFile, key: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for (flag_key, flag) in &file.flags {
        let at = Pointer::root().key("flags").key(flag_key).key("environments");
        for (env_key, env) in &flag.environments {
            for (i, p) in env.prerequisites.iter().flatten().enumerate() {
                if p.flag == key {
                    out.push(Reference {
                        pointer: at.key(env_key).key("prerequisites").index(i).key("flag").into(),
                        description: format!("flag `{flag_key}`, {env_key}, prerequisite {}", i + 1),
                    });
                }
            }
        }
    }
    out
}

/// Every place that names segment `key`: rules' `segment` fields and
/// `{"segment": key}` conditions, in flags, other segments and stage templates.
pub fn references_to_segment(file: &FlagFile, key: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for (seg_key, segment) in file.segments.iter().flatten() {
        if let Some(c) = &segment.matches {
            let at = Pointer::root().key("segments").key(seg_key).key("match");
            condition_refs(c, key, &at, &format!("segment `{seg_key}`, condition"), &mut out);
        }
    }
    for (flag_key, flag) in &file.flags {
        for (env_key, env) in &flag.environments {
            let at = Pointer::root().key("flags").key(flag_key).key("environments").key(env_key).key("rules");
            rules_refs(env.rules.iter().flatten(), key, &at, &format!("flag `{flag_key}`, {env_key}"), &mut out);
        }
    }
    for (i, stage) in file.stages.iter().flatten().enumerate() {
        for (env_key, template) in stage.template.iter().flatten() {
            let at = Pointer::root().key("stages").index(i).key("template").key(env_key).key("rules");
            let what = format!("stage `{}` template, {env_key}", stage.key);
            rules_refs(template.rules.iter().flatten(), key, &at, &what, &mut out);
        }
    }
    out
}

fn rules_refs<'r>(
    rules: impl Iterator<Item = &'r Rule>,
    key: &str,
    at: &Pointer,
    what: &str,
    out: &mut Vec<Reference>,
) {
    for (i, rule) in rules.enumerate() {
        let here = at.index(i);
        if rule.segment.as_deref() == Some(key) {
            out.push(Reference {
                pointer: here.key("segment").into(),
                description: format!("{what}, rule `{}`", rule.id),
            });
        }
        if let Some(c) = &rule.matches {
            condition_refs(c, key, &here.key("match"), &format!("{what}, rule `{}` condition", rule.id), out);
        }
    }
}

fn condition_refs(c: &Condition, key: &str, at: &Pointer, what: &str, out: &mut Vec<Reference>) {
    c.walk(|part, trail| {
        if matches!(part, Part::Segment(s) if s == key) {
            out.push(Reference { pointer: trail.pointer(at).key("segment").into(), description: what.to_string() })
        }
    });
}

/// Every place that uses variant `variant` of flag `flag`: the flag's off
/// variant, individual targets, rules and defaults that serve it (alone or in
/// a rollout), other flags' prerequisites that wait for it, and stage
/// templates that serve a variant of that name (applying one to this flag
/// would then be refused). List them before deleting the variant: these
/// places become errors.
pub fn references_to_variant(file: &FlagFile, flag: &str, variant: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    let Some(f) = file.flags.get(flag) else { return out };
    let at = Pointer::root().key("flags").key(flag);
    if f.off == variant {
        out.push(Reference {
            pointer: at.key("off").into(),
            description: "the off variant (served where the flag is off)".into(),
        });
    }
    for (env_key, env) in &f.environments {
        let here = at.key("environments").key(env_key);
        if let Some(keys) = env.targets.as_ref().and_then(|t| t.get(variant)).filter(|k| !k.is_empty()) {
            out.push(Reference {
                pointer: here.key("targets").key(variant).into(),
                description: format!("{env_key}: {} individual target(s)", keys.len()),
            });
        }
        for (i, rule) in env.rules.iter().flatten().enumerate() {
            if serves(&rule.serve, variant) {
                out.push(Reference {
                    pointer: here.key("rules").index(i).key("serve").into(),
                    description: format!("{env_key}: rule `{}` serves it", rule.id),
                });
            }
        }
        if serves(&env.default, variant) {
            out.push(Reference {
                pointer: here.key("default").into(),
                description: format!("{env_key}: the default serves it"),
            });
        }
    }
    for (other_key, other) in &file.flags {
        for (env_key, env) in &other.environments {
            for (i, p) in env.prerequisites.iter().flatten().enumerate() {
                if p.flag == flag && p.variants.iter().any(|v| v == variant) {
                    out.push(Reference {
                        pointer: Pointer::root()
                            .key("flags")
                            .key(other_key)
                            .key("environments")
                            .key(env_key)
                            .key("prerequisites")
                            .index(i)
                            .into(),
                        description: format!("flag `{other_key}`, {env_key}: prerequisite {} waits for it", i + 1),
                    });
                }
            }
        }
    }
    for (i, stage) in file.stages.iter().flatten().enumerate() {
        for (env_key, template) in stage.template.iter().flatten() {
            let mut serves_it = template.rules.iter().flatten().map(|r| &r.serve).chain(template.default.as_ref());
            if serves_it.any(|s| serves(s, variant)) {
                out.push(Reference {
                    pointer: Pointer::root().key("stages").index(i).key("template").key(env_key).into(),
                    description: format!("stage `{}` template, {env_key}: serves a variant of this name", stage.key),
                });
            }
        }
    }
    out
}

/// Whether `serve` can serve `variant` (as its one variant or a rollout entry).
fn serves(serve: &Serve, variant: &str) -> bool {
    match serve {
        Serve::Variant(v) => v == variant,
        Serve::Rollout(r) => r.entries.iter().any(|e| e.variant == variant),
    }
}

/// `map` with key `old` renamed to `new` at the same position.
fn rename_key<V>(map: &mut IndexMap<String, V>, old: &str, new: &str) {
    *map = std::mem::take(map).into_iter().map(|(k, v)| if k == old { (new.to_string(), v) } else { (k, v) }).collect();
}

fn check_new_key<V>(map: &IndexMap<String, V>, what: &'static str, new: &str) -> Result<(), EditError> {
    if !is_valid_key(new) {
        return Err(EditError::InvalidKey { what, key: new.to_string() });
    }
    if map.contains_key(new) {
        return Err(EditError::AlreadyExists { what, key: new.to_string() });
    }
    Ok(())
}

/// Rename flag `old` to `new`, keeping its place, and update every
/// prerequisite naming it. Returns how many references were updated.
/// Renaming a flag to its own key does nothing.
pub fn rename_flag(file: &mut FlagFile, old: &str, new: &str) -> Result<usize, EditError> {
    if !file.flags.contains_key(old) {
        return Err(EditError::NoSuchFlag(old.to_string()));
    }
    if old == new {
        return Ok(0);
    }
    check_new_key(&file.flags, "flag", new)?;
    rename_key(&mut file.flags, old, new);
    let mut count = 0;
    // Only the flags naming `old` are copied out of their shared `Arc`.
    for flag in file.flags.values_mut().filter(|f| f.prerequisites().any(|p| p.flag == old)) {
        for env in Arc::make_mut(flag).environments.values_mut() {
            for p in env.prerequisites.iter_mut().flatten() {
                if p.flag == old {
                    p.flag = new.to_string();
                    count += 1;
                }
            }
        }
    }
    Ok(count)
}

/// Rename segment `old` to `new`, keeping its place, and update every rule
/// `segment` field and `{"segment": ...}` condition naming it (in flags,
/// segments and stage templates). Returns how many references were updated.
pub fn rename_segment(file: &mut FlagFile, old: &str, new: &str) -> Result<usize, EditError> {
    let Some(segments) = file.segments.as_mut().filter(|s| s.contains_key(old)) else {
        return Err(EditError::NoSuchSegment(old.to_string()));
    };
    if old == new {
        return Ok(0);
    }
    check_new_key(segments, "segment", new)?;
    rename_key(segments, old, new);
    let mut count = 0;
    // Only the segments and flags naming `old` are copied out of their shared `Arc`.
    let names_old = |c: &Option<Condition>| c.as_ref().is_some_and(|c| c.segments().contains(&old));
    for segment in segments.values_mut().filter(|s| names_old(&s.matches)) {
        if let Some(c) = &mut Arc::make_mut(segment).matches {
            count += rename_in_condition(c, old, new);
        }
    }
    let flag_rules = file
        .flags
        .values_mut()
        .filter(|f| {
            let mut rules = f.environments.values().flat_map(|e| e.rules.iter().flatten());
            rules.any(|r| r.segment.as_deref() == Some(old) || names_old(&r.matches))
        })
        .flat_map(|f| Arc::make_mut(f).environments.values_mut())
        .flat_map(|e| e.rules.iter_mut());
    let template_rules = file
        .stages
        .iter_mut()
        .flatten()
        .flat_map(|s| s.template.iter_mut().flatten())
        .flat_map(|(_, t)| t.rules.iter_mut());
    for rule in flag_rules.chain(template_rules).flatten() {
        if rule.segment.as_deref() == Some(old) {
            rule.segment = Some(new.to_string());
            count += 1;
        }
        if let Some(c) = &mut rule.matches {
            count += rename_in_condition(c, old, new);
        }
    }
    Ok(count)
}

fn rename_in_condition(c: &mut Condition, old: &str, new: &str) -> usize {
    let mut found = Vec::new();
    c.walk(|part, trail| {
        if matches!(part, Part::Segment(s) if s == old) {
            found.push(trail.indices());
        }
    });
    for indices in &found {
        if let Some(Condition::Segment(s)) = c.get_mut(indices) {
            *s = new.to_string();
        }
    }
    found.len()
}

/// Rename variant `old` of flag `flag` to `new`, keeping its place, and update
/// the flag's `off`, its targets' keys, every serve (variants and rollout
/// entries) in its environments, and other flags' prerequisites listing it.
/// Returns how many references were updated (the variant itself not counted).
pub fn rename_variant(file: &mut FlagFile, flag: &str, old: &str, new: &str) -> Result<usize, EditError> {
    let Some(f) = file.flags.get_mut(flag).map(Arc::make_mut) else {
        return Err(EditError::NoSuchFlag(flag.to_string()));
    };
    if !f.variants.contains_key(old) {
        return Err(EditError::NoSuchVariant { flag: flag.to_string(), variant: old.to_string() });
    }
    if old == new {
        return Ok(0);
    }
    check_new_key(&f.variants, "variant", new)?;
    rename_key(&mut f.variants, old, new);
    let mut count = 0;
    if f.off == old {
        f.off = new.to_string();
        count += 1;
    }
    for env in f.environments.values_mut() {
        if let Some(targets) = &mut env.targets
            && let Some((position, _, mut keys)) = targets.shift_remove_full(old)
        {
            // Back at its place under the new name (merged with a stray list
            // already under `new`, which only an invalid file has).
            if let Some(existing) = targets.get_mut(new) {
                existing.append(&mut keys);
            } else {
                targets.shift_insert(position, new.to_string(), keys);
            }
            count += 1;
        }
        let serves = env.rules.iter_mut().flatten().map(|r| &mut r.serve).chain([&mut env.default]);
        for serve in serves {
            count += rename_in_serve(serve, old, new);
        }
    }
    let names_old = |o: &Flag| o.prerequisites().any(|p| p.flag == flag && p.variants.iter().any(|v| v == old));
    for other in file.flags.values_mut().filter(|o| names_old(o)) {
        for env in Arc::make_mut(other).environments.values_mut() {
            for p in env.prerequisites.iter_mut().flatten().filter(|p| p.flag == flag) {
                for v in p.variants.iter_mut().filter(|v| *v == old) {
                    *v = new.to_string();
                    count += 1;
                }
            }
        }
    }
    Ok(count)
}

fn rename_in_serve(serve: &mut Serve, old: &str, new: &str) -> usize {
    match serve {
        Serve::Variant(v) if v == old => {
            *v = new.to_string();
            1
        }
        Serve::Variant(_) => 0,
        Serve::Rollout(r) => r
            .entries
            .iter_mut()
            .filter(|e| e.variant == old)
            .map(|e| {
                e.variant = new.to_string();
                1
            })
            .sum(),
    }
}

/// Copy flag `key` as `new_key`, inserted right after the original.
pub fn duplicate_flag(file: &mut FlagFile, key: &str, new_key: &str) -> Result<(), EditError> {
    let Some((index, _, flag)) = file.flags.get_full(key) else {
        return Err(EditError::NoSuchFlag(key.to_string()));
    };
    check_new_key(&file.flags, "flag", new_key)?;
    let copy = Arc::clone(flag);
    file.flags.shift_insert(index + 1, new_key.to_string(), copy);
    Ok(())
}

/// Remove flag `key` and return it. References to it are left as they are
/// (they become errors): list them first with [`references_to_flag`].
pub fn delete_flag(file: &mut FlagFile, key: &str) -> Result<Arc<Flag>, EditError> {
    file.flags.shift_remove(key).ok_or_else(|| EditError::NoSuchFlag(key.to_string()))
}

/// Remove segment `key` and return it. References to it are left as they are
/// (they become errors): list them first with [`references_to_segment`].
pub fn delete_segment(file: &mut FlagFile, key: &str) -> Result<Arc<Segment>, EditError> {
    file.segments.as_mut().and_then(|s| s.shift_remove(key)).ok_or_else(|| EditError::NoSuchSegment(key.to_string()))
}

/// Move flag `flag` to stage `stage` and apply the stage's template (from
/// [`FlagFile::effective_stages`]): for each environment the template names,
/// its `rules` (when given) replace the flag environment's rules and its
/// `default` (when given) replaces the default. A flag environment that does
/// not exist yet is created, enabled, only when the template gives a default
/// (a flag environment needs one); otherwise the flag stays disabled there.
///
/// Refused, with nothing changed, when the template serves a variant the flag
/// lacks or names an environment the file does not list.
pub fn apply_stage_template(file: &mut FlagFile, flag: &str, stage: &str) -> Result<(), EditError> {
    let stages = file.effective_stages();
    let Some(stage_def) = stages.iter().find(|s| s.key == stage) else {
        return Err(EditError::NoSuchStage(stage.to_string()));
    };
    let Some(f) = file.flags.get(flag) else {
        return Err(EditError::NoSuchFlag(flag.to_string()));
    };
    let template = stage_def.template.clone().unwrap_or_default();
    for (env, t) in &template {
        if !file.environments.contains(env) {
            return Err(EditError::UnknownEnvironment { stage: stage.to_string(), environment: env.clone() });
        }
        let serves = t.rules.iter().flatten().map(|r| &r.serve).chain(t.default.as_ref());
        for serve in serves {
            let variants: Vec<&str> = match serve {
                Serve::Variant(v) => vec![v.as_str()],
                Serve::Rollout(r) => r.entries.iter().map(|e| e.variant.as_str()).collect(),
            };
            if let Some(missing) = variants.into_iter().find(|v| !f.variants.contains_key(*v)) {
                return Err(EditError::MissingVariant {
                    stage: stage.to_string(),
                    environment: env.clone(),
                    flag: flag.to_string(),
                    variant: missing.to_string(),
                });
            }
        }
    }
    let Some(f) = file.flags.get_mut(flag).map(Arc::make_mut) else {
        return Err(EditError::NoSuchFlag(flag.to_string()));
    };
    f.stage = Some(stage.to_string());
    for (env, t) in template {
        match f.environments.get_mut(&env) {
            Some(e) => {
                if let Some(rules) = t.rules {
                    e.rules = Some(rules);
                }
                if let Some(default) = t.default {
                    e.default = default;
                }
            }
            None => {
                if let Some(default) = t.default {
                    let created = crate::model::FlagEnvironment {
                        enabled: true,
                        prerequisites: None,
                        targets: None,
                        rules: t.rules,
                        default,
                    };
                    insert_in_file_order(&mut f.environments, &file.environments, env, created);
                }
            }
        }
    }
    Ok(())
}

/// Insert `env` into a flag's environments at the place the file's
/// environment list gives it.
fn insert_in_file_order<V>(map: &mut IndexMap<String, V>, order: &[String], env: String, value: V) {
    let rank = |k: &str| order.iter().position(|o| o == k).unwrap_or(usize::MAX);
    let mine = rank(&env);
    let at = map.keys().position(|k| rank(k) > mine).unwrap_or(map.len());
    map.shift_insert(at, env, value);
}

/// Set entry `index`'s weight to `weight` and take the
/// difference from entry `balance` alone — the other entries keep their
/// weights, so typing 34, then 33, into a three-way split gives exactly
/// 34/33/33. When `balance` has less than the difference, the rest comes
/// from the entries after it in order (wrapping around, never `index`).
/// The total stays exactly 100. A single entry always weighs 100.
pub fn set_weight(entries: &mut [RolloutEntry], index: usize, weight: Weight, balance: usize) -> Result<(), EditError> {
    let len = entries.len();
    for i in [index, balance] {
        if i >= len {
            return Err(EditError::NoSuchEntry { index: i, len });
        }
    }
    if len == 1 {
        entries[0].weight = Weight::ALL.to_number();
        return Ok(());
    }
    let balance = if balance == index { (index + 1) % len } else { balance };
    let mut weights: Vec<u32> = entries.iter().map(|e| thousandths_of(&e.weight)).collect();
    let target = weight.thousandths();
    weights[index] = target;
    // What the others must add up to, against what they hold: the balance
    // gets the difference, or gives it — and when it has too little, the
    // entries after it give the rest. (With weights that added up to 100
    // before, the difference is exactly the change of entry `index`.)
    let others: u32 = weights.iter().enumerate().filter(|(j, _)| *j != index).map(|(_, w)| w).sum();
    let want = BUCKETS - target;
    if others < want {
        weights[balance] += want - others;
    } else {
        let mut owed = others - want;
        for j in (0..len).map(|k| (balance + k) % len).filter(|&j| j != index) {
            let taken = owed.min(weights[j]);
            weights[j] -= taken;
            owed -= taken;
        }
    }
    for (entry, w) in entries.iter_mut().zip(weights) {
        let w = Weight::saturating(w);
        if Weight::nearest(&entry.weight) != Some(w) {
            entry.weight = w.to_number();
        }
    }
    Ok(())
}

/// Give every entry the same share: 100 divided by their number, the
/// thousandths left over going one each to the last entries (three ways:
/// 33.333, 33.333, 33.334).
pub fn split_evenly(entries: &mut [RolloutEntry]) {
    let Ok(n) = u32::try_from(entries.len()) else { return };
    if n == 0 {
        return;
    }
    let (share, extra) = (BUCKETS / n, BUCKETS % n);
    for (i, entry) in entries.iter_mut().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        entry.weight = Weight::saturating(share + u32::from(i >= n - extra)).to_number();
    }
}

/// 100 % in thousandths of a percent: the number of buckets.
const BUCKETS: u32 = Weight::ALL.thousandths();

/// A written weight in thousandths (0 when it is not a number).
fn thousandths_of(weight: &serde_json::Number) -> u32 {
    Weight::nearest(weight).map_or(0, Weight::thousandths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read as parse;
    use crate::serialize::to_string;
    use proptest::prelude::*;

    const FILE: &str = r#"{
  "version": 1,
  "environments": ["development", "production"],
  "stages": [
    {"key": "internal", "name": "Internal", "template": {"production": {
      "rules": [{"id": "staff", "segment": "staff", "serve": {"variant": "on"}}], "default": {"variant": "off"}}}},
    {"key": "dev", "name": "Dev", "template": {"development": {"default": {"variant": "on"}}}},
    {"key": "odd", "name": "Odd", "template": {"production": {"default": {"variant": "enabled"}}}},
    {"key": "ga", "name": "GA"}
  ],
  "segments": {
    "staff": {"included": ["u1"]},
    "beta": {"match": {"any": [{"segment": "staff"}, {"attribute": "plan", "op": "in", "values": ["x"]}]}},
    "other": {"included": ["u2"]}
  },
  "flags": {
    "payments": {
      "variants": {"on": true, "off": false},
      "off": "off",
      "environments": {"production": {"enabled": true, "default": {"variant": "on"}}}
    },
    "checkout": {
      "variants": {"on": true, "off": false},
      "off": "off",
      "environments": {"production": {
        "enabled": true,
        "prerequisites": [{"flag": "payments", "variants": ["on"]}],
        "targets": {"on": ["u42"], "off": ["u13"]},
        "rules": [
          {"id": "staff", "segment": "staff", "serve": {"variant": "on"}},
          {"id": "beta", "match": {"all": [{"none": [{"segment": "staff"}]}]},
           "serve": {"rollout": [{"variant": "on", "weight": 25}, {"variant": "off", "weight": 75}]}}
        ],
        "default": {"variant": "off"}
      }}
    },
    "last": {
      "variants": {"a": "x"},
      "off": "a",
      "environments": {"development": {"enabled": true,
        "prerequisites": [{"flag": "payments", "variants": ["on", "off"]}], "default": {"variant": "a"}}}
    }
  }
}"#;

    fn file() -> FlagFile {
        let f = parse(FILE).unwrap();
        assert!(crate::validate::validate(&f).iter().all(|d| !d.is_error()), "{:?}", crate::validate::validate(&f));
        f
    }

    fn no_errors(f: &FlagFile) {
        let d = crate::validate::validate(f);
        assert!(d.iter().all(|d| !d.is_error()), "{d:?}");
    }

    #[test]
    fn references_to_a_flag_are_its_prerequisites_with_pointers() {
        let refs = references_to_flag(&file(), "payments");
        let pointers: Vec<&str> = refs.iter().map(|r| r.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/flags/checkout/environments/production/prerequisites/0/flag",
                "/flags/last/environments/development/prerequisites/0/flag"
            ]
        );
        assert_eq!(refs[0].description, "flag `checkout`, production, prerequisite 1");
        assert!(references_to_flag(&file(), "checkout").is_empty());
    }

    #[test]
    fn references_to_a_segment_cover_rules_conditions_segments_and_templates() {
        let refs = references_to_segment(&file(), "staff");
        let pointers: Vec<&str> = refs.iter().map(|r| r.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/segments/beta/match/any/0/segment",
                "/flags/checkout/environments/production/rules/0/segment",
                "/flags/checkout/environments/production/rules/1/match/all/0/none/0/segment",
                "/stages/0/template/production/rules/0/segment",
            ]
        );
        assert!(refs[3].description.contains("stage `internal`"), "{refs:?}");
        assert!(references_to_segment(&file(), "other").is_empty());
    }

    #[test]
    fn references_to_a_variant_cover_off_targets_serves_prerequisites_and_templates() {
        let refs = references_to_variant(&file(), "checkout", "on");
        let pointers: Vec<&str> = refs.iter().map(|r| r.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/flags/checkout/environments/production/targets/on",
                "/flags/checkout/environments/production/rules/0/serve",
                "/flags/checkout/environments/production/rules/1/serve",
                "/stages/0/template/production",
                "/stages/1/template/development",
            ]
        );
        assert_eq!(refs[0].description, "production: 1 individual target(s)");
        let refs = references_to_variant(&file(), "payments", "on");
        let descriptions: Vec<&str> = refs.iter().map(|r| r.description.as_str()).collect();
        assert_eq!(
            descriptions,
            [
                "production: the default serves it",
                "flag `checkout`, production: prerequisite 1 waits for it",
                "flag `last`, development: prerequisite 1 waits for it",
                "stage `internal` template, production: serves a variant of this name",
                "stage `dev` template, development: serves a variant of this name",
            ]
        );
        assert_eq!(references_to_variant(&file(), "checkout", "off")[0].pointer, "/flags/checkout/off");
        assert!(references_to_variant(&file(), "nope", "on").is_empty());
    }

    #[test]
    fn rename_flag_updates_prerequisites_and_keeps_the_place() {
        let mut f = file();
        assert_eq!(rename_flag(&mut f, "payments", "payments-v2").unwrap(), 2);
        assert_eq!(f.flags.keys().collect::<Vec<_>>(), ["payments-v2", "checkout", "last"]);
        assert!(references_to_flag(&f, "payments").is_empty());
        assert_eq!(references_to_flag(&f, "payments-v2").len(), 2);
        no_errors(&f);
    }

    #[test]
    fn rename_flag_refuses_bad_or_taken_keys_and_changes_nothing() {
        let mut f = file();
        let before = f.clone();
        let e = rename_flag(&mut f, "payments", "no spaces").unwrap_err();
        assert_eq!(e.to_string(), "`no spaces` is not a valid flag key: use 1 to 128 of A-Z a-z 0-9 _ - .");
        let e = rename_flag(&mut f, "payments", "checkout").unwrap_err();
        assert_eq!(e.to_string(), "a flag named `checkout` already exists");
        assert_eq!(rename_flag(&mut f, "nope", "x").unwrap_err(), EditError::NoSuchFlag("nope".into()));
        assert_eq!(rename_flag(&mut f, "payments", "payments").unwrap(), 0);
        assert_eq!(f, before);
    }

    #[test]
    fn rename_segment_updates_rules_conditions_and_templates() {
        let mut f = file();
        assert_eq!(rename_segment(&mut f, "staff", "employees").unwrap(), 4);
        assert_eq!(f.segments.as_ref().unwrap().keys().collect::<Vec<_>>(), ["employees", "beta", "other"]);
        assert!(references_to_segment(&f, "staff").is_empty());
        assert_eq!(references_to_segment(&f, "employees").len(), 4);
        no_errors(&f);
        assert!(matches!(rename_segment(&mut f, "beta", "other"), Err(EditError::AlreadyExists { .. })));
        assert_eq!(rename_segment(&mut f, "ghost", "x").unwrap_err().to_string(), "there is no segment `ghost`");
    }

    #[test]
    fn rename_variant_updates_off_targets_serves_and_prerequisites() {
        let mut f = file();
        // off, default... in payments: off + production default; prerequisites: checkout's and last's.
        assert_eq!(rename_variant(&mut f, "payments", "on", "enabled").unwrap(), 3);
        assert_eq!(f.flags["payments"].variants.keys().collect::<Vec<_>>(), ["enabled", "off"]);
        assert_eq!(
            f.flags["last"].environments["development"].prerequisites.as_ref().unwrap()[0].variants,
            ["enabled", "off"]
        );
        no_errors(&f);

        // checkout: off, targets key, rule 0 serve, rollout entry, default.
        assert_eq!(rename_variant(&mut f, "checkout", "off", "disabled").unwrap(), 4);
        let env = &f.flags["checkout"].environments["production"];
        assert_eq!(env.targets.as_ref().unwrap().keys().collect::<Vec<_>>(), ["on", "disabled"]);
        assert_eq!(f.flags["checkout"].off, "disabled");
        assert!(to_string(&f).contains(r#""variant": "disabled","#));
        no_errors(&f);
        assert!(matches!(rename_variant(&mut f, "checkout", "nope", "x"), Err(EditError::NoSuchVariant { .. })));
        assert!(matches!(rename_variant(&mut f, "checkout", "on", "disabled"), Err(EditError::AlreadyExists { .. })));
    }

    #[test]
    fn duplicate_inserts_after_the_original_and_delete_removes() {
        let mut f = file();
        duplicate_flag(&mut f, "payments", "payments-copy").unwrap();
        assert_eq!(f.flags.keys().collect::<Vec<_>>(), ["payments", "payments-copy", "checkout", "last"]);
        assert_eq!(f.flags["payments"], f.flags["payments-copy"]);
        assert!(matches!(duplicate_flag(&mut f, "payments", "checkout"), Err(EditError::AlreadyExists { .. })));
        delete_flag(&mut f, "payments-copy").unwrap();
        assert_eq!(f, file());
        assert!(delete_flag(&mut f, "payments-copy").is_err());
        delete_segment(&mut f, "other").unwrap();
        assert_eq!(f.segments.as_ref().unwrap().len(), 2);
        assert_eq!(delete_segment(&mut f, "other").unwrap_err(), EditError::NoSuchSegment("other".into()));
    }

    #[test]
    fn applying_a_stage_replaces_rules_and_default_and_creates_missing_environments() {
        let mut f = file();
        apply_stage_template(&mut f, "payments", "internal").unwrap();
        let env = &f.flags["payments"].environments["production"];
        assert_eq!(f.flags["payments"].stage.as_deref(), Some("internal"));
        assert_eq!(env.rules.as_ref().unwrap()[0].segment.as_deref(), Some("staff"));
        assert_eq!(env.default, Serve::Variant("off".into()));
        assert!(env.enabled);
        no_errors(&f);

        apply_stage_template(&mut f, "payments", "dev").unwrap();
        assert_eq!(f.flags["payments"].environments.keys().collect::<Vec<_>>(), ["development", "production"]);
        assert_eq!(f.flags["payments"].environments["development"].default, Serve::Variant("on".into()));
        no_errors(&f);

        // A stage without a template only sets the stage.
        let before = f.flags["payments"].environments.clone();
        apply_stage_template(&mut f, "payments", "ga").unwrap();
        assert_eq!(f.flags["payments"].environments, before);
        assert_eq!(f.flags["payments"].stage.as_deref(), Some("ga"));
    }

    #[test]
    fn applying_a_stage_that_serves_a_missing_variant_is_refused_saying_which() {
        let mut f = file();
        let before = f.clone();
        let e = apply_stage_template(&mut f, "last", "internal").unwrap_err();
        assert_eq!(
            e.to_string(),
            "stage `internal` serves variant `on` in `production`, but flag `last` has no such variant; \
             add it to the flag or change the stage's template"
        );
        assert!(matches!(apply_stage_template(&mut f, "payments", "odd"), Err(EditError::MissingVariant { .. })));
        assert_eq!(
            apply_stage_template(&mut f, "payments", "nope").unwrap_err().to_string(),
            "there is no stage `nope`"
        );
        assert_eq!(f, before);
    }

    #[test]
    fn default_stages_apply_when_the_file_has_none() {
        let mut f = file();
        f.stages = None;
        apply_stage_template(&mut f, "payments", "beta").unwrap();
        assert_eq!(f.flags["payments"].stage.as_deref(), Some("beta"));
        no_errors(&f);
    }

    fn entries(weights: &[u32]) -> Vec<RolloutEntry> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| RolloutEntry { variant: format!("v{i}"), weight: Weight::saturating(*w).to_number() })
            .collect()
    }

    fn texts(e: &[RolloutEntry]) -> Vec<String> {
        e.iter().map(|e| e.weight.to_string()).collect()
    }

    #[test]
    fn a_typed_weight_takes_the_difference_from_the_balance_only() {
        let mut e = entries(&[100_000, 0, 0]);
        set_weight(&mut e, 0, Weight::saturating(34_000), 1).unwrap();
        assert_eq!(texts(&e), ["34", "66", "0"]);
        set_weight(&mut e, 1, Weight::saturating(33_000), 2).unwrap();
        assert_eq!(texts(&e), ["34", "33", "33"], "34/33/33 in two edits");
        let mut e = entries(&[50_000, 30_000, 20_000]);
        set_weight(&mut e, 0, Weight::saturating(40_000), 2).unwrap();
        assert_eq!(texts(&e), ["40", "30", "30"], "the marked balance, not the next one");
        set_weight(&mut e, 0, Weight::saturating(90_000), 1).unwrap();
        assert_eq!(texts(&e), ["90", "0", "10"], "past the balance's share, the next entries give the rest");
        set_weight(&mut e, 2, Weight::saturating(10_000), 2).unwrap();
        assert_eq!(texts(&e), ["90", "0", "10"], "a balance of itself means the next one");
        let mut e = entries(&[100_000]);
        set_weight(&mut e, 0, Weight::saturating(20_000), 0).unwrap();
        assert_eq!(texts(&e), ["100"]);
        assert_eq!(
            set_weight(&mut e, 1, Weight::saturating(1), 0).unwrap_err(),
            EditError::NoSuchEntry { index: 1, len: 1 }
        );
    }

    #[test]
    fn splitting_evenly_gives_the_leftover_thousandths_to_the_last() {
        let mut e = entries(&[100_000, 0, 0]);
        split_evenly(&mut e);
        assert_eq!(texts(&e), ["33.333", "33.333", "33.334"]);
        let mut e = entries(&[1, 2, 3, 99_994]);
        split_evenly(&mut e);
        assert_eq!(texts(&e), ["25", "25", "25", "25"]);
    }

    proptest! {
        #[test]
        fn a_typed_weight_sums_to_100_sets_exactly_and_moves_only_the_balance_first(
            weights in prop::collection::vec(0u32..=100_000, 2..8),
            index in 0usize..8,
            balance in 0usize..8,
            target in 0u32..=100_000,
        ) {
            let mut e = entries(&weights);
            let (index, balance) = (index % e.len(), balance % e.len());
            let before: Vec<u32> = e.iter().map(|e| thousandths_of(&e.weight)).collect();
            set_weight(&mut e, index, Weight::saturating(target), balance).unwrap();
            let got: Vec<u32> = e.iter().map(|e| thousandths_of(&e.weight)).collect();
            prop_assert_eq!(got.iter().map(|w| u64::from(*w)).sum::<u64>(), 100_000);
            if before.iter().map(|w| u64::from(*w)).sum::<u64>() == 100_000 {
                prop_assert_eq!(got[index], target);
                let balance = if balance == index { (index + 1) % e.len() } else { balance };
                let changed: Vec<usize> = (0..e.len()).filter(|&j| j != index && got[j] != before[j]).collect();
                if target <= before[index] || before[balance] >= target - before[index] {
                    prop_assert!(changed.iter().all(|&j| j == balance), "{:?} -> {:?}", before, got);
                }
            }
            for entry in &e {
                let text = entry.weight.to_string();
                prop_assert!(text.split('.').nth(1).is_none_or(|d| d.len() <= 3 && !d.ends_with('0')), "{}", text);
            }
        }
    }
}
