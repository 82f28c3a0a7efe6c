//! Change impact: which sample users would get a different variant of one
//! flag in one environment if the edited file were saved, grouped by
//! from → to.
//!
//! Fast enough to run on every edit: both files evaluate with
//! [`CompiledFile::evaluate_id`] on prebuilt contexts, nothing is allocated
//! per user (except by the engine for `TARGETING_KEY_MISSING` errors), and
//! large populations are split across the machine's cores with
//! [`std::thread::scope`].

use burgee_rules::{CompiledFile, Context, EnvId, FlagId};

use super::distribution::{Counter, Distribution, FlagOutline, distribution, resolve};
use super::parallel::map_chunks;

/// What one version of the file gives a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// This variant.
    Variant(String),
    /// The flag is not in this version of the file (new, renamed or deleted).
    Absent,
    /// Evaluation fails with this error code (e.g. `TARGETING_KEY_MISSING`).
    Error(&'static str),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Variant(v) => write!(f, "{v}"),
            Outcome::Absent => write!(f, "(no flag)"),
            Outcome::Error(code) => write!(f, "(error {code})"),
        }
    }
}

/// Users who move from one outcome to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// What the saved file gives them.
    pub from: Outcome,
    /// What the edited file gives them.
    pub to: Outcome,
    /// How many users.
    pub users: usize,
}

/// The effect of the pending edits on one flag in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    /// How many users were evaluated.
    pub total: usize,
    /// How many of them would get a different outcome.
    pub changed: usize,
    /// The changes, most users first (ties by from, then to, as text).
    pub moves: Vec<Move>,
}

/// One side of the comparison, resolved once: the flag and environment ids,
/// or the outcome every user gets when either is missing.
#[derive(Clone, Copy)]
enum Side<'f> {
    Eval(&'f CompiledFile, FlagId, EnvId),
    Fixed(Out<'f>),
}

/// An [`Outcome`] borrowing from the compiled file, for the hot loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out<'f> {
    Variant(&'f str),
    Absent,
    Error(&'static str),
}

impl<'f> Side<'f> {
    fn new(file: &'f CompiledFile, flag: Option<&str>, environment: &str) -> Self {
        match (flag.and_then(|f| file.flag(f)), file.environment(environment)) {
            (Some(id), Some(env)) => Side::Eval(file, id, env),
            _ => Side::Fixed(Out::Absent),
        }
    }

    #[inline]
    fn outcome(self, user: &Context) -> Out<'f> {
        match self {
            Side::Eval(file, id, env) => match file.evaluate_id(id, env, user) {
                Ok(e) => Out::Variant(e.variant),
                Err(e) => Out::Error(e.code()),
            },
            Side::Fixed(out) => out,
        }
    }
}

impl Out<'_> {
    fn owned(self) -> Outcome {
        match self {
            Out::Variant(v) => Outcome::Variant(v.to_owned()),
            Out::Absent => Outcome::Absent,
            Out::Error(code) => Outcome::Error(code),
        }
    }
}

/// Compare what `saved` and `edited` give each user for one flag in one
/// environment (two evaluations a user; large populations are split across
/// the cores).
///
/// `saved_flag` is the flag's key in the saved file (differs from
/// `edited_flag` after a rename; `None` for a flag that is new since the
/// save). A flag or environment missing from one file gives
/// [`Outcome::Absent`] there.
pub fn impact(
    saved: &CompiledFile,
    saved_flag: Option<&str>,
    edited: &CompiledFile,
    edited_flag: &str,
    environment: &str,
    population: &[Context],
) -> Impact {
    let from = Side::new(saved, saved_flag, environment);
    let to = Side::new(edited, Some(edited_flag), environment);
    let parts = map_chunks(population, |_, users| {
        let mut t = Tally::new();
        for user in users {
            let (a, b) = (from.outcome(user), to.outcome(user));
            if a != b {
                add(&mut t, (a, b), 1);
            }
        }
        t
    });
    let mut merged: Tally<'_, Out<'_>> = Vec::new();
    for t in parts {
        for (pair, n) in t {
            add(&mut merged, pair, n);
        }
    }
    finish(merged.into_iter().map(|((a, b), n)| (a.owned(), b.owned(), n)), population.len())
}

/// The effect of saving on every flag in `flags` (keys in the edited file;
/// a flag new since the save is absent there) in each of `environments`:
/// one [`impact`] per pair, in that order, pairs where nobody moves left
/// out. What the save dialog shows next to each change.
pub fn impact_of_save(
    saved: &CompiledFile,
    edited: &CompiledFile,
    flags: &[String],
    environments: &[String],
    population: &[Context],
) -> Vec<(String, String, Impact)> {
    let mut out = Vec::new();
    for flag in flags {
        let saved_flag = saved.flag(flag).map(|_| flag.as_str());
        for env in environments {
            let result = if edited.flag(flag).is_some() {
                impact(saved, saved_flag, edited, flag, env, population)
            } else {
                // Removed: everyone goes from what the saved file gave to no flag.
                let swapped = impact(edited, None, saved, flag, env, population);
                let moves =
                    swapped.moves.into_iter().map(|m| Move { from: m.to, to: m.from, users: m.users }).collect();
                Impact { moves, ..swapped }
            };
            if result.changed > 0 {
                out.push((flag.clone(), env.clone(), result));
            }
        }
    }
    out
}

/// The moves sorted: most users first, ties by from, then to, as text.
fn finish(moves: impl Iterator<Item = (Outcome, Outcome, usize)>, total: usize) -> Impact {
    let mut moves: Vec<Move> = moves.map(|(from, to, users)| Move { from, to, users }).collect();
    moves.sort_by(|a, b| {
        b.users
            .cmp(&a.users)
            .then_with(|| a.from.to_string().cmp(&b.from.to_string()))
            .then_with(|| a.to.to_string().cmp(&b.to.to_string()))
    });
    Impact { total, changed: moves.iter().map(|m| m.users).sum(), moves }
}

/// Counts per (from, to) pair that differ; a handful of entries, searched linearly.
type Tally<'f, F> = Vec<((F, Out<'f>), usize)>;

fn add<'f, F: PartialEq>(tally: &mut Tally<'f, F>, pair: (F, Out<'f>), n: usize) {
    match tally.iter_mut().find(|(p, _)| *p == pair) {
        Some((_, count)) => *count += n,
        None => tally.push((pair, n)),
    }
}

/// What the saved file gives each user of a population: computed once per
/// save and population, then every edit costs one evaluation a user
/// ([`impact_against`]) instead of two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// Per user, an index into `outcomes`.
    per_user: Vec<u32>,
    /// The distinct outcomes.
    outcomes: Vec<Outcome>,
}

impl Baseline {
    /// What `saved` gives each user of `population` for `saved_flag` (`None`:
    /// the flag is new, so it is absent for everyone) in `environment`.
    pub fn new(saved: &CompiledFile, saved_flag: Option<&str>, environment: &str, population: &[Context]) -> Self {
        let side = Side::new(saved, saved_flag, environment);
        let parts = map_chunks(population, |_, users| {
            let mut seen: Vec<Out<'_>> = Vec::new();
            let per_user: Vec<u32> = users
                .iter()
                .map(|user| {
                    let out = side.outcome(user);
                    let i = seen.iter().position(|o| *o == out).unwrap_or_else(|| {
                        seen.push(out);
                        seen.len() - 1
                    });
                    i as u32
                })
                .collect();
            (seen, per_user)
        });
        let mut baseline = Baseline { per_user: Vec::with_capacity(population.len()), outcomes: Vec::new() };
        for (seen, per_user) in parts {
            let map: Vec<u32> = seen
                .into_iter()
                .map(|out| {
                    let owned = out.owned();
                    let i = baseline.outcomes.iter().position(|o| *o == owned).unwrap_or_else(|| {
                        baseline.outcomes.push(owned);
                        baseline.outcomes.len() - 1
                    });
                    i as u32
                })
                .collect();
            baseline.per_user.extend(per_user.into_iter().map(|i| map[i as usize]));
        }
        baseline
    }

    /// How many users it covers.
    pub fn len(&self) -> usize {
        self.per_user.len()
    }

    /// Whether it covers nobody.
    pub fn is_empty(&self) -> bool {
        self.per_user.is_empty()
    }

    /// What the saved file gives user `i` (absent past the end).
    fn outcome(&self, i: usize) -> Option<u32> {
        self.per_user.get(i).copied()
    }

    fn is(&self, from: Option<u32>, out: Out<'_>) -> bool {
        match (from.and_then(|i| self.outcomes.get(i as usize)), out) {
            (Some(Outcome::Variant(a)), Out::Variant(b)) => a == b,
            (Some(Outcome::Error(a)), Out::Error(b)) => a == &b,
            (Some(Outcome::Absent) | None, Out::Absent) => true,
            _ => false,
        }
    }

    fn owned(&self, from: Option<u32>) -> Outcome {
        from.and_then(|i| self.outcomes.get(i as usize)).cloned().unwrap_or(Outcome::Absent)
    }
}

/// Like [`impact`], against a [`Baseline`] of the saved file over the same
/// population (same users, same order): one evaluation a user.
pub fn impact_against(
    baseline: &Baseline,
    edited: &CompiledFile,
    edited_flag: &str,
    environment: &str,
    population: &[Context],
) -> Impact {
    let to = Side::new(edited, Some(edited_flag), environment);
    let parts = map_chunks(population, |offset, users| {
        let mut t = Tally::new();
        for (i, user) in users.iter().enumerate() {
            let (from, out) = (baseline.outcome(offset + i), to.outcome(user));
            if !baseline.is(from, out) {
                add(&mut t, (from, out), 1);
            }
        }
        t
    });
    merge_against(baseline, parts, population.len())
}

fn merge_against<'f>(baseline: &Baseline, parts: Vec<Tally<'f, Option<u32>>>, total: usize) -> Impact {
    let mut merged: Tally<'f, Option<u32>> = Vec::new();
    for t in parts {
        for (pair, n) in t {
            add(&mut merged, pair, n);
        }
    }
    finish(merged.into_iter().map(|((from, to), n)| (baseline.owned(from), to.owned(), n)), total)
}

/// The distribution of the edited flag and its impact against a baseline in
/// one pass: one evaluation a user for both (what the preview worker runs
/// on every edit).
pub fn distribution_and_impact(
    baseline: &Baseline,
    edited: &CompiledFile,
    outline: &FlagOutline,
    flag: &str,
    environment: &str,
    population: &[Context],
) -> (Distribution, Impact) {
    let Ok((id, env)) = resolve(edited, flag, environment) else {
        let impact = impact_against(baseline, edited, flag, environment, population);
        return (distribution(edited, outline, flag, environment, population), impact);
    };
    let parts = map_chunks(population, |offset, users| {
        let mut counter = Counter::new(outline);
        let mut t = Tally::new();
        for (i, user) in users.iter().enumerate() {
            let result = edited.evaluate_id(id, env, user);
            let out = match &result {
                Ok(e) => Out::Variant(e.variant),
                Err(e) => Out::Error(e.code()),
            };
            let from = baseline.outcome(offset + i);
            if !baseline.is(from, out) {
                add(&mut t, (from, out), 1);
            }
            counter.add(&result);
        }
        (counter, t)
    });
    let mut counter = Counter::new(outline);
    let mut tallies = Vec::with_capacity(parts.len());
    for (c, t) in parts {
        counter.merge(c);
        tallies.push(t);
    }
    (counter.finish(flag, environment, population.len()), merge_against(baseline, tallies, population.len()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::impact as impact_fn;
    use super::*;
    use crate::preview::distribution::tests::{example, users};
    use burgee_rules::model::Serve;

    /// The example file with new-checkout's production default giving `on` to `on` percent.
    pub(crate) fn with_rollout(on: u32) -> burgee_rules::Loaded {
        let mut file = example().file;
        let fe = std::sync::Arc::make_mut(&mut file.flags["new-checkout"]).environments.get_mut("production").unwrap();
        let Serve::Rollout(rollout) = &mut fe.default else { panic!("the example's default is a rollout") };
        rollout.entries[0].weight = on.into();
        rollout.entries[1].weight = (100 - on).into();
        let compiled = burgee_rules::compile::compile(&file).unwrap();
        burgee_rules::Loaded { file, compiled }
    }

    #[test]
    fn the_impact_of_a_save_lists_only_flags_and_environments_where_someone_moves() {
        let (saved, edited) = (with_rollout(10), with_rollout(30));
        let population = users(4000);
        let flags: Vec<String> = vec!["new-checkout".into(), "dark-mode".into()];
        let envs: Vec<String> = saved.file.environments.clone();
        let out = impact_of_save(&saved.compiled, &edited.compiled, &flags, &envs, &population);
        assert_eq!(out.len(), 1, "{out:?}");
        let (flag, env, impact) = &out[0];
        assert_eq!((flag.as_str(), env.as_str()), ("new-checkout", "production"));
        let direct = impact_fn(
            &saved.compiled,
            Some("new-checkout"),
            &edited.compiled,
            "new-checkout",
            "production",
            &population,
        );
        assert_eq!(*impact, direct);
        assert!(
            impact
                .moves
                .iter()
                .all(|m| m.from == Outcome::Variant("off".into()) && m.to == Outcome::Variant("on".into()))
        );

        // A flag deleted in the edited file: its users go from what they had to no flag.
        let mut file = edited.file.clone();
        file.flags.shift_remove("dark-mode");
        let without = burgee_rules::compile::compile(&file).unwrap();
        let out = impact_of_save(&saved.compiled, &without, &["dark-mode".to_owned()], &envs, &population);
        assert!(!out.is_empty());
        assert!(out.iter().all(|(_, _, i)| i.changed == 4000 && i.moves.iter().all(|m| m.to == Outcome::Absent)));
    }

    #[test]
    fn raising_a_rollout_moves_users_from_off_to_on_only() {
        let saved = with_rollout(10).compiled;
        let edited = with_rollout(20).compiled;
        let population = users(30_000);
        let result = impact(&saved, Some("new-checkout"), &edited, "new-checkout", "production", &population);
        assert_eq!(result.total, 30_000);
        assert_eq!(result.moves.len(), 1, "{result:?}");
        let m = &result.moves[0];
        assert_eq!((&m.from, &m.to), (&Outcome::Variant("off".into()), &Outcome::Variant("on".into())));
        // About 10% of the users the default decides (most users: few are staff or beta testers).
        let share = m.users as f64 / 30_000.0;
        assert!((0.08..0.10).contains(&share), "{share}");
        assert_eq!(result.changed, m.users);

        // Exactly the users whose evaluation differs, checked one by one.
        let env = saved.environment("production").unwrap();
        let direct = population
            .iter()
            .filter(|u| {
                saved.evaluate("new-checkout", env, u).unwrap().variant
                    != edited.evaluate("new-checkout", env, u).unwrap().variant
            })
            .count();
        assert_eq!(direct, m.users);
        // Single-threaded (small) and multi-threaded paths agree.
        let small = impact(&saved, Some("new-checkout"), &edited, "new-checkout", "production", &population[..1000]);
        let direct_small = population[..1000]
            .iter()
            .filter(|u| {
                saved.evaluate("new-checkout", env, u).unwrap().variant
                    != edited.evaluate("new-checkout", env, u).unwrap().variant
            })
            .count();
        assert_eq!(small.changed, direct_small);
    }

    /// The one-evaluation paths give what two evaluations give, on one
    /// thread and split across threads, for a change, a new flag and a
    /// deleted one.
    #[test]
    fn baseline_paths_agree_with_direct_impact() {
        let (saved, edited) = (with_rollout(10), with_rollout(20));
        let outline = FlagOutline::of(&edited.file, "new-checkout", "production");
        let mut population = users(25_000);
        population.push(Context::new());
        for users in [&population[..2000], &population[..]] {
            let cases =
                [(Some("new-checkout"), "new-checkout"), (None, "new-checkout"), (Some("new-checkout"), "gone")];
            for (saved_flag, flag) in cases {
                let direct = impact(&saved.compiled, saved_flag, &edited.compiled, flag, "production", users);
                let baseline = Baseline::new(&saved.compiled, saved_flag, "production", users);
                assert_eq!(baseline.len(), users.len());
                assert_eq!(impact_against(&baseline, &edited.compiled, flag, "production", users), direct);
                let (dist, fused) =
                    distribution_and_impact(&baseline, &edited.compiled, &outline, flag, "production", users);
                assert_eq!(fused, direct, "{saved_flag:?} → {flag}");
                assert_eq!(dist, distribution(&edited.compiled, &outline, flag, "production", users));
            }
        }
        let baseline = Baseline::new(&saved.compiled, Some("new-checkout"), "production", &population);
        let (dist, fused) =
            distribution_and_impact(&baseline, &edited.compiled, &outline, "new-checkout", "production", &population);
        assert_eq!(dist.errors, 1);
        assert_eq!(dist.total, 25_001);
        assert!(fused.changed > 2000, "{fused:?}");
    }

    #[test]
    fn unchanged_file_changes_nobody() {
        let file = example().compiled;
        let result = impact(&file, Some("dark-mode"), &file, "dark-mode", "production", &users(1000));
        assert_eq!((result.total, result.changed, result.moves.len()), (1000, 0, 0));
    }

    #[test]
    fn new_renamed_and_missing_flags() {
        let file = example().compiled;
        let population = users(500);
        // New flag: everyone moves from "no flag" to what the edited file gives.
        let result = impact(&file, None, &file, "accept-payments", "production", &population);
        assert_eq!(result.moves, [Move { from: Outcome::Absent, to: Outcome::Variant("on".into()), users: 500 }]);
        // Renamed: compared under the old key, nobody changes.
        let result = impact(&file, Some("accept-payments"), &file, "accept-payments", "production", &population);
        assert_eq!(result.changed, 0);
        // Deleted in the edit.
        let result = impact(&file, Some("accept-payments"), &file, "gone", "production", &population);
        assert_eq!(result.moves[0].to, Outcome::Absent);
        assert_eq!(result.moves[0].to.to_string(), "(no flag)");
        // Errors are outcomes too.
        let keyless = vec![Context::new()];
        let result = impact(&file, Some("accept-payments"), &file, "new-checkout", "production", &keyless);
        assert_eq!(result.moves[0].to, Outcome::Error("TARGETING_KEY_MISSING"));
    }

    #[test]
    fn moves_are_sorted_by_count() {
        let file = example().compiled;
        let population = users(3000);
        // Two unrelated flags: different variant names everywhere, several pairs.
        let result = impact(&file, Some("checkout-button-color"), &file, "api-rate-limit", "production", &population);
        assert!(result.moves.len() >= 3);
        assert!(result.moves.windows(2).all(|w| w[0].users >= w[1].users));
        assert_eq!(result.changed, 3000);
    }
}
