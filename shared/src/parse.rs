//! Text → [`FlagFile`]: JSON syntax, duplicate keys, and the file's structure
//! (field names and types), reporting every problem with its place.
//!
//! Syntax errors carry a line and column. Structure is checked per stage,
//! segment and flag, so one broken flag does not hide problems in the next.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic, Location, Pointer, kind_of};
use crate::model::{Flag, FlagFile, Segment, Stage};

const TOP_LEVEL_FIELDS: [&str; 6] = ["$schema", "version", "environments", "stages", "segments", "flags"];

/// What parsing found in a file that has problems.
#[derive(Debug, Clone, PartialEq)]
pub struct Broken {
    /// Every syntax and structure problem, with its place.
    pub problems: Vec<Diagnostic>,
    /// When the file's frame (`version`, `environments`) parsed, what did.
    pub partial: Option<Box<Partial>>,
}

/// The parts of a broken file that parsed: the model with each broken
/// stage, segment or flag replaced by a stub, and the pointers of those
/// stubs — so that validation can still check the rest ([`crate::read`] does).
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    /// The model, stubs included.
    pub file: FlagFile,
    /// Where the stubs are (`/flags/a`).
    pub stubs: Vec<String>,
}

/// Parse a flags file's text into its model, or report every syntax and
/// structure problem found.
///
/// This does not check meaning (references, weights, cycles): see
/// [`crate::validate::validate`], and [`crate::read`], which reports the
/// meaning errors of the well-formed parts of a broken file too.
pub fn parse(text: &str) -> Result<FlagFile, Broken> {
    parse_joined(text, &InTurn)
}

/// [`parse`] with its two passes over the text (the duplicate-key check and
/// the model) given to `join`, which may run them at once.
pub fn parse_joined(text: &str, join: &impl Join) -> Result<FlagFile, Broken> {
    // The common case, a well-formed file, goes straight from text to the
    // model (no intermediate JSON tree: big files load fast and small). Any
    // problem sends the file down the slow path, which finds them all.
    let (duplicates, model) = join.join(|| has_duplicate_keys(text), || serde_json::from_str::<FlagFile>(text));
    if !duplicates && let Ok(file) = model {
        return Ok(file);
    }
    parse_reporting_every_problem(text)
}

/// Two computations that may run at the same time. This crate starts no
/// threads: a binary that wants a big file read on two cores passes a
/// `Join` that does ([`InTurn`] runs one after the other).
pub trait Join {
    /// Run `a` and `b`, perhaps at once, and return both results.
    fn join<A: Send, B: Send>(&self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B);
}

/// A [`Join`] that runs `a`, then `b`.
pub struct InTurn;

impl Join for InTurn {
    fn join<A: Send, B: Send>(&self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
        let a = a();
        (a, b())
    }
}

/// Whether some object in `text` has a key twice (true for invalid JSON: the
/// slow path reports that).
fn has_duplicate_keys(text: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    !matches!(KeyCheck { path: None }.deserialize(&mut de), Ok(true))
}

/// Every duplicate key in `text`, as diagnostics; a syntax error as one
/// diagnostic with its line and column.
fn duplicate_keys(text: &str) -> Result<Vec<Diagnostic>, Diagnostic> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut path = Vec::new();
    let mut found = Vec::new();
    let checked = KeyCheck { path: Some((&mut path, &mut found)) }.deserialize(&mut de).and_then(|_| de.end());
    match checked {
        Ok(()) => Ok(found),
        Err(e) => {
            let mut d = Diagnostic::error(Code::Syntax, "", syntax_message(&e));
            d.location = Some(Location { line: e.line(), column: e.column() });
            Err(d)
        }
    }
}

/// Walks JSON without building it; `Ok(true)` when every object's keys are
/// unique. With `path`, it also records each duplicate's pointer (the slow
/// path); without, it only answers (the fast path allocates nothing per key).
struct KeyCheck<'a> {
    path: Option<(&'a mut Vec<String>, &'a mut Vec<Diagnostic>)>,
}

impl KeyCheck<'_> {
    fn child(&mut self) -> KeyCheck<'_> {
        KeyCheck { path: self.path.as_mut().map(|(p, f)| (&mut **p, &mut **f)) }
    }
}

impl<'de> DeserializeSeed<'de> for KeyCheck<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

/// The keys of one object so far: a few in a list (most objects have a
/// handful of keys, and a list needs no allocation or hashing), more in a
/// hash set.
#[derive(Default)]
struct SeenKeys<'de> {
    few: [Option<std::borrow::Cow<'de, str>>; 8],
    count: usize,
    many: hashbrown::HashSet<std::borrow::Cow<'de, str>>,
}

impl<'de> SeenKeys<'de> {
    /// `false` when `key` was there already.
    fn insert(&mut self, key: std::borrow::Cow<'de, str>) -> bool {
        if self.count < self.few.len() {
            if self.few[..self.count].iter().flatten().any(|k| *k == key) {
                return false;
            }
            self.few[self.count] = Some(key);
            self.count += 1;
            return true;
        }
        if self.many.is_empty() {
            self.many.extend(self.few.iter_mut().filter_map(Option::take));
        }
        self.many.insert(key)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for KeyCheck<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<bool, A::Error> {
        let mut unique = true;
        let mut i = 0usize;
        loop {
            if let Some((path, _)) = self.path.as_mut() {
                path.push(i.to_string());
            }
            let next = seq.next_element_seed(self.child());
            if let Some((path, _)) = self.path.as_mut() {
                path.pop();
            }
            match next? {
                Some(u) => unique &= u,
                None => return Ok(unique),
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<bool, A::Error> {
        let mut unique = true;
        let mut seen = SeenKeys::default();
        while let Some(Key(key)) = map.next_key()? {
            if let Some((path, _)) = self.path.as_mut() {
                path.push(key.to_string());
            }
            if !seen.insert(key.clone()) {
                unique = false;
                if let Some((path, found)) = self.path.as_mut() {
                    let at = path.iter().fold(Pointer::root(), |p, k| p.key(k));
                    found.push(Diagnostic::error(
                        Code::DuplicateKey,
                        at,
                        format!("the key `{key}` appears more than once in this object; only one can be kept"),
                    ));
                }
            }
            let value = map.next_value_seed(self.child());
            if let Some((path, _)) = self.path.as_mut() {
                path.pop();
            }
            unique &= value?;
        }
        Ok(unique)
    }
}

/// The slow path: a JSON tree first (syntax errors, duplicate keys), then each
/// stage, segment and flag on its own so every broken part is reported, then
/// the meaning of the well-formed rest (so a typo in one flag does not hide an
/// unknown variant in another).
fn parse_reporting_every_problem(text: &str) -> Result<FlagFile, Broken> {
    let mut problems = Vec::new();
    let value = parse_json(text, &mut problems).map_err(|problems| Broken { problems, partial: None })?;
    let root = Pointer::root();
    let Value::Object(mut top) = value else {
        problems.push(Diagnostic::error(
            Code::InvalidType,
            "",
            format!("a flags file is a JSON object, found {}", kind_of(&value)),
        ));
        return Err(Broken { problems, partial: None });
    };
    for key in top.keys() {
        if !TOP_LEVEL_FIELDS.contains(&key.as_str()) {
            problems.push(Diagnostic::error(
                Code::UnknownField,
                root.key(key),
                format!("unknown field `{key}`, expected one of {}", quoted_list(&TOP_LEVEL_FIELDS)),
            ));
        }
    }

    let schema = field::<String>(&mut top, "$schema", &root, &mut problems).flatten();
    let version = required::<u64>(&mut top, "version", &root, &mut problems);
    let environments = required::<Vec<String>>(&mut top, "environments", &root, &mut problems);
    // Broken items are replaced by stubs (keys and variant names only) so the
    // rest can still be validated; problems under a stub are not reported.
    let mut broken: Vec<Pointer> = Vec::new();
    let stages = match top.remove("stages") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let here = root.key("stages");
            let mut stages = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let stub = Stage {
                    key: item.get("key").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    name: String::new(),
                    description: None,
                    template: None,
                };
                stages.push(typed::<Stage>(item, &here.index(i), &mut problems).unwrap_or_else(|| {
                    broken.push(here.index(i));
                    stub
                }));
            }
            Some(stages)
        }
        Some(other) => {
            problems.push(wrong_type(&root.key("stages"), "a list of stages", &other));
            broken.push(root.key("stages"));
            None
        }
    };
    let segments = match top.remove("segments") {
        None | Some(Value::Null) => None,
        Some(v) => Some(keyed(v, &root.key("segments"), "segment", &mut problems, &mut broken, |_| {
            Arc::new(Segment::default())
        })),
    };
    let flags = match top.remove("flags") {
        None => {
            problems.push(Diagnostic::error(Code::MissingField, "", "missing field `flags`"));
            IndexMap::new()
        }
        Some(v) => keyed(v, &root.key("flags"), "flag", &mut problems, &mut broken, |v| Arc::new(flag_stub(v))),
    };

    let (Some(version), Some(environments)) = (version, environments) else {
        return Err(Broken { problems, partial: None });
    };
    let file = FlagFile { schema, version, environments, stages, segments, flags };
    if problems.is_empty() {
        return Ok(file);
    }
    let stubs = broken.iter().map(|p| p.as_str().to_owned()).collect();
    Err(Broken { problems, partial: Some(Box::new(Partial { file, stubs })) })
}

/// What stands in for a flag that does not parse: its variant names (so
/// prerequisites on it still resolve) and nothing else.
fn flag_stub(raw: &Value) -> Flag {
    let variants: IndexMap<String, Value> = raw
        .get("variants")
        .and_then(Value::as_object)
        .map(|v| v.keys().map(|k| (k.clone(), Value::Bool(false))).collect())
        .unwrap_or_default();
    Flag {
        description: None,
        stage: None,
        off: variants.keys().next().cloned().unwrap_or_default(),
        variants,
        environments: IndexMap::new(),
    }
}

/// Parse JSON text into a [`Value`], noting every duplicate object key.
fn parse_json(text: &str, problems: &mut Vec<Diagnostic>) -> Result<Value, Vec<Diagnostic>> {
    problems.extend(duplicate_keys(text).map_err(|syntax| vec![syntax])?);
    serde_json::from_str(text).map_err(|e| {
        let mut d = Diagnostic::error(Code::Syntax, "", syntax_message(&e));
        d.location = Some(Location { line: e.line(), column: e.column() });
        vec![d]
    })
}

/// serde_json's message without its trailing " at line L column C".
fn syntax_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

/// Take an optional field out of `obj` and deserialize it.
/// `None`: absent. `Some(None)`: present but invalid (reported).
fn field<T: DeserializeOwned>(
    obj: &mut Map<String, Value>,
    name: &str,
    at: &Pointer,
    problems: &mut Vec<Diagnostic>,
) -> Option<Option<T>> {
    obj.remove(name).map(|v| typed(v, &at.key(name), problems))
}

fn required<T: DeserializeOwned>(
    obj: &mut Map<String, Value>,
    name: &str,
    at: &Pointer,
    problems: &mut Vec<Diagnostic>,
) -> Option<T> {
    match field(obj, name, at, problems) {
        Some(v) => v,
        None => {
            problems.push(Diagnostic::error(Code::MissingField, at, format!("missing field `{name}`")));
            None
        }
    }
}

/// A JSON object of items deserialized one by one, so each broken item is
/// reported and the others are still checked; a broken item becomes `stub`.
fn keyed<T: DeserializeOwned>(
    value: Value,
    at: &Pointer,
    what: &str,
    problems: &mut Vec<Diagnostic>,
    broken: &mut Vec<Pointer>,
    stub: impl Fn(&Value) -> T,
) -> IndexMap<String, T> {
    let Value::Object(items) = value else {
        problems.push(wrong_type(at, &format!("an object of {what}s by key"), &value));
        broken.push(at.clone());
        return IndexMap::new();
    };
    let mut out = IndexMap::with_capacity(items.len());
    for (key, item) in items {
        let here = at.key(&key);
        let fallback = stub(&item);
        let parsed = typed::<T>(item, &here, problems).unwrap_or_else(|| {
            broken.push(here);
            fallback
        });
        out.insert(key, parsed);
    }
    out
}

/// One step of a path inside a value.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Deserialize one value, reporting every problem inside it at its exact
/// place: after each error the offending field is taken out and the value is
/// tried again (errors that only follow from a removal are not reported).
fn typed<T: DeserializeOwned>(value: Value, at: &Pointer, problems: &mut Vec<Diagnostic>) -> Option<T> {
    let mut value = value;
    let mut removed: Vec<Vec<Step>> = Vec::new();
    let mut clean = true;
    // Bounded: each round removes a field, and a value has finitely many.
    for _ in 0..256 {
        let error = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(t) => return clean.then_some(t),
            Err(e) => e,
        };
        let path: Vec<Step> = error
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let follows_from_removal = removed.iter().any(|r| r.starts_with(&path));
        if !follows_from_removal {
            let pointer = path.iter().fold(at.clone(), |p, step| match step {
                Step::Key(k) => p.key(k),
                Step::Index(i) => p.index(*i),
            });
            let message = error.into_inner().to_string();
            problems.push(Diagnostic::error(code_of(&message), pointer, message));
            clean = false;
        }
        // Take out the innermost object field on the path (never an array
        // element: that would renumber its siblings' pointers).
        let Some(cut) = path.iter().rposition(|s| matches!(s, Step::Key(_))) else { break };
        let Some(Step::Key(name)) = path.get(cut) else { break };
        let parent = value_at(&mut value, &path[..cut]).and_then(Value::as_object_mut);
        if parent.and_then(|p| p.shift_remove(name)).is_none() {
            break;
        }
        removed.push(path[..=cut].to_vec());
    }
    None
}

fn value_at<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

/// The diagnostic code for one of serde's (or our `TryFrom`s') messages.
fn code_of(message: &str) -> Code {
    if message.starts_with("unknown field") {
        Code::UnknownField
    } else if message.starts_with("missing field") || message.contains(" needs `") {
        Code::MissingField
    } else if message.starts_with("unknown variant") {
        Code::UnknownOp
    } else {
        Code::InvalidType
    }
}

fn wrong_type(at: &Pointer, expected: &str, found: &Value) -> Diagnostic {
    Diagnostic::error(Code::InvalidType, at, format!("expected {expected}, found {}", kind_of(found)))
}

fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(Code, String)> {
        crate::read(text).unwrap_err().into_iter().map(|d| (d.code, d.pointer)).collect()
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let e = parse("{\n  \"version\": 1,\n  \"flags\": {,}\n}").unwrap_err().problems;
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].code, Code::Syntax);
        assert_eq!(e[0].location, Some(Location { line: 3, column: 13 }));
        assert!(!e[0].message.contains("at line"), "{}", e[0].message);
    }

    #[test]
    fn trailing_garbage_is_a_syntax_error() {
        let e = parse(r#"{"version": 1, "environments": ["p"], "flags": {}} x"#).unwrap_err().problems;
        assert_eq!(e[0].code, Code::Syntax);
    }

    #[test]
    fn duplicate_flag_keys_are_reported() {
        let e = errors(r#"{"version": 1, "environments": ["p"], "flags": {"a": {}, "a": {}}}"#);
        assert!(e.contains(&(Code::DuplicateKey, "/flags/a".into())), "{e:?}");
    }

    #[test]
    fn every_broken_flag_is_reported_with_its_place() {
        let e = errors(
            r#"{"version": 1, "environments": ["p"], "colour": 1, "flags": {
              "a": {"variants": {"on": true}, "off": "on", "environments": {"p": {"enabled": "yes", "default": {"variant": "on"}}}},
              "b": {"variants": {"on": true}, "off": "on", "environments": {}, "typo": 1},
              "c": {"variants": {"on": true}, "off": "on", "environments": {"p": {"enabled": true, "default": {"variant": "on"},
                    "rules": [{"id": "r", "match": {"attribute": "x", "op": "equals", "values": []}, "serve": {"variant": "on"}}]}}}
            }}"#,
        );
        assert_eq!(
            e,
            vec![
                (Code::UnknownField, "/colour".into()),
                (Code::InvalidType, "/flags/a/environments/p/enabled".into()),
                (Code::UnknownField, "/flags/b/typo".into()),
                (Code::UnknownOp, "/flags/c/environments/p/rules/0/match/op".into()),
            ]
        );
    }

    #[test]
    fn serve_with_both_shapes_is_rejected_at_the_serve() {
        let e = errors(
            r#"{"version": 1, "environments": ["p"], "flags": {"a": {"variants": {"on": true}, "off": "on",
               "environments": {"p": {"enabled": true, "default": {"variant": "on", "rollout": []}}}}}}"#,
        );
        assert_eq!(e, vec![(Code::InvalidType, "/flags/a/environments/p/default".into())]);
    }

    #[test]
    fn fast_and_slow_paths_agree() {
        let text = r#"{"version": 1, "environments": ["p"], "segments": {"s": {"included": ["u"]}}, "flags": {"a": {"variants": {"on": true}, "off": "on", "environments": {"p": {"enabled": true, "default": {"variant": "on"}}}}}}"#;
        assert!(!has_duplicate_keys(text));
        assert_eq!(parse(text), parse_reporting_every_problem(text));
        assert!(has_duplicate_keys(r#"{"a": {"b": 1, "c": [{"x": 1, "x": 2}]}}"#));
        assert!(has_duplicate_keys(r#"{"a\u0062": 1, "ab": 2}"#), "escaped keys compare by value");
    }

    #[test]
    fn missing_required_fields_are_named() {
        let e = errors(r#"{"environments": ["p"]}"#);
        assert_eq!(e, vec![(Code::MissingField, "".into()), (Code::MissingField, "".into())]);
    }
}
