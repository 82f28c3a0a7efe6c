//! Whether a parsed [`FlagFile`] makes sense: every load error the contract
//! lists (references, weights, types, ids, regexes, versions, cycles) and
//! warnings for what is legal but likely a mistake. Each with its JSON pointer.
//!
//! [`validate`] checks a file once. [`Revalidator`] is for a file changed one
//! edit at a time (the editor): it remembers each flag's findings and checks
//! again only the flags that changed, with the same result as [`validate`].

use hashbrown::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::model::{Condition, FORMAT_VERSION, Flag, FlagFile, Part, Rule, Serve, is_valid_key};
use crate::ops;
use crate::weight::{Weight, format_thousandths};

/// Every error and warning in `file`, errors first within each place, in file order.
pub fn validate(file: &FlagFile) -> Vec<Diagnostic> {
    let mut v = Validator::new(file);
    v.file(None);
    v.out
}

/// Validation of a file that changes one edit at a time, such as the one an
/// editor holds: [`Revalidator::validate`] returns exactly what [`validate`]
/// returns, but reuses the findings of every flag that is still the same
/// shared [`Arc`] as last time, when what those findings depend on (the
/// environments, segment keys, stage keys and the flags named as
/// prerequisites) is unchanged too. On a file of 10,000 flags an edit to one
/// flag is re-checked in a few milliseconds instead of the whole file's
/// tens of milliseconds.
#[derive(Debug, Default)]
pub struct Revalidator {
    context: Option<FlagContext>,
    flags: HashMap<String, FlagFindings>,
}

/// What every flag's findings depend on besides the flag itself.
#[derive(Debug, PartialEq)]
struct FlagContext {
    environments: Vec<String>,
    segments: Vec<String>,
    stages: Vec<String>,
}

impl FlagContext {
    fn of(file: &FlagFile) -> FlagContext {
        FlagContext {
            environments: file.environments.clone(),
            segments: file.segments.iter().flatten().map(|(k, _)| k.clone()).collect(),
            stages: file.effective_stages().into_iter().map(|s| s.key).collect(),
        }
    }
}

/// One flag's findings, with the versions of the flags they were made with.
#[derive(Debug)]
struct FlagFindings {
    flag: Arc<Flag>,
    prerequisites: Vec<SeenPrerequisite>,
    diagnostics: Vec<Diagnostic>,
}

impl FlagFindings {
    /// Whether these findings are still `flag`'s: the same shared flag, and
    /// each prerequisite names the same version of its flag (or still none).
    /// Reads no more of the flag than its address, so checking 10,000
    /// unchanged flags stays quick.
    fn still_hold(&self, flag: &Arc<Flag>, file: &FlagFile) -> bool {
        Arc::ptr_eq(&self.flag, flag)
            && self.prerequisites.iter().all(|p| match (file.flags.get(&p.flag), &p.found) {
                (Some(now), Some(then)) => Arc::ptr_eq(now, then),
                (None, None) => true,
                _ => false,
            })
    }
}

/// A flag's prerequisite as its findings saw it; also the edges of the
/// prerequisite graph checked for cycles.
#[derive(Debug, Clone)]
struct SeenPrerequisite {
    environment: String,
    flag: String,
    /// The flag it named (`None`: not defined).
    found: Option<Arc<Flag>>,
}

/// Every prerequisite of `flag`, in its environments' order.
fn seen_prerequisites(flag: &Flag, file: &FlagFile) -> Vec<SeenPrerequisite> {
    let mut out = Vec::new();
    for (env, fe) in &flag.environments {
        for p in fe.prerequisites.iter().flatten() {
            let found = file.flags.get(&p.flag).cloned();
            out.push(SeenPrerequisite { environment: env.clone(), flag: p.flag.clone(), found });
        }
    }
    out
}

impl Revalidator {
    /// A revalidator that remembers nothing yet.
    pub fn new() -> Revalidator {
        Revalidator::default()
    }

    /// Every error and warning in `file`, as [`validate`] gives them.
    pub fn validate(&mut self, file: &FlagFile) -> Vec<Diagnostic> {
        let context = FlagContext::of(file);
        if self.context.as_ref() != Some(&context) {
            self.flags.clear();
            self.context = Some(context);
        }
        let mut v = Validator::new(file);
        v.file(Some(&mut self.flags));
        v.out
    }
}

/// Whether `value` is one the condition op `op` accepts, exactly as
/// validating a file checks each value of a leaf: a number for `lt`, a
/// semantic version for `semver_*`, a timestamp for `before`/`after`, a
/// regular expression that compiles for `matches`… The error is the message
/// a load error would carry. (For the editor: it checks a value as it is typed.)
pub fn check_value(op: crate::model::Op, value: &Value) -> Result<(), String> {
    match ops::compile_test(op, std::slice::from_ref(value), "") {
        Ok(_) => Ok(()),
        Err(problems) => Err(problems.into_iter().next().map(|p| p.message).unwrap_or_default()),
    }
}

struct Validator<'f> {
    file: &'f FlagFile,
    out: Vec<Diagnostic>,
    environments: HashSet<&'f str>,
    segments: HashSet<&'f str>,
}

/// Where a rule or serve sits, for the checks that depend on it.
#[derive(Clone, Copy)]
struct Scope<'f> {
    /// The flag's variants; `None` in a stage template (checked on apply).
    flag: Option<&'f Flag>,
    /// Key of the flag or segment holding a condition (the `percent` salt).
    salt: &'f str,
}

impl<'f> Validator<'f> {
    fn new(file: &'f FlagFile) -> Self {
        Validator { file, out: Vec::new(), environments: HashSet::new(), segments: HashSet::new() }
    }

    fn error(&mut self, code: Code, at: &Pointer, message: String) {
        self.out.push(Diagnostic::error(code, at, message));
    }

    fn warn(&mut self, code: Code, at: &Pointer, message: String) {
        self.out.push(Diagnostic::warning(code, at, message));
    }

    fn key(&mut self, key: &str, at: &Pointer, what: &str) {
        if !is_valid_key(key) {
            self.error(
                Code::InvalidKey,
                at,
                format!("{what} `{key}` is not a valid key: use 1 to 128 of A-Z a-z 0-9 _ - ."),
            );
        }
    }

    /// Check the whole file; with `memo`, reuse the findings of unchanged
    /// flags from it and leave the findings of every flag in it.
    fn file(&mut self, mut memo: Option<&mut HashMap<String, FlagFindings>>) {
        let file = self.file;
        let root = Pointer::root();
        if file.version != FORMAT_VERSION {
            self.error(
                Code::UnsupportedVersion,
                &root.key("version"),
                format!("version {} is not supported: this is format version {FORMAT_VERSION}", file.version),
            );
        }

        let envs_at = root.key("environments");
        if file.environments.is_empty() {
            self.error(Code::Empty, &envs_at, "list at least one environment".into());
        }
        for (i, env) in file.environments.iter().enumerate() {
            self.key(env, &envs_at.index(i), "environment");
            if !self.environments.insert(env) {
                self.error(Code::DuplicateEntry, &envs_at.index(i), format!("environment `{env}` is listed twice"));
            }
        }

        if let Some(segments) = &file.segments {
            self.segments = segments.keys().map(String::as_str).collect();
        }

        // In file order, so that messages listing them are the same every time.
        let mut stage_keys: Vec<&str> = Vec::new();
        if let Some(stages) = &file.stages {
            let at = root.key("stages");
            for (i, stage) in stages.iter().enumerate() {
                let at = at.index(i);
                self.key(&stage.key, &at.key("key"), "stage");
                if stage_keys.contains(&stage.key.as_str()) {
                    self.error(Code::DuplicateEntry, &at.key("key"), format!("stage `{}` is listed twice", stage.key));
                } else {
                    stage_keys.push(&stage.key);
                }
                for (env, template) in stage.template.iter().flatten() {
                    let at = at.key("template").key(env);
                    self.environment_ref(env, &at);
                    let scope = Scope { flag: None, salt: &stage.key };
                    if let Some(rules) = &template.rules {
                        self.rules(rules, &at.key("rules"), scope);
                    }
                    if let Some(serve) = &template.default {
                        self.serve(serve, &at.key("default"), scope);
                    }
                }
            }
        } else {
            stage_keys.extend(["in-development", "internal", "beta", "ga"]);
        }

        if let Some(segments) = &file.segments {
            let at = root.key("segments");
            for (key, segment) in segments {
                let at = at.key(key);
                self.key(key, &at, "segment");
                if let Some(cond) = &segment.matches {
                    self.condition(cond, &at.key("match"), key);
                }
            }
            self.segment_cycles();
        }

        let flags_at = root.key("flags");
        // The flags with prerequisites (by position) and those, for the cycle check.
        let mut graph: Vec<(usize, Vec<SeenPrerequisite>)> = Vec::new();
        for (index, (key, flag)) in file.flags.iter().enumerate() {
            if let Some(found) = memo.as_deref().and_then(|m| m.get(key)).filter(|f| f.still_hold(flag, file)) {
                self.out.extend_from_slice(&found.diagnostics);
                if !found.prerequisites.is_empty() {
                    graph.push((index, found.prerequisites.clone()));
                }
                continue;
            }
            let start = self.out.len();
            let at = flags_at.key(key);
            self.key(key, &at, "flag");
            if let Some(stage) = &flag.stage
                && !stage_keys.contains(&stage.as_str())
            {
                self.error(
                    Code::UnknownStage,
                    &at.key("stage"),
                    format!("stage `{stage}` does not exist; stages are {}", list(stage_keys.iter().copied())),
                );
            }
            self.flag(key, flag, &at);
            let prerequisites = seen_prerequisites(flag, file);
            if let Some(memo) = memo.as_deref_mut() {
                let diagnostics = self.out[start..].to_vec();
                let found = FlagFindings { flag: Arc::clone(flag), prerequisites: prerequisites.clone(), diagnostics };
                memo.insert(key.clone(), found);
            }
            if !prerequisites.is_empty() {
                graph.push((index, prerequisites));
            }
        }
        if let Some(memo) = memo
            && memo.len() > file.flags.len()
        {
            memo.retain(|key, _| file.flags.contains_key(key));
        }
        self.prerequisite_cycles(&graph);
    }

    fn environment_ref(&mut self, env: &str, at: &Pointer) {
        if !self.environments.contains(env) {
            let known = list(self.file.environments.iter().map(String::as_str));
            self.error(
                Code::UnknownEnvironment,
                at,
                format!("environment `{env}` is not one of the file's environments ({known})"),
            );
        }
    }

    fn segment_ref(&mut self, segment: &str, at: &Pointer) {
        if !self.segments.contains(segment) {
            self.error(Code::UnknownSegment, at, format!("segment `{segment}` is not defined under /segments"));
        }
    }

    fn variant_ref(&mut self, flag: Option<&Flag>, variant: &str, at: &Pointer) {
        if let Some(flag) = flag
            && !flag.variants.contains_key(variant)
        {
            self.error(
                Code::UnknownVariant,
                at,
                format!(
                    "variant `{variant}` is not one of this flag's variants ({})",
                    list(flag.variants.keys().map(String::as_str))
                ),
            );
        }
    }

    fn flag(&mut self, key: &'f str, flag: &'f Flag, at: &Pointer) {
        let variants_at = at.key("variants");
        if flag.variants.is_empty() {
            self.error(Code::Empty, &variants_at, "a flag needs at least one variant".into());
        }
        let mut first_type: Option<(&str, &'static str)> = None;
        for (name, value) in &flag.variants {
            let v_at = variants_at.key(name);
            self.key(name, &v_at, "variant");
            let Some(kind) = variant_type(value) else {
                self.error(
                    Code::VariantType,
                    &v_at,
                    format!(
                        "a variant's value is a boolean, string, number or object, found {}",
                        crate::diagnostic::kind_of(value)
                    ),
                );
                continue;
            };
            match first_type {
                None => first_type = Some((name, kind)),
                Some((first, first_kind)) if first_kind != kind => self.error(
                    Code::VariantType,
                    &v_at,
                    format!("all variants of a flag have one type: `{first}` is {first_kind}, `{name}` is {kind}"),
                ),
                Some(_) => {}
            }
        }
        self.variant_ref(Some(flag), &flag.off, &at.key("off"));

        for (env, fe) in &flag.environments {
            let at = at.key("environments").key(env);
            self.environment_ref(env, &at);
            let scope = Scope { flag: Some(flag), salt: key };
            for (i, pre) in fe.prerequisites.iter().flatten().enumerate() {
                let at = at.key("prerequisites").index(i);
                match self.file.flags.get(&pre.flag) {
                    None => self.error(
                        Code::UnknownFlag,
                        &at.key("flag"),
                        format!("prerequisite flag `{}` is not defined under /flags", pre.flag),
                    ),
                    Some(other) => {
                        if pre.variants.is_empty() {
                            self.error(Code::Empty, &at.key("variants"), "list at least one variant".into());
                        }
                        for (j, v) in pre.variants.iter().enumerate() {
                            self.variant_ref(Some(other), v, &at.key("variants").index(j));
                        }
                    }
                }
            }
            let mut targeted: HashMap<&str, &str> = HashMap::new();
            for (variant, keys) in fe.targets.iter().flatten() {
                let at = at.key("targets").key(variant);
                self.variant_ref(Some(flag), variant, &at);
                for (i, target) in keys.iter().enumerate() {
                    if let Some(other) = targeted.insert(target, variant) {
                        let message = if other == variant {
                            format!("targeting key `{target}` is listed twice under `{variant}`")
                        } else {
                            format!(
                                "targeting key `{target}` is already targeted with `{other}`; a key may have one variant"
                            )
                        };
                        self.error(Code::DuplicateTarget, &at.index(i), message);
                    }
                }
            }
            if let Some(rules) = &fe.rules {
                self.rules(rules, &at.key("rules"), scope);
            }
            self.serve(&fe.default, &at.key("default"), scope);
        }

        for env in &self.file.environments {
            if !flag.environments.contains_key(env) {
                self.warn(
                    Code::MissingEnvironment,
                    &at.key("environments"),
                    format!("no entry for environment `{env}`: the flag is off there (serves `{}`)", flag.off),
                );
            }
        }
        self.unused_variants(flag, at);
    }

    fn rules(&mut self, rules: &'f [Rule], at: &Pointer, scope: Scope<'f>) {
        let mut ids = HashSet::new();
        let mut catch_all: Option<&str> = None;
        for (i, rule) in rules.iter().enumerate() {
            let at = at.index(i);
            self.key(&rule.id, &at.key("id"), "rule id");
            if !ids.insert(rule.id.as_str()) {
                self.error(
                    Code::DuplicateRuleId,
                    &at.key("id"),
                    format!("rule id `{}` is used by an earlier rule of this environment", rule.id),
                );
            }
            if let Some(earlier) = catch_all {
                self.warn(
                    Code::UnreachableRule,
                    &at,
                    format!("rule `{}` is never reached: rule `{earlier}` before it matches everyone", rule.id),
                );
            }
            if let Some(segment) = &rule.segment {
                self.segment_ref(segment, &at.key("segment"));
            }
            if let Some(cond) = &rule.matches {
                self.condition(cond, &at.key("match"), scope.salt);
            }
            self.serve(&rule.serve, &at.key("serve"), scope);
            let matches_everyone = rule.segment.is_none()
                && rule.matches.as_ref().is_none_or(|c| matches!(c, Condition::All(c) if c.is_empty()));
            let always_serves = match &rule.serve {
                Serve::Variant(_) => true,
                Serve::Rollout(r) => r.entries.iter().any(|e| e.weight.as_f64() == Some(100.0)),
            };
            if catch_all.is_none() && matches_everyone && always_serves {
                catch_all = Some(&rule.id);
            }
        }
    }

    fn serve(&mut self, serve: &Serve, at: &Pointer, scope: Scope<'f>) {
        match serve {
            Serve::Variant(v) => self.variant_ref(scope.flag, v, &at.key("variant")),
            Serve::Rollout(r) => {
                let entries_at = at.key("rollout");
                if r.entries.is_empty() {
                    self.error(Code::Empty, &entries_at, "a rollout needs at least one variant".into());
                    return;
                }
                let mut total: u64 = 0;
                let mut weights_ok = true;
                let mut seen = HashSet::new();
                for (i, entry) in r.entries.iter().enumerate() {
                    let at = entries_at.index(i);
                    self.variant_ref(scope.flag, &entry.variant, &at.key("variant"));
                    if !seen.insert(entry.variant.as_str()) {
                        self.error(
                            Code::DuplicateEntry,
                            &at.key("variant"),
                            format!("variant `{}` appears twice in this rollout", entry.variant),
                        );
                    }
                    match Weight::from_number(&entry.weight).map(Weight::thousandths) {
                        Ok(m) => total += u64::from(m),
                        Err(why) => {
                            weights_ok = false;
                            self.error(Code::InvalidWeight, &at.key("weight"), why);
                        }
                    }
                }
                if weights_ok && total != u64::from(Weight::ALL.thousandths()) {
                    self.error(
                        Code::WeightSum,
                        &entries_at,
                        format!("weights add up to {}, not 100", format_thousandths(total)),
                    );
                }
                if let Some(path) = &r.bucket_by {
                    self.attribute(path, &at.key("bucket_by"));
                }
            }
        }
    }

    fn attribute(&mut self, path: &str, at: &Pointer) {
        if path.is_empty() {
            self.error(
                Code::InvalidAttribute,
                at,
                "no attribute yet: name one, like `country` or `company.plan`".into(),
            );
        } else if path.split('.').any(str::is_empty) {
            self.error(
                Code::InvalidAttribute,
                at,
                format!("`{path}` is not an attribute path: use names separated by single dots, like `company.plan`"),
            );
        }
    }

    fn condition(&mut self, cond: &Condition, at: &Pointer, salt: &str) {
        cond.walk(|part, trail| {
            let at = trail.pointer(at);
            match part {
                Part::Segment(s) => self.segment_ref(s, &at.key("segment")),
                Part::Leaf(leaf) => {
                    self.attribute(&leaf.attribute, &at.key("attribute"));
                    if let Err(problems) = ops::compile_test(leaf.op, &leaf.values, salt) {
                        for p in problems {
                            let place = match p.index {
                                Some(i) => at.key("values").index(i),
                                None => at.key("values"),
                            };
                            self.error(p.code, &place, p.message);
                        }
                    }
                }
            }
        });
    }

    fn segment_cycles(&mut self) {
        let Some(segments) = &self.file.segments else { return };
        let edges: Vec<Vec<usize>> = segments
            .values()
            .map(|s| {
                let refs = s.matches.as_ref().map(Condition::segments).unwrap_or_default();
                refs.into_iter().filter_map(|r| segments.get_index_of(r)).collect()
            })
            .collect();
        for cycle in find_cycles(&edges) {
            let keys: Vec<&str> =
                cycle.iter().filter_map(|&i| segments.get_index(i)).map(|(k, _)| k.as_str()).collect();
            let at = Pointer::root().key("segments").key(keys[0]);
            self.error(
                Code::SegmentCycle,
                &at,
                format!("segments refer to each other in a loop: {}", keys.join(" → ")),
            );
        }
    }

    /// `graph`: each flag with prerequisites, by position, with them.
    fn prerequisite_cycles(&mut self, graph: &[(usize, Vec<SeenPrerequisite>)]) {
        let flags = &self.file.flags;
        for env in &self.file.environments {
            let mut edges: Vec<Vec<usize>> = vec![Vec::new(); flags.len()];
            for (from, prerequisites) in graph {
                let here = prerequisites.iter().filter(|p| &p.environment == env);
                edges[*from].extend(here.filter_map(|p| flags.get_index_of(&p.flag)));
            }
            for cycle in find_cycles(&edges) {
                let keys: Vec<&str> =
                    cycle.iter().filter_map(|&i| flags.get_index(i)).map(|(k, _)| k.as_str()).collect();
                let at = Pointer::root().key("flags").key(keys[0]).key("environments").key(env).key("prerequisites");
                self.error(
                    Code::PrerequisiteCycle,
                    &at,
                    format!("prerequisites form a loop in `{env}`: {}", keys.join(" → ")),
                );
            }
        }
    }

    fn unused_variants(&mut self, flag: &Flag, at: &Pointer) {
        let mut used: HashSet<&str> = HashSet::new();
        used.insert(&flag.off);
        for fe in flag.environments.values() {
            for (v, keys) in fe.targets.iter().flatten() {
                if !keys.is_empty() {
                    used.insert(v);
                }
            }
            let serves = fe.rules.iter().flatten().map(|r| &r.serve).chain([&fe.default]);
            for serve in serves {
                match serve {
                    Serve::Variant(v) => {
                        used.insert(v);
                    }
                    Serve::Rollout(r) => {
                        for e in &r.entries {
                            if e.weight.as_f64().is_some_and(|w| w > 0.0) {
                                used.insert(&e.variant);
                            }
                        }
                    }
                }
            }
        }
        for name in flag.variants.keys() {
            if !used.contains(name.as_str()) {
                self.warn(
                    Code::UnusedVariant,
                    &at.key("variants").key(name),
                    format!("no one can get variant `{name}`: no target, rule, default or rollout weight serves it"),
                );
            }
        }
    }
}

fn variant_type(v: &Value) -> Option<&'static str> {
    match v {
        Value::Bool(_) => Some("a boolean"),
        Value::String(_) => Some("a string"),
        Value::Number(_) => Some("a number"),
        Value::Object(_) => Some("an object"),
        Value::Null | Value::Array(_) => None,
    }
}

/// Each cycle in a directed graph once, as the path of nodes from its first
/// node (in index order) back to itself. `edges[n]` lists the nodes `n`
/// points to. Depth-first without recursion, so a chain of any length is fine.
fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; edges.len()];
    let mut cycles = Vec::new();
    // The active path, each node with the index of its next edge to follow.
    let mut path: Vec<(usize, usize)> = Vec::new();
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        marks[start] = Mark::Active;
        path.push((start, 0));
        while let Some((node, next_edge)) = path.last_mut() {
            let Some(&next) = edges[*node].get(*next_edge) else {
                marks[*node] = Mark::Done;
                path.pop();
                continue;
            };
            *next_edge += 1;
            match marks.get(next) {
                Some(Mark::New) => {
                    marks[next] = Mark::Active;
                    path.push((next, 0));
                }
                Some(Mark::Active) => {
                    let from = path.iter().position(|(n, _)| *n == next).unwrap_or(0);
                    let mut cycle: Vec<usize> = path[from..].iter().map(|(n, _)| *n).collect();
                    cycle.push(next);
                    cycles.push(cycle);
                }
                Some(Mark::Done) | None => {}
            }
        }
    }
    cycles
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut v: Vec<String> = items.map(|s| format!("`{s}`")).collect();
    if v.is_empty() {
        return "none".into();
    }
    if v.len() > 12 {
        let more = v.len() - 12;
        v.truncate(12);
        v.push(format!("and {more} more"));
    }
    v.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_value_is_checked_as_a_load_would_check_it() {
        use crate::model::Op;
        assert_eq!(check_value(Op::Lt, &Value::from(3)), Ok(()));
        assert!(check_value(Op::Lt, &Value::from("3")).unwrap_err().contains("compares numbers"));
        assert!(check_value(Op::SemverGte, &Value::from("1.2")).is_ok());
        assert!(check_value(Op::SemverGte, &Value::from("one")).unwrap_err().contains("not a semantic version"));
        assert!(check_value(Op::Matches, &Value::from("^[A-Z]{2,3}$")).is_ok());
        assert!(check_value(Op::Matches, &Value::from("(")).unwrap_err().contains("regular expression"));
        assert!(check_value(Op::Before, &Value::from("2026-01-01T00:00:00Z")).is_ok());
        assert!(check_value(Op::Before, &Value::from("tomorrow")).is_err());
        assert!(check_value(Op::Percent, &Value::from(150)).is_err());
    }

    #[test]
    fn keys() {
        assert!(is_valid_key("new-checkout_v2.1"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("a/b"));
        assert!(!is_valid_key("ユーザー"));
        assert!(is_valid_key(&"a".repeat(128)));
        assert!(!is_valid_key(&"a".repeat(129)));
    }

    #[test]
    fn cycles_are_found_once_each() {
        // a → b, b → a and c, c → c, d → a
        let edges = [vec![1], vec![0, 2], vec![2], vec![0]];
        assert_eq!(find_cycles(&edges), vec![vec![0, 1, 0], vec![2, 2]]);
    }

    #[test]
    fn a_long_chain_is_walked_without_recursion() {
        let n = 1_000_000;
        let mut edges: Vec<Vec<usize>> = (0..n).map(|i| vec![i + 1]).collect();
        edges[n - 1] = vec![0];
        let cycles = find_cycles(&edges);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n + 1);
    }
}
