//! Previews for the selected flag and environment, computed with
//! `burgee-rules` so they are exactly what the sidecar will serve:
//!
//! - [`population`]: sample users, generated from distributions or loaded
//!   from JSON lines or CSV;
//! - [`distribution`](mod@distribution): how many users get each variant, which step decided,
//!   and segment membership counts;
//! - [`impact`](mod@impact): how many users would change variant against the file as
//!   last saved;
//! - [`projection`]: users cut down to the attributes a flag reads, which
//!   makes evaluating 100,000 of them several times faster;
//! - [`worker`]: all of that on a background thread, newest request wins;
//! - [`chart`]: the egui views (bar chart and tables) of the results.

pub mod chart;
pub mod distribution;
pub mod impact;
mod parallel;
pub mod population;
pub mod projection;
pub mod worker;

pub use chart::{distribution_chart, impact_table, rules_table, segment_table};
pub use distribution::{
    Decider, DeciderCount, Distribution, EXAMPLES_PER_VARIANT, FlagOutline, RuleReach, distribution, examples,
    rule_reach, segment_counts, segment_keys,
};
pub use impact::{Baseline, Impact, Move, Outcome, distribution_and_impact, impact, impact_against, impact_of_save};
pub use population::{AttributeSpec, PopulationError, PopulationSpec, ValueSpec, generate, load_csv, load_jsonl};
pub use projection::{ProjectionCache, attribute_paths, project, segment_attribute_paths};
pub use worker::{PreviewCache, PreviewRequest, PreviewResult, PreviewWorker, compute};
