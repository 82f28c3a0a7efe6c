//! Slim populations: each user cut down to the attributes one flag (or the
//! segments) can read, so evaluating 100,000 of them stays in the CPU caches.
//!
//! A generated or loaded context carries every attribute (a dozen small
//! allocations each); evaluating a flag over 100,000 of them is bound by
//! memory, not by the engine (about 1.2 µs a user against 0.2 µs once cut
//! down). A flag's result depends only on the targeting key and the paths
//! [`attribute_paths`] collects, so evaluating a [`project`]ed population
//! gives exactly the same results.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use burgee_rules::context::TARGETING_KEY;
use burgee_rules::model::{Condition, Part, Serve};
use burgee_rules::{Context, FlagFile};
use serde_json::Map;

/// Every attribute path evaluating `flag` in `environment` can read: its
/// rules' conditions and segments (and the segments those refer to), its
/// rollouts' `bucket_by`, and the same for its prerequisites, recursively.
/// `targetingKey` is always kept by [`project`] and not listed. Empty when
/// the flag is absent.
pub fn attribute_paths(file: &FlagFile, flag: &str, environment: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut seen_flags = HashSet::new();
    let mut seen_segments = HashSet::new();
    let mut flags = vec![flag.to_owned()];
    while let Some(key) = flags.pop() {
        if !seen_flags.insert(key.clone()) {
            continue;
        }
        let Some(fe) = file.flags.get(&key).and_then(|f| f.environments.get(environment)) else { continue };
        for pre in fe.prerequisites.iter().flatten() {
            flags.push(pre.flag.clone());
        }
        for rule in fe.rules.iter().flatten() {
            if let Some(segment) = &rule.segment {
                segment_paths(file, segment, &mut seen_segments, &mut paths);
            }
            if let Some(c) = &rule.matches {
                condition_paths(file, c, &mut seen_segments, &mut paths);
            }
            serve_paths(&rule.serve, &mut paths);
        }
        serve_paths(&fe.default, &mut paths);
    }
    paths.remove(TARGETING_KEY);
    paths
}

/// Every attribute path the file's segments can read (for segment counts).
pub fn segment_attribute_paths(file: &FlagFile) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut seen = HashSet::new();
    for key in file.segments.iter().flat_map(|s| s.keys()) {
        segment_paths(file, key, &mut seen, &mut paths);
    }
    paths.remove(TARGETING_KEY);
    paths
}

fn serve_paths(serve: &Serve, paths: &mut BTreeSet<String>) {
    if let Serve::Rollout(r) = serve
        && let Some(path) = &r.bucket_by
    {
        paths.insert(path.clone());
    }
}

fn segment_paths(file: &FlagFile, key: &str, seen: &mut HashSet<String>, paths: &mut BTreeSet<String>) {
    if !seen.insert(key.to_owned()) {
        return;
    }
    if let Some(c) = file.segments.as_ref().and_then(|s| s.get(key)).and_then(|s| s.matches.as_ref()) {
        condition_paths(file, c, seen, paths);
    }
}

fn condition_paths(file: &FlagFile, c: &Condition, seen: &mut HashSet<String>, paths: &mut BTreeSet<String>) {
    c.walk(|part, _| match part {
        Part::Segment(key) => segment_paths(file, key, seen, paths),
        Part::Leaf(leaf) => {
            paths.insert(leaf.attribute.clone());
        }
    });
}

/// Each user with only its targeting key and the values at `paths`, stored
/// under the path itself as a top-level key (`"company.plan": "pro"`), which
/// [`Context::lookup`] finds exactly as it found the original value.
pub fn project(population: &[Context], paths: &BTreeSet<String>) -> Vec<Context> {
    population
        .iter()
        .map(|user| {
            let mut map = Map::with_capacity(paths.len() + 1);
            if let Some(key) = user.targeting_key() {
                map.insert(TARGETING_KEY.to_owned(), key.into());
            }
            for path in paths {
                if let Some(value) = user.lookup(path) {
                    map.insert(path.clone(), value.clone());
                }
            }
            Context::from_map(map).unwrap_or_else(|_| user.clone())
        })
        .collect()
}

/// Slim populations already built, by population (pointer identity) and
/// paths, so a preview recomputed on every edit projects only when the
/// population or the attributes read change. Holds a few entries.
#[derive(Debug, Default)]
pub struct ProjectionCache {
    entries: Vec<CacheEntry>,
}

/// The population (kept alive so its address is not reused), the paths, and
/// the slim population.
type CacheEntry = (Arc<Vec<Context>>, BTreeSet<String>, Arc<Vec<Context>>);

/// How many slim populations a [`ProjectionCache`] keeps.
const CACHED: usize = 4;

impl ProjectionCache {
    /// An empty cache.
    pub fn new() -> Self {
        ProjectionCache::default()
    }

    /// `population` cut down to `paths`, from the cache or projected now.
    pub fn get(&mut self, population: &Arc<Vec<Context>>, paths: &BTreeSet<String>) -> Arc<Vec<Context>> {
        let found = self.entries.iter().position(|(p, k, _)| Arc::ptr_eq(p, population) && k == paths);
        let entry = match found {
            Some(i) => self.entries.remove(i),
            None => (Arc::clone(population), paths.clone(), Arc::new(project(population, paths))),
        };
        let slim = Arc::clone(&entry.2);
        self.entries.insert(0, entry);
        self.entries.truncate(CACHED);
        slim
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::distribution::tests::{example, users};
    use serde_json::json;

    #[test]
    fn paths_follow_segments_prerequisites_and_bucket_by() {
        let file = example().file;
        let paths = attribute_paths(&file, "checkout-upsell", "production");
        // Its own staff rule, and new-checkout's staff and beta-testers rules.
        assert_eq!(paths.into_iter().collect::<Vec<_>>(), ["beta_opt_in", "company.id", "email"]);
        let paths = attribute_paths(&file, "usage-based-billing", "production");
        assert_eq!(paths.into_iter().collect::<Vec<_>>(), ["company.id", "company.plan", "company.seats"]);
        assert!(attribute_paths(&file, "accept-payments", "production").is_empty());
        assert!(attribute_paths(&file, "nope", "production").is_empty());
        let all = segment_attribute_paths(&file);
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            ["beta_opt_in", "company.id", "company.plan", "company.seats", "country", "email"]
        );
    }

    /// Every flag and environment of the example file: the slim population
    /// gives exactly the same results as the full one.
    #[test]
    fn projected_users_evaluate_the_same() {
        let loaded = example();
        let mut population = users(2000);
        population.push(Context::new());
        population.push(
            Context::from_json(json!({"targetingKey": "x", "company.plan": "team", "company": {"id": "c"}})).unwrap(),
        );
        for flag in loaded.file.flags.keys() {
            for env in &loaded.file.environments {
                let slim = project(&population, &attribute_paths(&loaded.file, flag, env));
                let env_id = loaded.compiled.environment(env).unwrap();
                for (full, cut) in population.iter().zip(&slim) {
                    assert_eq!(
                        loaded.compiled.evaluate(flag, env_id, full),
                        loaded.compiled.evaluate(flag, env_id, cut),
                        "{flag}/{env}: {full:?}"
                    );
                }
            }
        }
        let mut cache = ProjectionCache::new();
        let shared = Arc::new(population.clone());
        let slim = cache.get(&shared, &segment_attribute_paths(&loaded.file));
        assert!(Arc::ptr_eq(&slim, &cache.get(&shared, &segment_attribute_paths(&loaded.file))));
        for key in crate::preview::distribution::segment_keys(&loaded.file) {
            for (full, cut) in population.iter().zip(slim.iter()) {
                assert_eq!(loaded.compiled.in_segment(&key, full), loaded.compiled.in_segment(&key, cut));
            }
        }
    }
}
