//! Sample populations: the users a preview evaluates a flag for.
//!
//! Either generated from a [`PopulationSpec`] (N users with targeting keys
//! `user-1..N` and attributes drawn from distributions the user sets; the same
//! spec and seed always give the same users) or loaded from a JSON-lines or CSV
//! file of contexts ([`load_jsonl`], [`load_csv`]).

use burgee_rules::context::TARGETING_KEY;
use burgee_rules::{Context, ContextError};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde_json::{Map, Number, Value};
use thiserror::Error;

/// How to generate a sample population.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationSpec {
    /// How many users (targeting keys `user-1` to `user-{size}`).
    pub size: usize,
    /// The random seed: the same spec and seed always give the same users.
    pub seed: u64,
    /// The attributes each user gets, drawn independently of each other.
    pub attributes: Vec<AttributeSpec>,
}

/// One attribute of generated users.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeSpec {
    /// A dot-separated path (`country`, `company.plan`): dots make nested objects.
    /// A spec for `targetingKey` is ignored (generated users are `user-1..N`).
    pub path: String,
    /// The share of users that have the attribute at all, from 0 to 1.
    pub presence: f64,
    /// How its values are drawn.
    pub values: ValueSpec,
}

/// How the values of one generated attribute are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueSpec {
    /// One of these values, with these relative weights (they need not add
    /// up to 100; values with weight 0 never appear).
    Weighted(Vec<(Value, f64)>),
    /// One of `count` ids `{prefix}1` to `{prefix}{count}`, uniformly
    /// (e.g. company ids `company-1..500`).
    DistinctIds {
        /// Put before the number, e.g. `company-`.
        prefix: String,
        /// How many distinct ids.
        count: usize,
    },
    /// A number from `min` to `max` (inclusive for integers), uniformly.
    Range {
        /// The smallest value.
        min: f64,
        /// The largest value.
        max: f64,
        /// Whole numbers only.
        integer: bool,
    },
    /// An e-mail address `{targetingKey}@{domain}`, the domain drawn by weight.
    Email(Vec<(String, f64)>),
    /// An RFC 3339 UTC timestamp (`2026-03-01T12:00:00Z`) between two Unix
    /// times in seconds, uniformly.
    Timestamp {
        /// The earliest time.
        from: i64,
        /// The latest time.
        to: i64,
    },
}

impl AttributeSpec {
    /// An attribute every user has.
    pub fn new(path: impl Into<String>, values: ValueSpec) -> Self {
        AttributeSpec { path: path.into(), presence: 1.0, values }
    }

    /// Only this share of users (0 to 1) has the attribute.
    pub fn present_for(mut self, share: f64) -> Self {
        self.presence = share;
        self
    }
}

impl ValueSpec {
    /// Weighted string values, e.g. `ValueSpec::strings(&[("US", 60.0), ("DE", 30.0)])`.
    pub fn strings(values: &[(&str, f64)]) -> Self {
        ValueSpec::Weighted(values.iter().map(|(v, w)| (Value::String((*v).to_owned()), *w)).collect())
    }
}

impl Default for PopulationSpec {
    /// 10,000 users shaped like the attributes `examples/flags.json` uses:
    /// staff e-mails at `@example.com`, company ids, plans and seats, EU and
    /// other countries, app versions, platforms, the beta opt-in and sign-up
    /// and company creation dates.
    fn default() -> Self {
        use ValueSpec::{DistinctIds, Email, Range, Timestamp};
        let countries = ValueSpec::strings(&[
            ("US", 40.0),
            ("DE", 15.0),
            ("FR", 10.0),
            ("GB", 10.0),
            ("NL", 5.0),
            ("ES", 5.0),
            ("IT", 5.0),
            ("CA", 5.0),
            ("JP", 5.0),
        ]);
        let emails = Email(vec![
            ("example.com".into(), 3.0),
            ("gmail.com".into(), 57.0),
            ("outlook.com".into(), 30.0),
            ("mailinator.com".into(), 10.0),
        ]);
        PopulationSpec {
            size: 10_000,
            seed: 1,
            attributes: vec![
                AttributeSpec::new("email", emails),
                AttributeSpec::new("country", countries),
                AttributeSpec::new("platform", ValueSpec::strings(&[("web", 60.0), ("ios", 25.0), ("android", 15.0)])),
                AttributeSpec::new(
                    "app.version",
                    ValueSpec::strings(&[("4.0.3", 20.0), ("4.1.0", 30.0), ("4.2.0", 35.0), ("4.3.0-beta.1", 15.0)]),
                ),
                AttributeSpec::new(
                    "beta_opt_in",
                    ValueSpec::Weighted(vec![(Value::Bool(true), 10.0), (Value::Bool(false), 90.0)]),
                ),
                // 2025-01-01 to 2026-06-30.
                AttributeSpec::new("signed_up_at", Timestamp { from: 1_735_689_600, to: 1_782_777_600 }),
                AttributeSpec::new("company.id", DistinctIds { prefix: "company-".into(), count: 500 })
                    .present_for(0.8),
                AttributeSpec::new(
                    "company.plan",
                    ValueSpec::strings(&[
                        ("trial", 15.0),
                        ("free", 30.0),
                        ("team", 25.0),
                        ("business", 20.0),
                        ("enterprise", 10.0),
                    ]),
                )
                .present_for(0.8),
                AttributeSpec::new("company.seats", Range { min: 1.0, max: 800.0, integer: true }).present_for(0.8),
                // 2023-01-01 to 2026-06-30.
                AttributeSpec::new("company.created_at", Timestamp { from: 1_672_531_200, to: 1_782_777_600 })
                    .present_for(0.8),
            ],
        }
    }
}

/// Generate the users a spec describes: targeting keys `user-1..N`, each
/// attribute drawn in the order listed from one RNG seeded with `spec.seed`,
/// so the same spec always gives the same users.
pub fn generate(spec: &PopulationSpec) -> Vec<Context> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(spec.seed);
    let tables: Vec<Option<Vec<f64>>> = spec.attributes.iter().map(|a| cumulative(&a.values)).collect();
    (1..=spec.size)
        .map(|i| {
            let key = format!("user-{i}");
            let mut map = Map::new();
            for (attribute, table) in spec.attributes.iter().zip(&tables) {
                if attribute.path == TARGETING_KEY || attribute.path.is_empty() {
                    continue;
                }
                let present = attribute.presence >= 1.0 || rng.random_bool(attribute.presence.clamp(0.0, 1.0));
                if !present {
                    continue;
                }
                if let Some(value) = draw(&attribute.values, table.as_deref(), &key, &mut rng) {
                    insert_path(&mut map, &attribute.path, value);
                }
            }
            map.insert(TARGETING_KEY.into(), Value::String(key.clone()));
            Context::from_map(map).unwrap_or_else(|_| Context::with_key(key))
        })
        .collect()
}

/// Running sums of the weights of a weighted spec (for drawing by one
/// uniform number); `None` for other specs.
fn cumulative(values: &ValueSpec) -> Option<Vec<f64>> {
    let weights: Vec<f64> = match values {
        ValueSpec::Weighted(v) => v.iter().map(|(_, w)| *w).collect(),
        ValueSpec::Email(v) => v.iter().map(|(_, w)| *w).collect(),
        _ => return None,
    };
    let mut sum = 0.0;
    Some(
        weights
            .into_iter()
            .map(|w| {
                sum += if w.is_finite() && w > 0.0 { w } else { 0.0 };
                sum
            })
            .collect(),
    )
}

/// Index of the entry a uniform draw picks from running sums, or `None`
/// when every weight is zero.
fn pick(table: &[f64], rng: &mut Xoshiro256PlusPlus) -> Option<usize> {
    let total = *table.last()?;
    if total <= 0.0 {
        return None;
    }
    let x = rng.random_range(0.0..total);
    Some(table.iter().position(|&end| x < end).unwrap_or(table.len() - 1))
}

fn draw(values: &ValueSpec, table: Option<&[f64]>, key: &str, rng: &mut Xoshiro256PlusPlus) -> Option<Value> {
    match values {
        ValueSpec::Weighted(v) => pick(table?, rng).map(|i| v[i].0.clone()),
        ValueSpec::Email(domains) => pick(table?, rng).map(|i| Value::String(format!("{key}@{}", domains[i].0))),
        ValueSpec::DistinctIds { prefix, count } => {
            (*count > 0).then(|| Value::String(format!("{prefix}{}", rng.random_range(1..=*count))))
        }
        ValueSpec::Range { min, max, integer } => {
            let (lo, hi) = (min.min(*max), min.max(*max));
            if !lo.is_finite() || !hi.is_finite() {
                return None;
            }
            if *integer {
                let (lo, hi) = (lo.ceil() as i64, hi.floor() as i64);
                (lo <= hi).then(|| Value::Number(rng.random_range(lo..=hi).into()))
            } else if lo == hi {
                Number::from_f64(lo).map(Value::Number)
            } else {
                Number::from_f64(rng.random_range(lo..hi)).map(Value::Number)
            }
        }
        ValueSpec::Timestamp { from, to } => {
            let (lo, hi) = ((*from).min(*to), (*from).max(*to));
            Some(Value::String(rfc3339(rng.random_range(lo..=hi))))
        }
    }
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (the civil-from-days algorithm).
fn rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Set `path` (dot-separated) in `map`, making nested objects; a value
/// already on the way that is not an object is replaced by one.
fn insert_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_owned(), value);
        }
        Some((first, rest)) => {
            let entry = map.entry(first.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

/// Why a population file could not be read; every error names its line
/// (1-based, counting the CSV header as line 1).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PopulationError {
    /// A JSON-lines line is not valid JSON.
    #[error("line {line}: not valid JSON: {message}")]
    Json {
        /// The line.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A line is JSON but not a context.
    #[error("line {line}: {source}")]
    Context {
        /// The line.
        line: usize,
        /// Why it is not a context.
        source: ContextError,
    },
    /// The CSV is malformed (e.g. a row with a different number of fields).
    #[error("line {line}: {message}")]
    Csv {
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl PopulationError {
    /// The line the error is on (1-based).
    pub fn line(&self) -> usize {
        match self {
            PopulationError::Json { line, .. }
            | PopulationError::Context { line, .. }
            | PopulationError::Csv { line, .. } => *line,
        }
    }
}

/// Read contexts from JSON lines: one JSON object per line (as
/// [`Context::from_json`] takes: `targetingKey` a string when present, nested
/// objects for `company.plan`). Blank lines are skipped.
pub fn load_jsonl(text: &str) -> Result<Vec<Context>, PopulationError> {
    let mut users = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| PopulationError::Json { line: line_no, message: e.to_string() })?;
        users.push(Context::from_json(value).map_err(|source| PopulationError::Context { line: line_no, source })?);
    }
    Ok(users)
}

/// Suffix of a CSV header that keeps the column as text (`app.version:string`).
pub const CSV_STRING_SUFFIX: &str = ":string";

/// Read contexts from CSV. The header row names attribute paths; a dotted
/// header (`company.plan`) becomes a nested object and a `targetingKey`
/// column gives the targeting key (always text).
///
/// Cells are typed so that rules match as they would on real requests: an
/// empty cell leaves the attribute out; `true` and `false` become booleans; a
/// cell that is a JSON number (`42`, `-1.5`, `1e3`) becomes a number;
/// anything else stays text. A header ending in `:string`
/// (`app.version:string`) keeps its whole column as text, e.g. for versions
/// like `4.2` that would otherwise read as numbers.
pub fn load_csv(text: &str) -> Result<Vec<Context>, PopulationError> {
    let csv_error = |e: csv::Error| PopulationError::Csv {
        line: e.position().map_or(0, |p| p.line() as usize),
        message: match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("this row has {len} fields, the header has {expected_len}")
            }
            _ => e.to_string(),
        },
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers: Vec<(String, bool)> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| {
            let h = h.trim();
            match h.strip_suffix(CSV_STRING_SUFFIX) {
                Some(path) => (path.to_owned(), true),
                None => (h.to_owned(), false),
            }
        })
        .collect();
    if let Some(empty) = headers.iter().position(|(h, _)| h.is_empty()) {
        return Err(PopulationError::Csv { line: 1, message: format!("column {} has no name", empty + 1) });
    }
    let mut users = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let mut map = Map::new();
        for ((path, text_only), cell) in headers.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let value = if *text_only || path == TARGETING_KEY { Value::String(cell.to_owned()) } else { typed(cell) };
            insert_path(&mut map, path, value);
        }
        users.push(Context::from_map(map).map_err(|source| PopulationError::Context { line, source })?);
    }
    Ok(users)
}

/// A CSV cell as a boolean, a number or text (see [`load_csv`]).
fn typed(cell: &str) -> Value {
    match cell {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let numeric = cell.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    if numeric && let Ok(n) = serde_json::from_str::<Number>(cell) {
        return Value::Number(n);
    }
    Value::String(cell.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generation_is_deterministic_for_a_seed() {
        let spec = PopulationSpec { size: 500, ..PopulationSpec::default() };
        let a = generate(&spec);
        assert_eq!(a, generate(&spec));
        assert_eq!(a.len(), 500);
        assert_eq!(a[0].targeting_key(), Some("user-1"));
        assert_eq!(a[499].targeting_key(), Some("user-500"));
        let other = generate(&PopulationSpec { seed: 2, ..spec });
        assert_ne!(a, other);
    }

    #[test]
    fn generated_values_follow_the_spec() {
        let spec = PopulationSpec {
            size: 10_000,
            seed: 7,
            attributes: vec![
                AttributeSpec::new("country", ValueSpec::strings(&[("US", 60.0), ("DE", 30.0), ("FR", 10.0)])),
                AttributeSpec::new("company.id", ValueSpec::DistinctIds { prefix: "company-".into(), count: 20 }),
                AttributeSpec::new("company.seats", ValueSpec::Range { min: 1.0, max: 10.0, integer: true }),
                AttributeSpec::new("email", ValueSpec::Email(vec![("example.com".into(), 1.0)])).present_for(0.5),
                AttributeSpec::new("t", ValueSpec::Timestamp { from: 0, to: 0 }),
            ],
        };
        let users = generate(&spec);
        let share = |c: &str| {
            users.iter().filter(|u| u.lookup("country") == Some(&json!(c))).count() as f64 / users.len() as f64
        };
        assert!((share("US") - 0.6).abs() < 0.03, "{}", share("US"));
        assert!((share("DE") - 0.3).abs() < 0.03);
        assert!((share("FR") - 0.1).abs() < 0.02);
        let mut ids: Vec<_> = users.iter().filter_map(|u| u.lookup("company.id")?.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 20);
        assert!(ids.iter().all(|id| id.starts_with("company-")));
        assert!(
            users
                .iter()
                .all(|u| u.lookup("company.seats").and_then(Value::as_i64).is_some_and(|s| (1..=10).contains(&s)))
        );
        let with_email = users.iter().filter(|u| u.lookup("email").is_some()).count();
        assert!((4500..5500).contains(&with_email), "{with_email}");
        assert_eq!(
            users[2].lookup("email").map_or(json!("user-3@example.com"), Clone::clone),
            json!("user-3@example.com")
        );
        assert_eq!(users[0].lookup("t"), Some(&json!("1970-01-01T00:00:00Z")));
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(1_772_323_200), "2026-03-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3661), "2000-02-29T01:01:01Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn default_spec_fits_the_example_file() {
        let users = generate(&PopulationSpec { size: 2000, ..PopulationSpec::default() });
        let staff = users
            .iter()
            .filter(|u| u.lookup("email").and_then(Value::as_str).is_some_and(|e| e.ends_with("@example.com")))
            .count();
        assert!(staff > 0 && staff < 200, "{staff}");
        assert!(users.iter().any(|u| u.lookup("company.plan") == Some(&json!("enterprise"))));
        assert!(users.iter().any(|u| u.lookup("company.id").is_none()));
        assert!(users.iter().any(|u| u.lookup("beta_opt_in") == Some(&json!(true))));
    }

    #[test]
    fn jsonl_reads_objects_and_skips_blank_lines() {
        let users =
            load_jsonl("{\"targetingKey\": \"a\", \"company\": {\"plan\": \"pro\"}}\n\n{\"country\": \"DE\"}\n")
                .unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].lookup("company.plan"), Some(&json!("pro")));
        assert_eq!(users[1].targeting_key(), None);
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let err = load_jsonl("{\"targetingKey\": \"a\"}\n\n{oops}\n").unwrap_err();
        assert_eq!(err.line(), 3);
        assert!(err.to_string().starts_with("line 3: not valid JSON"), "{err}");
        let err = load_jsonl("{}\n[1, 2]\n").unwrap_err();
        assert_eq!(err.line(), 2);
        assert_eq!(err.to_string(), "line 2: the context must be a JSON object, found a list");
        let err = load_jsonl("{\"targetingKey\": 3}").unwrap_err();
        assert_eq!(err.line(), 1);
    }

    #[test]
    fn csv_types_cells_and_nests_dotted_headers() {
        let text = "targetingKey,company.plan,company.seats,beta_opt_in,app.version,build:string,score,empty\n\
                    42,enterprise,500,true,4.2,4.2,-1.5e0,\n\
                    u2,free,1,false,4.2.0,007,x,\n";
        let users = load_csv(text).unwrap();
        assert_eq!(users.len(), 2);
        let u = &users[0];
        assert_eq!(u.targeting_key(), Some("42"));
        assert_eq!(u.lookup("company.plan"), Some(&json!("enterprise")));
        assert_eq!(u.lookup("company.seats"), Some(&json!(500)));
        assert_eq!(u.lookup("beta_opt_in"), Some(&json!(true)));
        assert_eq!(u.lookup("app.version").and_then(Value::as_f64), Some(4.2));
        assert_eq!(u.lookup("build"), Some(&json!("4.2")));
        assert_eq!(u.lookup("score").and_then(Value::as_f64), Some(-1.5));
        assert_eq!(u.lookup("empty"), None);
        assert!(u.attributes()["company"].is_object());
        let u = &users[1];
        assert_eq!(u.lookup("app.version"), Some(&json!("4.2.0")));
        assert_eq!(u.lookup("build"), Some(&json!("007")));
        assert_eq!(u.lookup("score"), Some(&json!("x")));
        assert_eq!(u.lookup("beta_opt_in"), Some(&json!(false)));
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = load_csv("targetingKey,country\nu1,DE\nu2,FR,extra\n").unwrap_err();
        assert_eq!(err.line(), 3);
        assert_eq!(err.to_string(), "line 3: this row has 3 fields, the header has 2");
        let err = load_csv("targetingKey,\nu1,DE\n").unwrap_err();
        assert_eq!(err.line(), 1);
    }
}
