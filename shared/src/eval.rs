//! Evaluation of one flag for one context in one environment, in exactly the
//! contract's order: unknown flag, disabled, prerequisites, individual
//! targets, rules (first match wins), default. Optionally with a trace of why
//! each earlier step did not decide, for the editor's "try a user" panel.

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::bucket;
use crate::compile::{
    CompiledFile, CompiledRule, CompiledServe, Cond, EnvId, FlagId, LeafKind, RolloutServe, SegmentId, Target,
};
use crate::context::Context;

/// Why a variant was served: OpenFeature's resolution reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The flag serves one variant to everyone in this environment.
    Static,
    /// An individual target or a rule with a single variant decided.
    TargetingMatch,
    /// A percentage rollout decided.
    Split,
    /// The default decided (the environment has targeting that did not match).
    Default,
    /// The flag is off here, or a prerequisite was not met.
    Disabled,
}

impl Reason {
    /// OpenFeature's name for the reason, e.g. `TARGETING_MATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
            Reason::Disabled => "DISABLED",
        }
    }
}

/// A successful evaluation: what was served and why. Borrows from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<'f> {
    /// The flag's key.
    pub flag: &'f str,
    /// The served variant's key.
    pub variant: &'f str,
    /// The served variant's value, as written in the file.
    pub value: &'f Value,
    /// The same value as JSON text (numbers as written), made when the file
    /// was compiled: what an answer writes.
    pub value_json: &'f str,
    /// Why.
    pub reason: Reason,
    /// The id of the rule that decided, when one did.
    pub rule_id: Option<&'f str>,
    /// The flag's stage, when set.
    pub stage: Option<&'f str>,
    /// The prerequisite flag that was not met, when that disabled the flag.
    pub failed_prerequisite: Option<&'f str>,
}

/// Why a flag could not be evaluated: the contract's error codes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// The file has no flag with this key.
    #[error("flag `{0}` is not in the flags file")]
    FlagNotFound(String),
    /// The default is a rollout and the context lacks the value to bucket by.
    #[error("the default rollout buckets by `{attribute}`, which the context does not have")]
    TargetingKeyMissing {
        /// The `bucket_by` attribute path.
        attribute: String,
    },
}

impl EvalError {
    /// OpenFeature's error code, e.g. `FLAG_NOT_FOUND`.
    pub fn code(&self) -> &'static str {
        match self {
            EvalError::FlagNotFound(_) => "FLAG_NOT_FOUND",
            EvalError::TargetingKeyMissing { .. } => "TARGETING_KEY_MISSING",
        }
    }
}

/// One step of an evaluation, for people: what was looked at and what it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step<'f> {
    /// The flag has no entry for the environment: off.
    NoEnvironmentEntry {
        /// The environment.
        environment: &'f str,
    },
    /// The kill switch is off.
    Disabled,
    /// A prerequisite flag served one of the wanted variants.
    PrerequisiteMet {
        /// The prerequisite flag.
        flag: &'f str,
        /// What it served.
        variant: &'f str,
    },
    /// A prerequisite flag did not serve one of the wanted variants.
    PrerequisiteNotMet {
        /// The prerequisite flag.
        flag: &'f str,
        /// What it served, if it could be evaluated.
        variant: Option<&'f str>,
    },
    /// The targeting key is not among the individual targets.
    NotTargeted,
    /// The targeting key is an individual target.
    Targeted {
        /// The variant it is targeted with.
        variant: &'f str,
    },
    /// A rule's segment does not hold.
    NotInSegment {
        /// The rule.
        rule: &'f str,
        /// Its segment.
        segment: &'f str,
    },
    /// A rule's condition does not hold.
    ConditionFalse {
        /// The rule.
        rule: &'f str,
    },
    /// A rule's rollout needs an attribute the context lacks.
    BucketValueMissing {
        /// The rule.
        rule: &'f str,
        /// The `bucket_by` attribute.
        attribute: &'f str,
    },
    /// A rule matched and decided.
    RuleMatched {
        /// The rule.
        rule: &'f str,
    },
    /// No rule matched: the default decided.
    Default,
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::NoEnvironmentEntry { environment } => {
                write!(f, "the flag has no settings for `{environment}`, so it is off there")
            }
            Step::Disabled => write!(f, "the flag is disabled (kill switch off)"),
            Step::PrerequisiteMet { flag, variant } => write!(f, "prerequisite `{flag}` is met (serves `{variant}`)"),
            Step::PrerequisiteNotMet { flag, variant: Some(v) } => {
                write!(f, "prerequisite `{flag}` is not met (serves `{v}`)")
            }
            Step::PrerequisiteNotMet { flag, variant: None } => {
                write!(f, "prerequisite `{flag}` is not met (it could not be evaluated)")
            }
            Step::NotTargeted => write!(f, "the targeting key is not an individual target"),
            Step::Targeted { variant } => write!(f, "the targeting key is an individual target for `{variant}`"),
            Step::NotInSegment { rule, segment } => write!(f, "rule `{rule}`: not in segment `{segment}`"),
            Step::ConditionFalse { rule } => write!(f, "rule `{rule}`: its condition does not hold"),
            Step::BucketValueMissing { rule, attribute } => {
                write!(f, "rule `{rule}`: the context has no `{attribute}` to bucket by")
            }
            Step::RuleMatched { rule } => write!(f, "rule `{rule}` matches"),
            Step::Default => write!(f, "no rule matched: the default serves"),
        }
    }
}

/// Where evaluation reports its steps: nowhere (the fast path) or a list.
trait Trace<'f> {
    fn step(&mut self, step: impl FnOnce() -> Step<'f>);
}

impl<'f> Trace<'f> for () {
    #[inline(always)]
    fn step(&mut self, _: impl FnOnce() -> Step<'f>) {}
}

impl<'f> Trace<'f> for Vec<Step<'f>> {
    fn step(&mut self, step: impl FnOnce() -> Step<'f>) {
        self.push(step());
    }
}

/// The result of evaluating one flag.
pub type EvalResult<'f> = Result<Evaluation<'f>, EvalError>;

impl CompiledFile {
    /// Evaluate flag `key` for `context` in `env`.
    pub fn evaluate(&self, key: &str, env: EnvId, context: &Context) -> EvalResult<'_> {
        let id = self.flag(key).ok_or_else(|| EvalError::FlagNotFound(key.to_owned()))?;
        self.evaluate_id(id, env, context)
    }

    /// Evaluate a flag by id (see [`CompiledFile::flag_ids`]).
    pub fn evaluate_id(&self, id: FlagId, env: EnvId, context: &Context) -> EvalResult<'_> {
        self.run(id, env, context, &mut None, &mut (), &mut Memo::default())
    }

    /// Where `context`'s targeting key is an individual target, in flag and
    /// environment order (empty without a targeting key).
    fn targets_of(&self, context: &Context) -> &[Target] {
        context.targeting_key().and_then(|k| self.targets.get(k)).map_or(&[], |t| t.as_slice())
    }

    /// Evaluate, and say step by step why.
    pub fn explain(&self, key: &str, env: EnvId, context: &Context) -> (EvalResult<'_>, Vec<Step<'_>>) {
        let mut steps = Vec::new();
        let result = match self.flag(key) {
            Some(id) => self.run(id, env, context, &mut None, &mut steps, &mut Memo::default()),
            None => Err(EvalError::FlagNotFound(key.to_owned())),
        };
        (result, steps)
    }

    /// Every flag, in file order, for one context.
    pub fn evaluate_all<'a>(
        &'a self,
        env: EnvId,
        context: &'a Context,
    ) -> impl Iterator<Item = (&'a str, EvalResult<'a>)> + 'a {
        // The targeting key is looked up once for all flags.
        let targets = self.targets_of(context);
        // Segments are decided once for all flags.
        let mut memo = Memo { prerequisites: Vec::new(), segments: Segments::remembering(self.segments.len()) };
        self.flags.iter().enumerate().map(move |(i, f)| {
            memo.prerequisites.clear();
            (&*f.key, self.run(FlagId(i), env, context, &mut Some(targets), &mut (), &mut memo))
        })
    }

    /// Whether `context` is in segment `key` (for the editor's counts);
    /// `None` for a segment the file lacks. To test many users against many
    /// segments, look each segment up once with [`CompiledFile::segment`].
    pub fn in_segment(&self, key: &str, context: &Context) -> Option<bool> {
        Some(self.in_segment_id(self.segment(key)?, context))
    }

    /// Whether `context` is in the segment `id`.
    pub fn in_segment_id(&self, id: SegmentId, context: &Context) -> bool {
        self.segment_holds(id.0, context, &mut Segments::default())
    }

    /// Whether rule number `rule` (0-based, in order) of flag `id` in `env`
    /// holds for `context` on its own — its segment and condition hold, and a
    /// rollout finds the value it buckets by — whatever the steps before it
    /// decide. `None` when there is no such rule. For the editor's warnings:
    /// a rule that holds for users who are all decided earlier is shadowed.
    pub fn rule_matches(&self, id: FlagId, env: EnvId, rule: usize, context: &Context) -> Option<bool> {
        let fe = self.settings.get(env.0)?.get(id.0)?.as_ref()?;
        let rule = fe.rules.get(rule)?;
        Some(self.rule_holds(rule, context, &mut Segments::default()))
    }

    /// The id of rule number `rule` of flag `id` in `env`.
    pub fn rule_id(&self, id: FlagId, env: EnvId, rule: usize) -> Option<&str> {
        Some(&self.settings.get(env.0)?.get(id.0)?.as_ref()?.rules.get(rule)?.id)
    }

    /// How many rules flag `id` has in `env` (0 without settings there).
    pub fn rule_count(&self, id: FlagId, env: EnvId) -> usize {
        self.settings.get(env.0).and_then(|s| s.get(id.0)).and_then(Option::as_ref).map_or(0, |fe| fe.rules.len())
    }

    fn rule_holds(&self, rule: &CompiledRule, ctx: &Context, segments: &mut Segments) -> bool {
        rule.segment.is_none_or(|s| self.segment_holds(s, ctx, segments))
            && rule.condition.as_ref().is_none_or(|c| self.holds(c, ctx, segments))
            && match &rule.serve {
                CompiledServe::Variant(_) => true,
                CompiledServe::Rollout(r) => pick(r, ctx).is_some(),
            }
    }

    /// `memo.prerequisites` remembers what each prerequisite served during this
    /// evaluation, so shared prerequisites (A needs B and C, both need D) are
    /// evaluated once: without it, a chain where each flag needs the two
    /// before it would take exponential time.
    fn run<'f>(
        &'f self,
        id: FlagId,
        env: EnvId,
        ctx: &Context,
        // The context's individual targets, once looked up (only a flag
        // with targets needs them, and then its prerequisites share them).
        targets: &mut Option<&'f [Target]>,
        trace: &mut impl Trace<'f>,
        memo: &mut Memo<'f>,
    ) -> EvalResult<'f> {
        let flag = self.flags.get(id.0).ok_or_else(|| EvalError::FlagNotFound(String::new()))?;
        let served = |variant: usize, reason, rule_id| Evaluation {
            flag: &flag.key,
            variant: &self.variants[flag.first_variant + variant].key,
            value: &self.variants[flag.first_variant + variant].value,
            value_json: &self.variants[flag.first_variant + variant].json,
            reason,
            rule_id,
            stage: flag.stage.as_deref(),
            failed_prerequisite: None,
        };

        // 2. No entry, or the kill switch.
        let Some(Some(fe)) = self.settings.get(env.0).and_then(|s| s.get(id.0)) else {
            trace.step(|| Step::NoEnvironmentEntry { environment: self.environment_key(env) });
            return Ok(served(flag.off, Reason::Disabled, None));
        };
        if !fe.enabled {
            trace.step(|| Step::Disabled);
            return Ok(served(flag.off, Reason::Disabled, None));
        }

        // 3. Prerequisites.
        for pre in &fe.prerequisites {
            let other = &self.flags[pre.flag.0];
            let got = match memo.prerequisites.iter().find(|(f, _)| *f == pre.flag) {
                Some((_, got)) => *got,
                None => {
                    let got = self.run(pre.flag, env, ctx, targets, &mut (), memo).ok().map(|e| e.variant);
                    memo.prerequisites.push((pre.flag, got));
                    got
                }
            };
            let met =
                got.is_some_and(|v| pre.variants.iter().any(|i| &*self.variants[other.first_variant + *i].key == v));
            if met {
                trace.step(|| Step::PrerequisiteMet { flag: &other.key, variant: got.unwrap_or_default() });
            } else {
                trace.step(|| Step::PrerequisiteNotMet { flag: &other.key, variant: got });
                return Ok(Evaluation {
                    failed_prerequisite: Some(&other.key),
                    ..served(flag.off, Reason::Disabled, None)
                });
            }
        }

        // 4. Individual targets.
        if fe.has_targets {
            let targets = *targets.get_or_insert_with(|| self.targets_of(ctx));
            let here = targets.binary_search_by_key(&(id.0, env.0), |t| (t.flag as usize, t.env as usize));
            if let Some(v) = here.ok().and_then(|i| targets.get(i)).map(|t| t.variant as usize) {
                trace.step(|| Step::Targeted { variant: &self.variants[flag.first_variant + v].key });
                return Ok(served(v, Reason::TargetingMatch, None));
            }
            trace.step(|| Step::NotTargeted);
        }

        // 5. Rules, first match wins.
        for rule in &fe.rules {
            if let Some(s) = rule.segment
                && !self.segment_holds(s, ctx, &mut memo.segments)
            {
                trace.step(|| Step::NotInSegment { rule: &rule.id, segment: &self.segments[s].key });
                continue;
            }
            if let Some(c) = &rule.condition
                && !self.holds(c, ctx, &mut memo.segments)
            {
                trace.step(|| Step::ConditionFalse { rule: &rule.id });
                continue;
            }
            match &rule.serve {
                CompiledServe::Variant(v) => {
                    trace.step(|| Step::RuleMatched { rule: &rule.id });
                    return Ok(served(*v, Reason::TargetingMatch, Some(&rule.id)));
                }
                CompiledServe::Rollout(r) => match pick(r, ctx) {
                    Some(v) => {
                        trace.step(|| Step::RuleMatched { rule: &rule.id });
                        return Ok(served(v, Reason::Split, Some(&rule.id)));
                    }
                    None => trace.step(|| Step::BucketValueMissing { rule: &rule.id, attribute: &r.bucket_by }),
                },
            }
        }

        // 6. Default.
        trace.step(|| Step::Default);
        match &fe.default {
            CompiledServe::Variant(v) => {
                Ok(served(*v, if fe.is_static { Reason::Static } else { Reason::Default }, None))
            }
            CompiledServe::Rollout(r) => match pick(r, ctx) {
                Some(v) => Ok(served(v, Reason::Split, None)),
                None => Err(EvalError::TargetingKeyMissing { attribute: r.bucket_by.to_string() }),
            },
        }
    }

    fn segment_holds(&self, i: usize, ctx: &Context, segments: &mut Segments) -> bool {
        if let Some(known) = segments.get(i) {
            return known;
        }
        let holds = self.segment_decides(i, ctx, segments);
        segments.set(i, holds);
        holds
    }

    fn segment_decides(&self, i: usize, ctx: &Context, segments: &mut Segments) -> bool {
        let s = &self.segments[i];
        if let Some(key) = ctx.targeting_key() {
            if s.excluded.contains(key) {
                return false;
            }
            if s.included.contains(key) {
                return true;
            }
        }
        s.condition.as_ref().is_some_and(|c| self.holds(c, ctx, segments))
    }

    fn holds(&self, c: &Cond, ctx: &Context, segments: &mut Segments) -> bool {
        match c {
            Cond::All(cs) => cs.iter().all(|c| self.holds(c, ctx, segments)),
            Cond::Any(cs) => cs.iter().any(|c| self.holds(c, ctx, segments)),
            Cond::None(cs) => !cs.iter().any(|c| self.holds(c, ctx, segments)),
            Cond::Segment(s) => self.segment_holds(*s, ctx, segments),
            Cond::Leaf(leaf) => {
                let found = ctx.attribute(&leaf.attribute, leaf.attribute_head);
                match leaf.kind {
                    LeafKind::Exists => found.is_some(),
                    LeafKind::NotExists => found.is_none(),
                    LeafKind::Positive => found.and_then(|a| leaf.test.check(&a)) == Some(true),
                    LeafKind::Negated => found.and_then(|a| leaf.test.check(&a)) == Some(false),
                }
            }
        }
    }
}

/// What one evaluation remembers: what each prerequisite served, and which
/// segments hold.
#[derive(Default)]
struct Memo<'f> {
    prerequisites: Vec<(FlagId, Option<&'f str>)>,
    segments: Segments,
}

/// Which segments hold for the context of `evaluate_all`, as they are
/// decided: a segment used by many rules of many flags is decided once. One
/// evaluation alone remembers nothing (`Segments::default()`), so it costs
/// no allocation.
#[derive(Default)]
struct Segments(Option<Vec<u8>>);

impl Segments {
    const UNKNOWN: u8 = 0;

    /// Remembering, for a file of `count` segments.
    fn remembering(count: usize) -> Self {
        Segments(Some(vec![Self::UNKNOWN; count]))
    }

    fn get(&self, i: usize) -> Option<bool> {
        match self.0.as_ref()?.get(i).copied() {
            None | Some(Self::UNKNOWN) => None,
            Some(state) => Some(state == 2),
        }
    }

    fn set(&mut self, i: usize, holds: bool) {
        if let Some(state) = self.0.as_mut().and_then(|s| s.get_mut(i)) {
            *state = if holds { 2 } else { 1 };
        }
    }
}

/// The variant a rollout gives this context, or `None` when the value to
/// bucket by is missing (or a list, object or null).
fn pick(r: &RolloutServe, ctx: &Context) -> Option<usize> {
    if let Some(v) = r.certain {
        return Some(v as usize);
    }
    let b = bucket::bucket_attribute(&r.salt, ctx.attribute(&r.bucket_by, r.bucket_by_head)?.value)?;
    r.ranges.iter().find(|(end, _)| b < *end).map(|(_, v)| *v as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_rule_is_tested_on_its_own_whatever_comes_before() {
        let text = r#"{"version": 1, "environments": ["p"], "flags": {"f": {
            "variants": {"on": true, "off": false}, "off": "off",
            "environments": {"p": {"enabled": true, "rules": [
                {"id": "everyone", "serve": {"variant": "on"}},
                {"id": "de", "match": {"attribute": "country", "op": "in", "values": ["DE"]}, "serve": {"variant": "off"}},
                {"id": "by-company", "serve": {"rollout": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}],
                 "bucket_by": "company"}}],
              "default": {"variant": "off"}}}}}}"#;
        let file = crate::load(text).unwrap().compiled;
        let (id, env) = (file.flag("f").unwrap(), file.first_environment());
        let mut de = Context::with_key("u");
        de.set("country", json!("DE"));
        assert_eq!(file.evaluate_id(id, env, &de).unwrap().rule_id, Some("everyone"));
        assert_eq!(file.rule_matches(id, env, 1, &de), Some(true), "holds, though `everyone` decides first");
        assert_eq!(file.rule_matches(id, env, 1, &Context::with_key("u")), Some(false));
        assert_eq!(file.rule_matches(id, env, 2, &de), Some(false), "no `company` to bucket by");
        assert_eq!(file.rule_matches(id, env, 3, &de), None);
        assert_eq!(file.rule_count(id, env), 3);
        assert_eq!(file.rule_id(id, env, 2), Some("by-company"));
    }

    /// Flag N needs flags N-1 and N-2: without remembering prerequisite
    /// results, flag 60 would take about 2^42 evaluations and never finish.
    #[test]
    fn shared_prerequisites_are_evaluated_once() {
        let mut flags = serde_json::Map::new();
        for i in 0..60 {
            let prerequisites: Vec<_> =
                (i.max(2) - 2..i).map(|p| json!({"flag": format!("f{p}"), "variants": ["on"]})).collect();
            flags.insert(
                format!("f{i}"),
                json!({"variants": {"on": true, "off": false}, "off": "off",
                       "environments": {"p": {"enabled": true, "prerequisites": prerequisites, "default": {"variant": "on"}}}}),
            );
        }
        let text = json!({"version": 1, "environments": ["p"], "flags": flags}).to_string();
        let file = crate::load(&text).unwrap().compiled;
        let env = file.first_environment();
        let result = file.evaluate("f59", env, &Context::new()).unwrap();
        assert_eq!((result.variant, result.reason), ("on", Reason::Default));
        assert_eq!(file.evaluate_all(env, &Context::new()).filter(|(_, r)| r.is_ok()).count(), 60);
    }
}
