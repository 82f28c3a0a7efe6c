//! Previews off the UI thread: a [`PreviewWorker`] owns one background
//! thread; the UI sends a [`PreviewRequest`] whenever the document, the
//! selected flag or environment, or the population changes, and calls
//! [`PreviewWorker::poll`] each frame for the newest [`PreviewResult`].
//!
//! A newer request supersedes older ones: requests still queued are skipped,
//! and a computation in progress stops between its stages when a newer
//! request arrives. Results come back in generation order.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use burgee_rules::{CompiledFile, Context, FlagFile};

use super::distribution::{Distribution, FlagOutline, RuleReach, examples, rule_reach, segment_counts, segment_keys};
use super::impact::{Baseline, Impact, distribution_and_impact};
use super::projection::{ProjectionCache, attribute_paths, segment_attribute_paths};

/// What to preview: one flag in one environment of the edited file, compared
/// with the saved file, over a population.
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    /// Increases with every request; the result carries it back.
    pub generation: u64,
    /// The file as last saved (or as opened).
    pub saved: Arc<CompiledFile>,
    /// The file as edited.
    pub edited: Arc<CompiledFile>,
    /// The flag's key in the edited file.
    pub flag: String,
    /// The flag's key in the saved file: differs after a rename, `None` for a new flag.
    pub saved_flag: Option<String>,
    /// The environment's key.
    pub environment: String,
    /// Variant and rule order of the flag in the edited model.
    pub outline: FlagOutline,
    /// The segments to count members of: none unless asked for with
    /// [`PreviewRequest::count_segments`].
    pub segments: Vec<String>,
    /// The attributes the flag reads in either file ([`attribute_paths`]):
    /// users are cut down to these before evaluating. `None`: use whole users.
    pub paths: Option<BTreeSet<String>>,
    /// The attributes the flag reads in the edited file.
    edited_paths: BTreeSet<String>,
    /// The attributes the segments read ([`segment_attribute_paths`]), likewise.
    pub segment_paths: Option<BTreeSet<String>>,
    /// The sample users.
    pub population: Arc<Vec<Context>>,
}

impl PreviewRequest {
    /// A request for `flag` in `environment`, taking the outline, the
    /// segments and the attributes read from the edited `model`, with the
    /// flag under the same key in the saved file (see
    /// [`PreviewRequest::saved_flag`]).
    ///
    /// Users are cut down to the attributes read only when that is known for
    /// both files: when `saved` is `edited`, or after
    /// [`PreviewRequest::saved_model`]. Otherwise whole users are evaluated
    /// (same results, several times slower for large populations).
    pub fn new(
        generation: u64,
        saved: Arc<CompiledFile>,
        edited: Arc<CompiledFile>,
        model: &FlagFile,
        flag: &str,
        environment: &str,
        population: Arc<Vec<Context>>,
    ) -> Self {
        let edited_paths = attribute_paths(model, flag, environment);
        PreviewRequest {
            generation,
            paths: Arc::ptr_eq(&saved, &edited).then(|| edited_paths.clone()),
            saved,
            edited,
            flag: flag.to_owned(),
            saved_flag: Some(flag.to_owned()),
            environment: environment.to_owned(),
            outline: FlagOutline::of(model, flag, environment),
            segments: Vec::new(),
            segment_paths: None,
            population,
            edited_paths,
        }
    }

    /// Also count the members of every segment of the edited `model` (with
    /// 1,000 segments that is most of the work, so only when they are shown).
    pub fn count_segments(mut self, model: &FlagFile) -> Self {
        self.segments = segment_keys(model);
        self.segment_paths = Some(segment_attribute_paths(model));
        self
    }

    /// The flag's key in the saved file (`None`: the flag is new). Call it
    /// before [`PreviewRequest::saved_model`].
    pub fn saved_flag(mut self, key: Option<&str>) -> Self {
        self.saved_flag = key.map(str::to_owned);
        if !Arc::ptr_eq(&self.saved, &self.edited) {
            self.paths = None;
        }
        self
    }

    /// The saved file's model (e.g. `burgee_rules::read` of the saved
    /// text, once per save): with it, users are cut down to the attributes
    /// either version of the flag reads, which makes large previews fast.
    pub fn saved_model(mut self, model: &FlagFile) -> Self {
        let mut paths = self.edited_paths.clone();
        if let Some(key) = &self.saved_flag {
            paths.extend(attribute_paths(model, key, &self.environment));
        }
        self.paths = Some(paths);
        self
    }
}

/// The answer to one [`PreviewRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewResult {
    /// The generation of the request this answers.
    pub generation: u64,
    /// Who gets what in the edited file.
    pub distribution: Distribution,
    /// Who would change variant compared with the saved file.
    pub impact: Impact,
    /// Members of each requested segment in the edited file.
    pub segments: Vec<(String, usize)>,
    /// A few users per variant in the edited file ([`examples`]).
    pub examples: Vec<(String, Vec<usize>)>,
    /// How each rule fares on the sample ([`rule_reach`]): for warnings
    /// about rules that decide no one.
    pub reach: Vec<RuleReach>,
    /// How long the computation took.
    pub elapsed: Duration,
}

/// What the worker keeps between requests: slim populations, and what the
/// saved file gives each user (it changes only on save or with the
/// population, so each edit costs one evaluation a user).
#[derive(Debug, Default)]
pub struct PreviewCache {
    projections: ProjectionCache,
    baseline: Option<BaselineEntry>,
}

/// A baseline and what it was computed from (kept alive so addresses are not reused).
#[derive(Debug)]
struct BaselineEntry {
    saved: Arc<CompiledFile>,
    saved_flag: Option<String>,
    environment: String,
    users: Arc<Vec<Context>>,
    baseline: Arc<Baseline>,
}

impl PreviewCache {
    /// An empty cache.
    pub fn new() -> Self {
        PreviewCache::default()
    }

    fn baseline(&mut self, request: &PreviewRequest, users: &Arc<Vec<Context>>) -> Arc<Baseline> {
        if let Some(entry) = &self.baseline
            && Arc::ptr_eq(&entry.saved, &request.saved)
            && Arc::ptr_eq(&entry.users, users)
            && entry.saved_flag == request.saved_flag
            && entry.environment == request.environment
        {
            return Arc::clone(&entry.baseline);
        }
        let baseline =
            Arc::new(Baseline::new(&request.saved, request.saved_flag.as_deref(), &request.environment, users));
        self.baseline = Some(BaselineEntry {
            saved: Arc::clone(&request.saved),
            saved_flag: request.saved_flag.clone(),
            environment: request.environment.clone(),
            users: Arc::clone(users),
            baseline: Arc::clone(&baseline),
        });
        baseline
    }
}

/// Compute a preview on the calling thread, cutting users down to the
/// attributes read and reusing what `cache` holds; `None` when `stale()`
/// turns true between stages (a newer request is waiting).
pub fn compute(request: &PreviewRequest, cache: &mut PreviewCache, stale: impl Fn() -> bool) -> Option<PreviewResult> {
    let start = Instant::now();
    let slim = |cache: &mut PreviewCache, paths: &Option<BTreeSet<String>>| match paths {
        Some(paths) => cache.projections.get(&request.population, paths),
        None => Arc::clone(&request.population),
    };
    let users = slim(cache, &request.paths);
    if stale() {
        return None;
    }
    let baseline = cache.baseline(request, &users);
    if stale() {
        return None;
    }
    let (distribution, impact) = distribution_and_impact(
        &baseline,
        &request.edited,
        &request.outline,
        &request.flag,
        &request.environment,
        &users,
    );
    if stale() {
        return None;
    }
    // Slim users keep the population's order, so indices are the same.
    let examples = examples(&request.edited, &request.flag, &request.environment, &request.outline.variants, &users);
    if stale() {
        return None;
    }
    let reach = rule_reach(&request.edited, &request.flag, &request.environment, &users);
    if stale() {
        return None;
    }
    let segments = segment_counts(&request.edited, &request.segments, &slim(cache, &request.segment_paths));
    let elapsed = start.elapsed();
    Some(PreviewResult { generation: request.generation, distribution, impact, segments, examples, reach, elapsed })
}

/// The newest of `first` and every request already queued behind it.
fn newest(first: PreviewRequest, queue: &Receiver<PreviewRequest>) -> PreviewRequest {
    let mut newest = first;
    while let Ok(next) = queue.try_recv() {
        if next.generation >= newest.generation {
            newest = next;
        }
    }
    newest
}

/// A background thread computing previews; see the module docs.
///
/// Dropping it stops the thread (after the computation in progress).
pub struct PreviewWorker {
    requests: Option<Sender<PreviewRequest>>,
    results: Receiver<PreviewResult>,
    /// The generation of the newest request sent, read by the thread to
    /// abandon stale work.
    latest: Arc<AtomicU64>,
    /// How many requests were computed to the end (for tests and diagnostics).
    computed: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PreviewWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviewWorker").field("latest", &self.latest).field("computed", &self.computed).finish()
    }
}

impl Default for PreviewWorker {
    fn default() -> Self {
        PreviewWorker::new()
    }
}

impl PreviewWorker {
    /// Start the worker thread.
    pub fn new() -> Self {
        PreviewWorker::with_waker(|| {})
    }

    /// Start the worker thread; it calls `wake` after each result, e.g.
    /// `move || ctx.request_repaint()` so the UI polls without waiting for input.
    pub fn with_waker(wake: impl Fn() + Send + 'static) -> Self {
        let (request_tx, request_rx) = mpsc::channel::<PreviewRequest>();
        let (result_tx, result_rx) = mpsc::channel();
        let latest = Arc::new(AtomicU64::new(0));
        let computed = Arc::new(AtomicU64::new(0));
        let (thread_latest, thread_computed) = (Arc::clone(&latest), Arc::clone(&computed));
        let thread = std::thread::Builder::new()
            .name("burgee-preview".into())
            .spawn(move || {
                let mut cache = PreviewCache::new();
                while let Ok(first) = request_rx.recv() {
                    let request = newest(first, &request_rx);
                    let generation = request.generation;
                    let stale = || thread_latest.load(Ordering::Acquire) > generation;
                    if stale() {
                        continue;
                    }
                    if let Some(result) = compute(&request, &mut cache, stale) {
                        thread_computed.fetch_add(1, Ordering::Relaxed);
                        if result_tx.send(result).is_err() {
                            break;
                        }
                        wake();
                    }
                }
            })
            .ok();
        // Without a thread (the OS refused one) requests are dropped; `poll`
        // then never answers, which the UI shows as "computing".
        PreviewWorker { requests: thread.is_some().then_some(request_tx), results: result_rx, latest, computed, thread }
    }

    /// Ask for a preview; supersedes every earlier request.
    pub fn request(&self, request: PreviewRequest) {
        self.latest.fetch_max(request.generation, Ordering::AcqRel);
        if let Some(tx) = &self.requests {
            // The thread only stops when the worker is dropped.
            let _ = tx.send(request);
        }
    }

    /// The newest result that arrived since the last poll, if any (older
    /// ones that arrived meanwhile are dropped). Call once per frame.
    pub fn poll(&self) -> Option<PreviewResult> {
        self.results.try_iter().last()
    }

    /// The generation of the newest request sent.
    pub fn latest_generation(&self) -> u64 {
        self.latest.load(Ordering::Acquire)
    }

    /// How many requests were computed to the end (superseded ones are not).
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Wait up to `timeout` for a result of at least `generation` (for
    /// tests and headless use; the UI polls instead).
    pub fn wait_for(&self, generation: u64, timeout: Duration) -> Option<PreviewResult> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.results.recv_timeout(left) {
                Ok(result) if result.generation >= generation => return Some(result),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}

impl Drop for PreviewWorker {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::distribution::distribution;
    use crate::preview::distribution::tests::{example, users};
    use crate::preview::impact::impact;
    use crate::preview::impact::tests::with_rollout;

    fn request(
        generation: u64,
        loaded: &burgee_rules::Loaded,
        flag: &str,
        population: &Arc<Vec<Context>>,
    ) -> PreviewRequest {
        let compiled = Arc::new(loaded.compiled.clone());
        PreviewRequest::new(
            generation,
            compiled.clone(),
            compiled,
            &loaded.file,
            flag,
            "production",
            population.clone(),
        )
    }

    #[test]
    fn answers_a_request_with_distribution_impact_and_segments() {
        let loaded = example();
        let population = Arc::new(users(2000));
        let worker = PreviewWorker::new();
        let without_segments = request(1, &loaded, "new-checkout", &population);
        assert!(compute(&without_segments, &mut PreviewCache::new(), || false).unwrap().segments.is_empty());
        worker.request(request(1, &loaded, "new-checkout", &population).count_segments(&loaded.file));
        let result = worker.wait_for(1, Duration::from_secs(20)).unwrap();
        assert_eq!(result.generation, 1);
        assert_eq!(result.distribution.flag, "new-checkout");
        assert_eq!(result.distribution.total, 2000);
        assert_eq!(result.impact.changed, 0);
        assert_eq!(result.segments.len(), 4);
        let mut whole = request(1, &loaded, "new-checkout", &population).count_segments(&loaded.file);
        (whole.paths, whole.segment_paths) = (None, None);
        let direct = compute(&whole, &mut PreviewCache::new(), || false).unwrap();
        assert_eq!((direct.distribution, direct.segments), (result.distribution, result.segments));
    }

    #[test]
    fn impact_against_the_saved_file_matches_a_direct_comparison() {
        let (saved, edited) = (with_rollout(10), with_rollout(20));
        let population = Arc::new(users(5000));
        let worker = PreviewWorker::new();
        let edited_compiled = Arc::new(edited.compiled.clone());
        let saved_compiled = Arc::new(saved.compiled.clone());
        let new = |generation| {
            PreviewRequest::new(
                generation,
                saved_compiled.clone(),
                edited_compiled.clone(),
                &edited.file,
                "new-checkout",
                "production",
                population.clone(),
            )
        };
        // Without the saved model: whole users; with it: slim users.
        assert!(new(6).paths.is_none());
        let request = new(7).saved_flag(Some("new-checkout")).saved_model(&saved.file);
        assert_eq!(request.paths.iter().flatten().collect::<Vec<_>>(), ["beta_opt_in", "company.id", "email"]);
        let whole = compute(&new(7), &mut PreviewCache::new(), || false).unwrap();
        worker.request(request);
        let result = worker.wait_for(7, Duration::from_secs(20)).unwrap();
        let direct =
            impact(&saved.compiled, Some("new-checkout"), &edited.compiled, "new-checkout", "production", &population);
        assert_eq!(result.impact, direct);
        assert_eq!((&whole.impact, &whole.distribution), (&result.impact, &result.distribution));
        assert!(result.impact.changed > 300, "{:?}", result.impact);
        assert_eq!(
            result.distribution,
            distribution(
                &edited.compiled,
                &FlagOutline::of(&edited.file, "new-checkout", "production"),
                "new-checkout",
                "production",
                &population
            )
        );
    }

    #[test]
    fn newer_requests_supersede_older_ones() {
        let loaded = example();
        let population = Arc::new(users(50_000));
        let woken = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&woken);
        let worker = PreviewWorker::with_waker(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let flags = ["new-checkout", "dark-mode", "api-rate-limit", "cookie-consent-mode"];
        for generation in 1..=20 {
            worker.request(request(generation, &loaded, flags[generation as usize % 4], &population));
        }
        assert_eq!(worker.latest_generation(), 20);
        let last = worker.wait_for(20, Duration::from_secs(60)).unwrap();
        assert_eq!(last.generation, 20);
        assert_eq!(last.distribution.flag, flags[0]);
        // Most of the 20 were skipped (queued behind newer ones, or abandoned).
        let computed = worker.computed();
        assert!(computed < 20, "computed {computed}");
        assert!(worker.poll().is_none());
        drop(worker); // joins the thread: every wake-up has happened
        assert_eq!(woken.load(Ordering::Relaxed), computed);
    }

    #[test]
    fn queued_requests_collapse_to_the_newest() {
        let loaded = example();
        let population = Arc::new(users(10));
        let (tx, rx) = mpsc::channel();
        for generation in 2..=5 {
            tx.send(request(generation, &loaded, "dark-mode", &population)).unwrap();
        }
        let newest = newest(request(1, &loaded, "dark-mode", &population), &rx);
        assert_eq!(newest.generation, 5);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_stale_computation_stops() {
        let loaded = example();
        let population = Arc::new(users(10));
        assert!(compute(&request(1, &loaded, "dark-mode", &population), &mut PreviewCache::new(), || true).is_none());
    }

    #[test]
    fn poll_returns_the_newest_arrived_result() {
        let loaded = example();
        let population = Arc::new(users(100));
        let worker = PreviewWorker::new();
        worker.request(request(1, &loaded, "dark-mode", &population));
        // Wait until it is done, without consuming it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while worker.computed() < 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        worker.request(request(2, &loaded, "api-rate-limit", &population));
        while worker.computed() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let result = worker.poll().unwrap();
        assert_eq!((result.generation, result.distribution.flag.as_str()), (2, "api-rate-limit"));
        assert!(worker.poll().is_none());
    }
}
