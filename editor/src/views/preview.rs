//! The preview panel for the selected flag and environment: the sample
//! population (generated with a size and seed, or loaded from JSON lines or
//! CSV), users per variant as a bar chart, users per deciding rule, the
//! change impact against the saved file (from → to), and "Try a user": a
//! context in, the variant, reason and step-by-step trace out.
//!
//! The numbers come from a [`PreviewWorker`] off the UI thread; a new request
//! goes out whenever the document's revision, the flag, the environment or
//! the population changes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use burgee_rules::model::Segment;
use burgee_rules::{Context, EvalError};
use eframe::egui::{self, RichText};

use crate::document::Document;
use crate::preview::{
    PopulationSpec, PreviewRequest, PreviewResult, PreviewWorker, ValueSpec, distribution_chart, generate,
    impact_table, load_csv, load_jsonl, rules_table, segment_counts,
};

/// The context "Try a user" starts with.
pub const SAMPLE_CONTEXT: &str = r#"{
  "targetingKey": "user-2001",
  "email": "dana@gmail.com",
  "country": "DE",
  "beta_opt_in": true,
  "company": {"id": "company-7", "plan": "team", "seats": 12}
}"#;

/// What the preview panel remembers: the population, the worker and its
/// newest result, and the "Try a user" context.
pub struct PreviewPanel {
    /// How to generate the population.
    pub spec: PopulationSpec,
    /// The sample users.
    pub population: Arc<Vec<Context>>,
    /// Where the population came from, for people.
    pub population_source: String,
    /// A JSON-lines or CSV file to load users from.
    pub load_path: String,
    /// Why the last load failed.
    pub load_error: Option<String>,
    /// The "Try a user" context, as JSON text.
    pub try_context: String,
    worker: Option<PreviewWorker>,
    generation: u64,
    population_generation: u64,
    requested: Option<(u64, u64, String, String, u64)>,
    result: Option<PreviewResult>,
    /// Per population generation: member counts by segment key.
    segment_counts: (u64, HashMap<String, CountedSegment>),
}

impl std::fmt::Debug for PreviewPanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviewPanel")
            .field("population", &self.population.len())
            .field("generation", &self.generation)
            .finish()
    }
}

impl Default for PreviewPanel {
    fn default() -> Self {
        let spec = PopulationSpec::default();
        let population = Arc::new(generate(&spec));
        PreviewPanel {
            population_source: format!("{} generated users (seed {})", population.len(), spec.seed),
            spec,
            population,
            load_path: String::new(),
            load_error: None,
            try_context: SAMPLE_CONTEXT.to_owned(),
            worker: None,
            generation: 0,
            population_generation: 0,
            requested: None,
            result: None,
            segment_counts: (0, HashMap::new()),
        }
    }
}

impl PreviewPanel {
    /// The newest result, if one arrived.
    pub fn result(&self) -> Option<&PreviewResult> {
        self.result.as_ref()
    }

    /// Whether a request is still being computed.
    pub fn is_pending(&self) -> bool {
        self.result.as_ref().map_or(self.generation > 0, |r| r.generation < self.generation)
    }

    /// Wait up to `timeout` for the newest request's result (tests and
    /// headless use; the UI polls).
    pub fn wait(&mut self, timeout: Duration) -> Option<&PreviewResult> {
        if self.is_pending()
            && let Some(worker) = &self.worker
            && let Some(r) = worker.wait_for(self.generation, timeout)
        {
            self.result = Some(r);
        }
        self.result.as_ref()
    }

    /// Generate a new population from [`PreviewPanel::spec`].
    pub fn regenerate(&mut self) {
        self.population = Arc::new(generate(&self.spec));
        self.population_source = format!("{} generated users (seed {})", self.population.len(), self.spec.seed);
        self.population_generation += 1;
    }

    /// Load the population from a `.csv` or JSON-lines file.
    pub fn load(&mut self, path: &Path) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.load_error = Some(format!("cannot read {}: {e}", path.display()));
                return;
            }
        };
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let loaded = if is_csv { load_csv(&text) } else { load_jsonl(&text) };
        match loaded {
            Ok(users) => {
                self.population_source = format!("{} users from {}", users.len(), path.display());
                self.population = Arc::new(users);
                self.population_generation += 1;
                self.load_error = None;
            }
            Err(e) => self.load_error = Some(e.to_string()),
        }
    }

    /// Send a request when anything it depends on changed; take a result.
    fn update(&mut self, ctx: &egui::Context, doc: &Document, flag: &str, env: &str) {
        let worker = self.worker.get_or_insert_with(|| {
            let ctx = ctx.clone();
            PreviewWorker::with_waker(move || ctx.request_repaint())
        });
        if let Some(r) = worker.poll() {
            self.result = Some(r);
        }
        let key = (doc.revision(), doc.saved_revision(), flag.to_owned(), env.to_owned(), self.population_generation);
        if self.requested.as_ref() == Some(&key) {
            return;
        }
        let (Some(edited), Some(model)) = (doc.compiled_for(&[flag]), doc.model()) else { return };
        let saved = doc.saved_compiled().unwrap_or_else(|| Arc::clone(&edited));
        self.generation += 1;
        let mut request =
            PreviewRequest::new(self.generation, saved, edited, model, flag, env, Arc::clone(&self.population));
        if let Some(saved_model) = doc.saved_model() {
            // Lets the worker evaluate users cut down to the attributes both
            // versions read (several times faster for big populations).
            request = request.saved_model(saved_model);
        }
        worker.request(request);
        self.requested = Some(key);
    }

    /// A few sample users per variant (indices into the population) who
    /// get `flag` in `env`, from the newest preview result for them (the
    /// worker picks them; empty until it has answered).
    pub fn examples(&self, flag: &str, env: &str) -> &[(String, Vec<usize>)] {
        match &self.result {
            Some(r) if r.distribution.flag == flag && r.distribution.environment == env => &r.examples,
            _ => &[],
        }
    }

    /// How many of the sample users are in segment `key` of the current
    /// model; `None` while the file has errors or lacks the segment.
    /// Counted on the UI thread when first asked for (only the segments on
    /// screen are), and kept while the population and the segment stay the
    /// same, so editing one segment of 1,000 recounts that one. A segment
    /// whose condition names other segments is recounted after every edit.
    pub fn segment_count(&mut self, doc: &Document, key: &str) -> Option<usize> {
        let segment = doc.model()?.segments.as_ref()?.get(key)?;
        if self.segment_counts.0 != self.population_generation {
            self.segment_counts = (self.population_generation, HashMap::new());
        }
        if let Some(counted) = self.segment_counts.1.get(key)
            && Arc::ptr_eq(&counted.segment, segment)
            && (counted.revision == doc.revision() || segment.matches.as_ref().is_none_or(|c| c.segments().is_empty()))
        {
            return Some(counted.count);
        }
        let compiled = doc.compiled_for(&[])?;
        let count = segment_counts(&compiled, &[key.to_owned()], &self.population).first()?.1;
        let counted = CountedSegment { segment: Arc::clone(segment), revision: doc.revision(), count };
        self.segment_counts.1.insert(key.to_owned(), counted);
        Some(count)
    }
}

/// A segment's member count and the version of the segment it was counted for.
#[derive(Debug)]
struct CountedSegment {
    segment: Arc<Segment>,
    revision: u64,
    count: usize,
}

/// Weighted values as text: `US: 60, DE: 30, FR: 10` (strings bare, other
/// JSON values as JSON).
pub fn weighted_to_text(values: &[(serde_json::Value, f64)]) -> String {
    values
        .iter()
        .map(|(v, w)| match v {
            serde_json::Value::String(s) => format!("{s}: {w}"),
            other => format!("{other}: {w}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Read `US: 60, DE: 30, true: 10` back; `true`, `false` and numbers are
/// JSON values, anything else a string. Errors name the item.
pub fn text_to_weighted(text: &str) -> Result<Vec<(serde_json::Value, f64)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (value, weight) =
                item.rsplit_once(':').ok_or_else(|| format!("`{item}`: write value: weight, e.g. US: 60"))?;
            let weight: f64 = weight.trim().parse().map_err(|_| format!("`{item}`: the weight is not a number"))?;
            if !(weight >= 0.0 && weight.is_finite()) {
                return Err(format!("`{item}`: the weight must be 0 or more"));
            }
            let value = value.trim();
            let value = match serde_json::from_str::<serde_json::Value>(value) {
                Ok(v @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => v,
                _ => serde_json::Value::String(value.to_owned()),
            };
            Ok((value, weight))
        })
        .collect()
}

/// The generated users' attributes: each one's share of users that have it
/// and, for weighted values, the values and weights (`US: 60, DE: 30`).
pub fn attributes_ui(ui: &mut egui::Ui, panel: &mut PreviewPanel) {
    egui::CollapsingHeader::new("Attributes of generated users").id_salt("population-attributes").show(ui, |ui| {
        for (i, attr) in panel.spec.attributes.iter_mut().enumerate() {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(&attr.path).monospace());
                let mut pct = attr.presence * 100.0;
                let r = ui
                    .add(egui::DragValue::new(&mut pct).range(0.0..=100.0).suffix("% have it").max_decimals(1))
                    .accessible_name(format!("Share of users with {}", attr.path));
                if r.changed() {
                    attr.presence = pct / 100.0;
                }
                match &mut attr.values {
                    ValueSpec::Weighted(values) => {
                        let id = egui::Id::unique(("population-weights", i));
                        let current = weighted_to_text(values);
                        let spec = super::field::FieldSpec::new(&current, format!("Values of {}", attr.path), "")
                            .min_width(220.0);
                        let parse = |t: &str| match text_to_weighted(t) {
                            Ok(v) if v.is_empty() => Err("give at least one value".to_owned()),
                            other => other,
                        };
                        if let Some(v) = super::field::live_field(ui, id, spec, parse) {
                            *values = v;
                        }
                    }
                    ValueSpec::DistinctIds { prefix, count } => {
                        ui.label(format!("{prefix}1 … {prefix}N, N ="));
                        ui.add(egui::DragValue::new(count).range(1..=1_000_000))
                            .accessible_name(format!("Distinct ids of {}", attr.path));
                    }
                    ValueSpec::Range { min, max, .. } => {
                        ui.label("from");
                        ui.add(egui::DragValue::new(min)).accessible_name(format!("Smallest {}", attr.path));
                        ui.label("to");
                        ui.add(egui::DragValue::new(max)).accessible_name(format!("Largest {}", attr.path));
                    }
                    ValueSpec::Email(domains) => {
                        let text = domains.iter().map(|(d, w)| format!("{d}: {w}")).collect::<Vec<_>>().join(", ");
                        ui.label(RichText::new(format!("e-mail at {text}")).weak());
                    }
                    ValueSpec::Timestamp { .. } => {
                        ui.label(RichText::new("a time in a range").weak());
                    }
                }
            });
        }
        ui.label(RichText::new("Press Generate to draw new users from these.").weak());
    });
}

/// The population controls: size, seed, Generate; a path and Load.
pub fn population_ui(ui: &mut egui::Ui, panel: &mut PreviewPanel) {
    ui.label(RichText::new("Sample users").strong());
    ui.label(RichText::new(&panel.population_source).weak());
    ui.horizontal(|ui| {
        ui.add(egui::DragValue::new(&mut panel.spec.size).range(1..=1_000_000).speed(100))
            .accessible_name("Population size");
        ui.label("users, seed");
        ui.add(egui::DragValue::new(&mut panel.spec.seed)).accessible_name("Population seed");
        if ui.button("Generate").clicked() {
            panel.regenerate();
        }
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut panel.load_path).hint_text("users.jsonl or users.csv").desired_width(180.0),
        )
        .accessible_name("Population file");
        if ui.button("Load users").clicked() {
            let path = panel.load_path.trim().to_owned();
            panel.load(Path::new(&path));
        }
    });
    attributes_ui(ui, panel);
    if let Some(e) = &panel.load_error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
}

/// The preview of flag `flag` in `env`: population, chart, per-rule counts,
/// impact, and "Try a user".
pub fn preview_ui(ui: &mut egui::Ui, doc: &Document, panel: &mut PreviewPanel, flag: &str, env: &str) {
    panel.update(ui.ctx(), doc, flag, env);
    ui.heading(format!("Preview: {flag} in {env}"));
    population_ui(ui, panel);
    ui.separator();
    if doc.compiled_for(&[flag]).is_none() {
        ui.colored_label(ui.visuals().error_fg_color, "The file has errors: fix them to update the preview.");
    }
    match &panel.result {
        Some(result) if result.distribution.flag == flag && result.distribution.environment == env => {
            let stale = panel.is_pending();
            ui.add_enabled_ui(!stale, |ui| {
                ui.label(RichText::new("Who gets what").strong());
                distribution_chart(ui, &result.distribution);
                ui.label(RichText::new("Decided by").strong());
                rules_table(ui, &result.distribution);
                ui.label(RichText::new("Change against the saved file").strong());
                impact_table(ui, &result.impact);
                ui.label(RichText::new(format!("computed in {} ms", result.elapsed.as_millis())).weak().small());
            });
        }
        _ => {
            ui.label("Computing…");
        }
    }
    examples_ui(ui, doc, panel, flag, env);
    ui.separator();
    try_user_ui(ui, doc, panel, flag, env);
}

/// A few sample users per variant; clicking one puts it in "Try a user".
fn examples_ui(ui: &mut egui::Ui, doc: &Document, panel: &mut PreviewPanel, flag: &str, env: &str) {
    if doc.compiled_for(&[flag]).is_none() {
        return;
    }
    ui.label(RichText::new("Some of them (click to try)").strong());
    let examples = panel.examples(flag, env).to_vec();
    let mut picked = None;
    for (variant, users) in &examples {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{variant}:")).monospace());
            if users.is_empty() {
                ui.label(RichText::new("nobody").weak());
            }
            for &i in users {
                let key = panel.population.get(i).and_then(Context::targeting_key).unwrap_or("?").to_owned();
                if ui.small_button(&key).accessible_name(format!("Try {key}")).clicked() {
                    picked = Some(i);
                }
            }
        });
    }
    if let Some(user) = picked.and_then(|i| panel.population.get(i)) {
        let value = serde_json::Value::Object(user.attributes());
        panel.try_context = serde_json::to_string_pretty(&value).unwrap_or_default();
    }
}

/// "Try a user": evaluate the typed context and show the trace.
pub fn try_user_ui(ui: &mut egui::Ui, doc: &Document, panel: &mut PreviewPanel, flag: &str, env: &str) {
    ui.label(RichText::new("Try a user").strong());
    ui.add(
        egui::TextEdit::multiline(&mut panel.try_context).code_editor().desired_rows(5).desired_width(f32::INFINITY),
    )
    .accessible_name("Context JSON");
    let context = match serde_json::from_str::<serde_json::Value>(&panel.try_context) {
        Ok(v) => match Context::from_json(v) {
            Ok(c) => c,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
                return;
            }
        },
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("not valid JSON: {e}"));
            return;
        }
    };
    let Some(compiled) = doc.compiled_for(&[flag]) else {
        ui.label("(the file has errors)");
        return;
    };
    let Some(env_id) = compiled.environment(env) else { return };
    let (result, steps) = compiled.explain(flag, env_id, &context);
    match result {
        Ok(e) => {
            ui.label(RichText::new(format!("Variant: {} = {}", e.variant, e.value)).strong());
            let mut reason = format!("Reason: {}", e.reason.as_str());
            if let Some(rule) = e.rule_id {
                reason.push_str(&format!(" (rule {rule})"));
            }
            ui.label(reason);
        }
        Err(e) => {
            let e: EvalError = e;
            ui.colored_label(ui.visuals().error_fg_color, format!("Error {}: {e}", e.code()));
        }
    }
    for (i, step) in steps.iter().enumerate() {
        ui.label(format!("{}. {step}", i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn weights_read_and_write_as_text() {
        let values = text_to_weighted("US: 60, DE: 30, true: 10").unwrap();
        assert_eq!(values, vec![(Value::from("US"), 60.0), (Value::from("DE"), 30.0), (Value::Bool(true), 10.0)]);
        assert_eq!(weighted_to_text(&values), "US: 60, DE: 30, true: 10");
        assert!(text_to_weighted("US 60").is_err());
        assert!(text_to_weighted("US: lots").is_err());
        assert!(text_to_weighted("US: -1").is_err());
    }

    #[test]
    fn a_new_size_and_seed_give_a_new_population() {
        let mut panel = PreviewPanel::default();
        panel.spec.size = 123;
        panel.spec.seed = 9;
        panel.regenerate();
        assert_eq!(panel.population.len(), 123);
        assert!(panel.population_source.contains("123"));
    }
}
