//! `/metrics`: Prometheus text with evaluations by flag and reason,
//! reloads accepted and rejected, the time of the last accepted reload,
//! a request latency histogram by route, and log lines dropped.
//!
//! Counters for each flag are looked up once per reload, so counting an
//! evaluation is one atomic add.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burgee_rules::{CompiledFile, Reason};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EvaluationLabels {
    flag: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: &'static str,
}

/// The routes requests are timed by.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)] // label values are written as they are named
pub enum Route {
    /// `POST /ofrep/v1/evaluate/flags/{key}`
    ofrep_flag,
    /// `POST /ofrep/v1/evaluate/flags`
    ofrep_bulk,
    /// `GET /v1/flags/{key}`
    flag,
    /// `GET /v1/flags`
    flags,
    /// `GET /v1/events`
    events,
    /// `/healthz`, `/readyz`, `/v1/status`, `/metrics`
    operations,
    /// Anything else (404, 405, CORS preflight). Keep it last (see `ROUTES`).
    other,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Route,
}

/// The reasons counted, in [`FlagCounters`] order; `ERROR` last.
const REASONS: [&str; 6] = ["STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "ERROR"];

/// One flag's evaluation counters, by reason, each registered on first use
/// (so `/metrics` lists only what happened, even for 10,000 flags).
#[derive(Debug)]
pub struct FlagCounters {
    flag: Box<str>,
    family: Family<EvaluationLabels, Counter>,
    counters: [OnceLock<Counter>; 6],
}

impl FlagCounters {
    /// Count one evaluation with `reason` (`None`: an error).
    pub fn count(&self, reason: Option<Reason>) {
        let i = match reason {
            Some(Reason::Static) => 0,
            Some(Reason::TargetingMatch) => 1,
            Some(Reason::Split) => 2,
            Some(Reason::Default) => 3,
            Some(Reason::Disabled) => 4,
            None => 5,
        };
        let counter = self.counters[i].get_or_init(|| {
            self.family.get_or_create(&EvaluationLabels { flag: self.flag.to_string(), reason: REASONS[i] }).clone()
        });
        counter.inc();
    }
}

/// Every metric the sidecar exports.
pub struct Metrics {
    registry: Registry,
    evaluations: Family<EvaluationLabels, Counter>,
    unknown_flag: Counter,
    reloads: Family<ReloadLabels, Counter>,
    last_reload: Gauge<f64, std::sync::atomic::AtomicU64>,
    latency: Family<RouteLabels, Histogram>,
    /// Each route's histogram, by [`Route`] order, registered on first use
    /// (so a request is timed without a look-up in the family).
    latency_by_route: [OnceLock<Histogram>; ROUTES],
    log_lines_dropped: Counter,
}

/// How many [`Route`]s there are (`other` is the last).
const ROUTES: usize = Route::other as usize + 1;

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// The metrics, registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("burgee");
        let evaluations = Family::<EvaluationLabels, Counter>::default();
        registry.register("evaluations", "Flag evaluations by flag and reason", evaluations.clone());
        let unknown_flag =
            evaluations.get_or_create(&EvaluationLabels { flag: String::new(), reason: "ERROR" }).clone();
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register("reloads", "Flags file reloads by result (accepted, rejected)", reloads.clone());
        let last_reload = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "last_reload_success_timestamp_seconds",
            "When the flags file in service was accepted (Unix seconds)",
            last_reload.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.000_025, 2.0, 16))) as fn() -> Histogram,
        );
        registry.register("request_duration_seconds", "HTTP request latency by route", latency.clone());
        for result in ["accepted", "rejected"] {
            let _ = reloads.get_or_create(&ReloadLabels { result });
        }
        let log_lines_dropped = Counter::default();
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because stderr was full or closed",
            log_lines_dropped.clone(),
        );
        Metrics {
            registry,
            evaluations,
            unknown_flag,
            reloads,
            last_reload,
            latency,
            latency_by_route: Default::default(),
            log_lines_dropped,
        }
    }

    /// Counters for every flag of a newly accepted file, by flag index.
    pub fn flag_counters(&self, file: &CompiledFile) -> Vec<FlagCounters> {
        file.flag_ids()
            .map(|id| FlagCounters {
                flag: file.flag_key(id).into(),
                family: self.evaluations.clone(),
                counters: Default::default(),
            })
            .collect()
    }

    /// Count an evaluation of a flag the file does not have.
    pub fn count_unknown_flag(&self) {
        self.unknown_flag.inc();
    }

    /// Count an accepted reload.
    pub fn reload_accepted(&self) {
        self.reloads.get_or_create(&ReloadLabels { result: "accepted" }).inc();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        self.last_reload.set(now.as_secs_f64());
    }

    /// Count a rejected reload.
    pub fn reload_rejected(&self) {
        self.reloads.get_or_create(&ReloadLabels { result: "rejected" }).inc();
    }

    /// Record a request's latency.
    pub fn observe(&self, route: Route, took: Duration) {
        self.latency_by_route[route as usize]
            .get_or_init(|| self.latency.get_or_create(&RouteLabels { route }).clone())
            .observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        self.log_lines_dropped.inner().fetch_max(crate::log::dropped_lines(), std::sync::atomic::Ordering::Relaxed);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
