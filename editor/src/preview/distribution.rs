//! Who gets what: for one flag and environment over a population, how many
//! users get each variant and which step of the evaluation decided for them
//! (individual targets, each rule, the default, the kill switch, an unmet
//! prerequisite, an error). Also segment membership counts.
//!
//! The compiled file evaluates; a [`FlagOutline`] taken from the model gives
//! the variant and rule order to list them in (with zero counts too).

use burgee_rules::{CompiledFile, Context, EnvId, EvalResult, FlagFile, FlagId, Reason};

use super::parallel::map_chunks;

/// The shape of one flag in one environment, from the model: what a
/// [`Distribution`] lists, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagOutline {
    /// The variant keys, in file order.
    pub variants: Vec<String>,
    /// The rule ids in this environment, in order.
    pub rules: Vec<String>,
    /// The environment has individual targets.
    pub has_targets: bool,
    /// The environment has prerequisites.
    pub has_prerequisites: bool,
}

impl FlagOutline {
    /// The outline of `flag` in `environment` (empty lists when either is absent).
    pub fn of(file: &FlagFile, flag: &str, environment: &str) -> Self {
        let Some(f) = file.flags.get(flag) else { return FlagOutline::default() };
        let fe = f.environments.get(environment);
        FlagOutline {
            variants: f.variants.keys().cloned().collect(),
            rules: fe
                .and_then(|e| e.rules.as_ref())
                .map(|r| r.iter().map(|r| r.id.clone()).collect())
                .unwrap_or_default(),
            has_targets: fe.and_then(|e| e.targets.as_ref()).is_some_and(|t| t.values().any(|keys| !keys.is_empty())),
            has_prerequisites: fe.and_then(|e| e.prerequisites.as_ref()).is_some_and(|p| !p.is_empty()),
        }
    }
}

/// The step of the evaluation that decided a user's variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Decider {
    /// The user is an individual target.
    Target,
    /// This rule matched.
    Rule(String),
    /// No rule matched: the default served.
    Default,
    /// The flag is off in this environment (kill switch or no settings).
    Disabled,
    /// A prerequisite was not met, so the flag served its off variant.
    Prerequisite,
    /// Evaluation failed with this error code (e.g. `TARGETING_KEY_MISSING`).
    Error(&'static str),
}

impl std::fmt::Display for Decider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decider::Target => write!(f, "Individual targets"),
            Decider::Rule(id) => write!(f, "Rule {id}"),
            Decider::Default => write!(f, "Default"),
            Decider::Disabled => write!(f, "Disabled"),
            Decider::Prerequisite => write!(f, "Prerequisite not met"),
            Decider::Error(code) => write!(f, "Error {code}"),
        }
    }
}

/// A [`Decider`] borrowing the rule id from the compiled file: what the
/// counting loops compare per user without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decided<'f> {
    Target,
    Rule(&'f str),
    Default,
    Disabled,
    Prerequisite,
    Error(&'static str),
}

impl<'f> Decided<'f> {
    /// The step that decided `result`.
    fn of(result: &EvalResult<'f>) -> Self {
        match result {
            Ok(e) => match (e.reason, e.rule_id) {
                (_, Some(rule)) => Decided::Rule(rule),
                (Reason::Disabled, None) if e.failed_prerequisite.is_some() => Decided::Prerequisite,
                (Reason::Disabled, None) => Decided::Disabled,
                (Reason::TargetingMatch, None) => Decided::Target,
                (Reason::Static | Reason::Default | Reason::Split, None) => Decided::Default,
            },
            Err(e) => Decided::Error(e.code()),
        }
    }

    /// Whether it is the step `d`.
    fn is(self, d: &Decider) -> bool {
        match (self, d) {
            (Decided::Rule(a), Decider::Rule(b)) => a == b,
            (Decided::Target, Decider::Target)
            | (Decided::Default, Decider::Default)
            | (Decided::Disabled, Decider::Disabled)
            | (Decided::Prerequisite, Decider::Prerequisite) => true,
            (Decided::Error(a), Decider::Error(b)) => a == *b,
            _ => false,
        }
    }

    /// As a [`Decider`].
    fn owned(self) -> Decider {
        match self {
            Decided::Target => Decider::Target,
            Decided::Rule(r) => Decider::Rule(r.to_owned()),
            Decided::Default => Decider::Default,
            Decided::Disabled => Decider::Disabled,
            Decided::Prerequisite => Decider::Prerequisite,
            Decided::Error(code) => Decider::Error(code),
        }
    }
}

/// How many users one step decided, and for which variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeciderCount {
    /// The step.
    pub decider: Decider,
    /// How many users it decided.
    pub users: usize,
    /// Of those, how many got each variant (aligned with [`Distribution::variants`]).
    pub by_variant: Vec<usize>,
}

/// Who gets what for one flag in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution {
    /// The flag's key.
    pub flag: String,
    /// The environment's key.
    pub environment: String,
    /// How many users were evaluated.
    pub total: usize,
    /// Users per variant: every variant of the flag in file order, zeros
    /// included (a variant the outline lacks is added at the end).
    pub variants: Vec<(String, usize)>,
    /// Users per deciding step, in evaluation order: individual targets
    /// (when the environment has any), each rule, the default, disabled,
    /// prerequisite not met, then each error code that occurred. Steps that
    /// cannot happen here are left out; the others are listed even at zero.
    pub deciders: Vec<DeciderCount>,
    /// How many evaluations failed (all error codes together).
    pub errors: usize,
}

impl Distribution {
    /// The users a variant got, or 0.
    pub fn users_of(&self, variant: &str) -> usize {
        self.variants.iter().find(|(v, _)| v == variant).map_or(0, |(_, n)| *n)
    }

    /// The users a step decided, or 0.
    pub fn decided_by(&self, decider: &Decider) -> usize {
        self.deciders.iter().find(|d| &d.decider == decider).map_or(0, |d| d.users)
    }
}

/// Evaluate `flag` in `environment` for every user and count what they get
/// (large populations are split across the cores).
///
/// When the flag or the environment is not in `compiled`, every user counts
/// as an error (`FLAG_NOT_FOUND`, or `ENVIRONMENT_NOT_FOUND`).
pub fn distribution(
    compiled: &CompiledFile,
    outline: &FlagOutline,
    flag: &str,
    environment: &str,
    population: &[Context],
) -> Distribution {
    let mut counter = Counter::new(outline);
    match resolve(compiled, flag, environment) {
        Err(code) => counter.add_errors(code, population.len()),
        Ok((id, env)) => {
            let parts = map_chunks(population, |_, users| {
                let mut counter = Counter::new(outline);
                for user in users {
                    counter.add(&compiled.evaluate_id(id, env, user));
                }
                counter
            });
            for part in parts {
                counter.merge(part);
            }
        }
    }
    counter.finish(flag, environment, population.len())
}

/// The flag and environment ids, or the error code every user gets.
pub(crate) fn resolve(compiled: &CompiledFile, flag: &str, environment: &str) -> Result<(FlagId, EnvId), &'static str> {
    match (compiled.flag(flag), compiled.environment(environment)) {
        (Some(id), Some(env)) => Ok((id, env)),
        (None, _) => Err("FLAG_NOT_FOUND"),
        (Some(_), None) => Err("ENVIRONMENT_NOT_FOUND"),
    }
}

/// Counts evaluation results into a [`Distribution`]; one per thread, merged.
#[derive(Debug)]
pub(crate) struct Counter {
    variants: Vec<String>,
    deciders: Vec<Decider>,
    counts: Counts,
    errors: usize,
}

impl Counter {
    /// Empty counts, listing the outline's variants and steps.
    pub(crate) fn new(outline: &FlagOutline) -> Self {
        let variants = outline.variants.clone();
        let mut deciders: Vec<Decider> = Vec::new();
        if outline.has_targets {
            deciders.push(Decider::Target);
        }
        deciders.extend(outline.rules.iter().cloned().map(Decider::Rule));
        deciders.extend([Decider::Default, Decider::Disabled]);
        if outline.has_prerequisites {
            deciders.push(Decider::Prerequisite);
        }
        let counts = Counts::new(variants.len(), deciders.len());
        Counter { variants, deciders, counts, errors: 0 }
    }

    /// Count one evaluation (allocates only for a variant or step the
    /// outline did not list).
    pub(crate) fn add(&mut self, result: &EvalResult<'_>) {
        let (variants, deciders) = (&mut self.variants, &mut self.deciders);
        match result {
            Ok(e) => {
                let v = index_of(variants, |v| v == e.variant, || e.variant.to_owned());
                let step = Decided::of(result);
                let d = index_of(deciders, |d| step.is(d), || step.owned());
                self.counts.grow(variants.len(), deciders.len());
                self.counts.variants[v] += 1;
                self.counts.deciders[d] += 1;
                self.counts.cross[d][v] += 1;
            }
            Err(e) => self.add_errors(e.code(), 1),
        }
    }

    /// Count `n` failed evaluations with this code.
    pub(crate) fn add_errors(&mut self, code: &'static str, n: usize) {
        if n == 0 {
            return;
        }
        let d = index_of(&mut self.deciders, |d| d == &Decider::Error(code), || Decider::Error(code));
        self.counts.grow(self.variants.len(), self.deciders.len());
        self.counts.deciders[d] += n;
        self.errors += n;
    }

    /// Add another counter's counts (matching variants and steps by name).
    pub(crate) fn merge(&mut self, other: Counter) {
        let vmap: Vec<usize> =
            other.variants.iter().map(|name| index_of(&mut self.variants, |v| v == name, || name.clone())).collect();
        let dmap: Vec<usize> =
            other.deciders.iter().map(|step| index_of(&mut self.deciders, |d| d == step, || step.clone())).collect();
        self.counts.grow(self.variants.len(), self.deciders.len());
        for (i, n) in other.counts.variants.iter().enumerate() {
            self.counts.variants[vmap[i]] += n;
        }
        for (i, n) in other.counts.deciders.iter().enumerate() {
            self.counts.deciders[dmap[i]] += n;
            for (j, m) in other.counts.cross[i].iter().enumerate() {
                self.counts.cross[dmap[i]][vmap[j]] += m;
            }
        }
        self.errors += other.errors;
    }

    /// The distribution counted.
    pub(crate) fn finish(self, flag: &str, environment: &str, total: usize) -> Distribution {
        Distribution {
            flag: flag.to_owned(),
            environment: environment.to_owned(),
            total,
            variants: self.variants.into_iter().zip(self.counts.variants).collect(),
            deciders: self
                .deciders
                .into_iter()
                .zip(self.counts.deciders)
                .zip(self.counts.cross)
                .map(|((decider, users), by_variant)| DeciderCount { decider, users, by_variant })
                .collect(),
            errors: self.errors,
        }
    }
}

/// Per-variant, per-step and step × variant counters that grow when an
/// unexpected variant or step turns up.
#[derive(Debug)]
struct Counts {
    variants: Vec<usize>,
    deciders: Vec<usize>,
    cross: Vec<Vec<usize>>,
}

impl Counts {
    fn new(variants: usize, deciders: usize) -> Self {
        Counts { variants: vec![0; variants], deciders: vec![0; deciders], cross: vec![vec![0; variants]; deciders] }
    }

    fn grow(&mut self, variants: usize, deciders: usize) {
        if self.variants.len() < variants || self.deciders.len() < deciders {
            self.variants.resize(variants, 0);
            self.deciders.resize(deciders, 0);
            self.cross.resize(deciders, Vec::new());
            for row in &mut self.cross {
                row.resize(variants, 0);
            }
        }
    }
}

/// The position of the first item `is` accepts, adding `new()` when none does.
fn index_of<T>(items: &mut Vec<T>, is: impl Fn(&T) -> bool, new: impl FnOnce() -> T) -> usize {
    items.iter().position(is).unwrap_or_else(|| {
        items.push(new());
        items.len() - 1
    })
}

/// How many users are in each segment, in the order of `segments` (keys
/// the compiled file does not know count 0).
pub fn segment_counts(compiled: &CompiledFile, segments: &[String], population: &[Context]) -> Vec<(String, usize)> {
    let ids: Vec<_> = segments.iter().map(|key| compiled.segment(key)).collect();
    // Users outside, segments inside: each user is fetched from memory once.
    let parts = map_chunks(population, |_, users| {
        let mut counts = vec![0; segments.len()];
        for user in users {
            for (id, n) in ids.iter().zip(&mut counts) {
                *n += usize::from(id.is_some_and(|id| compiled.in_segment_id(id, user)));
            }
        }
        counts
    });
    let mut counts = vec![0; segments.len()];
    for part in parts {
        for (total, n) in counts.iter_mut().zip(part) {
            *total += n;
        }
    }
    segments.iter().cloned().zip(counts).collect()
}

/// How one rule fares on the sample: how many users it holds for on its own,
/// how many it decides, and — when it decides no one it holds for — which
/// earlier step takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReach {
    /// The rule's id.
    pub rule: String,
    /// Users for whom the rule holds on its own (segment, condition, bucket value).
    pub matches: usize,
    /// Users it decides (it holds and no earlier step decided).
    pub decides: usize,
    /// The earlier step that decides most of the users it holds for, when
    /// it decides none of them: the rule is shadowed.
    pub shadowed_by: Option<Decider>,
}

/// For each rule of `flag` in `environment`, in order, its [`RuleReach`]
/// over `population` (empty when the flag or environment is missing). One
/// evaluation a user plus one test per rule.
pub fn rule_reach(compiled: &CompiledFile, flag: &str, environment: &str, population: &[Context]) -> Vec<RuleReach> {
    let Ok((id, env)) = resolve(compiled, flag, environment) else { return Vec::new() };
    let rules = compiled.rule_count(id, env);
    // Per rule: users it holds for, users it decides, and who decided the others.
    let parts = map_chunks(population, |_, users| {
        let mut t: Tally<'_> = (vec![0; rules], vec![0; rules], vec![Vec::new(); rules]);
        for user in users {
            let decided = Decided::of(&compiled.evaluate_id(id, env, user));
            // Rules are reached unless an earlier step (targets, prerequisites, the kill switch) decided.
            let mut first = matches!(decided, Decided::Rule(_) | Decided::Default | Decided::Error(_));
            for i in 0..rules {
                if compiled.rule_matches(id, env, i, user) != Some(true) {
                    continue;
                }
                t.0[i] += 1;
                if first {
                    t.1[i] += 1;
                    first = false;
                } else {
                    count(&mut t.2[i], decided, 1);
                }
            }
        }
        t
    });
    let mut total: Tally<'_> = (vec![0; rules], vec![0; rules], vec![Vec::new(); rules]);
    for (matches, decides, takers) in parts {
        for i in 0..rules {
            total.0[i] += matches[i];
            total.1[i] += decides[i];
            for &(d, n) in &takers[i] {
                count(&mut total.2[i], d, n);
            }
        }
    }
    (0..rules)
        .map(|i| RuleReach {
            rule: compiled.rule_id(id, env, i).unwrap_or_default().to_owned(),
            matches: total.0[i],
            decides: total.1[i],
            shadowed_by: if total.1[i] == 0 {
                total.2[i].iter().max_by_key(|(_, n)| *n).map(|(d, _)| d.owned())
            } else {
                None
            },
        })
        .collect()
}

/// Per rule: users it holds for, users it decides, and the steps that decided the others.
type Tally<'f> = (Vec<usize>, Vec<usize>, Vec<Vec<(Decided<'f>, usize)>>);

fn count<'f>(takers: &mut Vec<(Decided<'f>, usize)>, d: Decided<'f>, n: usize) {
    match takers.iter_mut().find(|(t, _)| *t == d) {
        Some((_, m)) => *m += n,
        None => takers.push((d, n)),
    }
}

/// How many example users [`examples`] lists per variant.
pub const EXAMPLES_PER_VARIANT: usize = 5;

/// A few users per variant of `flag` in `environment` (indices into
/// `population`): the first [`EXAMPLES_PER_VARIANT`] who get each of
/// `variants`, for "who gets it". Stops as soon as every variant has its
/// examples; a variant nobody gets means a look at every user.
pub fn examples(
    compiled: &CompiledFile,
    flag: &str,
    environment: &str,
    variants: &[String],
    population: &[Context],
) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = variants.iter().map(|v| (v.clone(), Vec::new())).collect();
    let Some(env) = compiled.environment(environment) else { return out };
    for (i, user) in population.iter().enumerate() {
        if out.iter().all(|(_, users)| users.len() >= EXAMPLES_PER_VARIANT) {
            break;
        }
        if let Ok(e) = compiled.evaluate(flag, env, user)
            && let Some((_, users)) = out.iter_mut().find(|(v, _)| v == e.variant)
            && users.len() < EXAMPLES_PER_VARIANT
        {
            users.push(i);
        }
    }
    out
}

/// The segment keys of a file, in file order (for [`segment_counts`]).
pub fn segment_keys(file: &FlagFile) -> Vec<String> {
    file.segments.as_ref().map(|s| s.keys().cloned().collect()).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::preview::population::{PopulationSpec, generate};
    use std::collections::HashMap;

    pub(crate) fn example() -> burgee_rules::Loaded {
        burgee_rules::load(include_str!("../../../examples/flags.json")).unwrap()
    }

    pub(crate) fn users(n: usize) -> Vec<Context> {
        generate(&PopulationSpec { size: n, ..PopulationSpec::default() })
    }

    /// Every flag in every environment: counts agree with `evaluate` one by one.
    #[test]
    fn counts_match_direct_evaluation_on_the_example_file() {
        let loaded = example();
        let population = users(3000);
        for flag in loaded.file.flags.keys() {
            for env in &loaded.file.environments {
                let outline = FlagOutline::of(&loaded.file, flag, env);
                let dist = distribution(&loaded.compiled, &outline, flag, env, &population);
                let env_id = loaded.compiled.environment(env).unwrap();
                let mut by_variant: HashMap<&str, usize> = HashMap::new();
                let mut by_rule: HashMap<&str, usize> = HashMap::new();
                let mut errors = 0;
                for user in &population {
                    match loaded.compiled.evaluate(flag, env_id, user) {
                        Ok(e) => {
                            *by_variant.entry(e.variant).or_default() += 1;
                            if let Some(r) = e.rule_id {
                                *by_rule.entry(r).or_default() += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                }
                assert_eq!(dist.total, 3000);
                assert_eq!(dist.errors, errors);
                let names: Vec<_> = dist.variants.iter().map(|(v, _)| v.clone()).collect();
                assert_eq!(names, outline.variants, "{flag}/{env}: all variants, in order");
                for (v, n) in &dist.variants {
                    assert_eq!(*n, by_variant.get(v.as_str()).copied().unwrap_or(0), "{flag}/{env}/{v}");
                }
                for rule in &outline.rules {
                    let n = by_rule.get(rule.as_str()).copied().unwrap_or(0);
                    assert_eq!(dist.decided_by(&Decider::Rule(rule.clone())), n, "{flag}/{env}/{rule}");
                }
                let decided: usize = dist.deciders.iter().map(|d| d.users).sum();
                assert_eq!(decided, 3000);
                for d in &dist.deciders {
                    assert_eq!(
                        d.by_variant.iter().sum::<usize>(),
                        if matches!(d.decider, Decider::Error(_)) { 0 } else { d.users }
                    );
                }
            }
        }
    }

    #[test]
    fn a_rule_behind_one_that_takes_everyone_is_shadowed() {
        let text = r#"{"version": 1, "environments": ["p"], "flags": {"f": {
            "variants": {"on": true, "off": false}, "off": "off",
            "environments": {"p": {"enabled": true, "rules": [
                {"id": "everyone", "serve": {"variant": "on"}},
                {"id": "us", "match": {"attribute": "country", "op": "in", "values": ["US"]}, "serve": {"variant": "off"}},
                {"id": "mars", "match": {"attribute": "country", "op": "in", "values": ["MARS"]}, "serve": {"variant": "off"}}],
              "default": {"variant": "off"}}}}}}"#;
        let compiled = burgee_rules::load(text).unwrap().compiled;
        let population = users(2000);
        let reach = rule_reach(&compiled, "f", "p", &population);
        let ids: Vec<&str> = reach.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(ids, ["everyone", "us", "mars"]);
        assert_eq!((reach[0].matches, reach[0].decides, reach[0].shadowed_by.clone()), (2000, 2000, None));
        assert!(reach[1].matches > 0 && reach[1].decides == 0);
        assert_eq!(reach[1].shadowed_by, Some(Decider::Rule("everyone".into())));
        assert_eq!(
            (reach[2].matches, reach[2].shadowed_by.clone()),
            (0, None),
            "nobody from Mars: no match, no shadow"
        );
    }

    /// Split across threads (over 20,000 users), the counts are the same as
    /// counted one by one.
    #[test]
    fn parallel_counts_match() {
        let loaded = example();
        let population = users(24_000);
        let outline = FlagOutline::of(&loaded.file, "usage-based-billing", "production");
        let dist = distribution(&loaded.compiled, &outline, "usage-based-billing", "production", &population);
        let mut counter = Counter::new(&outline);
        let env = loaded.compiled.environment("production").unwrap();
        for user in &population {
            counter.add(&loaded.compiled.evaluate("usage-based-billing", env, user));
        }
        assert_eq!(dist, counter.finish("usage-based-billing", "production", 24_000));
        let keys = segment_keys(&loaded.file);
        let direct: Vec<(String, usize)> = keys
            .iter()
            .map(|k| (k.clone(), population.iter().filter(|u| loaded.compiled.in_segment(k, u).unwrap()).count()))
            .collect();
        assert_eq!(segment_counts(&loaded.compiled, &keys, &population), direct);
    }

    #[test]
    fn steps_are_listed_in_evaluation_order_with_zeros() {
        let loaded = example();
        let outline = FlagOutline::of(&loaded.file, "ai-assistant", "production");
        let mut population = users(1000);
        population.push(Context::with_key("user-4821"));
        let dist = distribution(&loaded.compiled, &outline, "ai-assistant", "production", &population);
        let steps: Vec<String> = dist.deciders.iter().map(|d| d.decider.to_string()).collect();
        assert_eq!(steps, ["Individual targets", "Rule staff", "Default", "Disabled"]);
        assert_eq!(dist.decided_by(&Decider::Target), 1);
        assert_eq!(dist.decided_by(&Decider::Disabled), 0);
        assert!(dist.decided_by(&Decider::Rule("staff".into())) > 0);

        let outline = FlagOutline::of(&loaded.file, "realtime-collaboration", "production");
        let dist = distribution(&loaded.compiled, &outline, "realtime-collaboration", "production", &population);
        assert_eq!(dist.users_of("off"), population.len());
        assert_eq!(dist.users_of("on"), 0);
        assert_eq!(dist.decided_by(&Decider::Disabled), population.len());
    }

    #[test]
    fn prerequisites_and_errors_are_counted() {
        let loaded = example();
        let population = users(2000);
        let outline = FlagOutline::of(&loaded.file, "checkout-upsell", "production");
        let dist = distribution(&loaded.compiled, &outline, "checkout-upsell", "production", &population);
        assert!(dist.decided_by(&Decider::Prerequisite) > 1000, "{dist:?}");

        // The default rollout buckets by targetingKey: users without one fail.
        let keyless = vec![Context::new(), Context::with_key("user-1")];
        let outline = FlagOutline::of(&loaded.file, "new-checkout", "production");
        let dist = distribution(&loaded.compiled, &outline, "new-checkout", "production", &keyless);
        assert_eq!(dist.errors, 1);
        assert_eq!(dist.decided_by(&Decider::Error("TARGETING_KEY_MISSING")), 1);

        let dist = distribution(&loaded.compiled, &FlagOutline::default(), "nope", "production", &keyless);
        assert_eq!((dist.errors, dist.decided_by(&Decider::Error("FLAG_NOT_FOUND"))), (2, 2));
    }

    #[test]
    fn examples_are_the_first_users_who_get_each_variant() {
        let loaded = example();
        let population = users(3000);
        let variants: Vec<String> = vec!["on".into(), "off".into(), "nobody-gets-this".into()];
        let env = loaded.compiled.environment("production").unwrap();
        let got = examples(&loaded.compiled, "new-checkout", "production", &variants, &population);
        for (variant, picked) in &got {
            let who: Vec<usize> = (0..population.len())
                .filter(|&i| loaded.compiled.evaluate("new-checkout", env, &population[i]).unwrap().variant == variant)
                .take(EXAMPLES_PER_VARIANT)
                .collect();
            assert_eq!(picked, &who, "{variant}");
        }
        assert_eq!(got.iter().map(|(_, p)| p.len()).collect::<Vec<_>>(), [5, 5, 0]);
    }

    #[test]
    fn segment_counts_match_in_segment() {
        let loaded = example();
        let population = users(2000);
        let keys = segment_keys(&loaded.file);
        assert_eq!(keys, ["staff", "beta-testers", "enterprise-companies", "eu-users"]);
        let counts = segment_counts(&loaded.compiled, &keys, &population);
        for (key, n) in &counts {
            let direct = population.iter().filter(|u| loaded.compiled.in_segment(key, u).unwrap()).count();
            assert_eq!(*n, direct);
            assert!(*n > 0 && *n < 2000, "{key}: {n}");
        }
        assert_eq!(segment_counts(&loaded.compiled, &["gone".into()], &population), [("gone".to_owned(), 0)]);
    }
}
