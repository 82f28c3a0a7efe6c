//! Text → [`FlagFile`]: JSON syntax, duplicate keys, and the file's structure
//! (field names and types), reporting every problem with its place.
//!
//! Syntax errors carry a line and column. Structure is checked per stage,
//! segment and flag, so one broken flag does not hide problems in the next.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic, Location, Pointer};
use crate::model::{FlagFile, Segment, Stage};

const TOP_LEVEL_FIELDS: [&str; 6] = ["$schema", "version", "environments", "stages", "segments", "flags"];

/// Parse a flags file's text into its model, or report every syntax and
/// structure problem found.
///
/// This does not check meaning (references, weights, cycles): see
/// [`crate::validate::validate`].
pub fn parse(text: &str) -> Result<FlagFile, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let value = parse_json(text, &mut problems)?;
    let root = Pointer::root();
    let Value::Object(mut top) = value else {
        problems.push(Diagnostic::error(
            Code::InvalidType,
            "",
            format!("a flags file is a JSON object, found {}", kind_of(&value)),
        ));
        return Err(problems);
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
    let stages = match top.remove("stages") {
        None => Some(None),
        Some(Value::Array(items)) => {
            let here = root.key("stages");
            let mut stages = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.into_iter().enumerate() {
                match typed::<Stage>(item, &here.index(i), &mut problems) {
                    Some(s) => stages.push(s),
                    None => ok = false,
                }
            }
            ok.then_some(Some(stages))
        }
        Some(other) => {
            problems.push(wrong_type(&root.key("stages"), "a list of stages", &other));
            None
        }
    };
    let segments = match top.remove("segments") {
        None => Some(None),
        Some(v) => keyed::<Segment>(v, &root.key("segments"), "segment", &mut problems).map(Some),
    };
    let flags = match top.remove("flags") {
        None => {
            problems.push(Diagnostic::error(Code::MissingField, "", "missing field `flags`"));
            None
        }
        Some(v) => keyed(v, &root.key("flags"), "flag", &mut problems),
    };

    match (version, environments, stages, segments, flags) {
        (Some(version), Some(environments), Some(stages), Some(segments), Some(flags)) if problems.is_empty() => {
            Ok(FlagFile { schema, version, environments, stages, segments, flags })
        }
        _ => Err(problems),
    }
}

/// Parse JSON text into a [`Value`], noting every duplicate object key.
fn parse_json(text: &str, problems: &mut Vec<Diagnostic>) -> Result<Value, Vec<Diagnostic>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = ValueSeed { at: Pointer::root(), duplicates: problems };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => {
            let mut d = Diagnostic::error(Code::Syntax, "", syntax_message(&e));
            d.location = Some(Location { line: e.line(), column: e.column() });
            Err(vec![d])
        }
    }
}

/// serde_json's message without its trailing " at line L column C".
fn syntax_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

/// Builds a [`Value`] like serde_json does, and records duplicate keys.
struct ValueSeed<'a> {
    at: Pointer,
    duplicates: &'a mut Vec<Diagnostic>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) =
            seq.next_element_seed(ValueSeed { at: self.at.index(items.len()), duplicates: self.duplicates })?
        {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = self.at.key(&key);
            let value = map.next_value_seed(ValueSeed { at: at.clone(), duplicates: self.duplicates })?;
            if object.insert(key.clone(), value).is_some() {
                self.duplicates.push(Diagnostic::error(
                    Code::DuplicateKey,
                    at,
                    format!("the key `{key}` appears more than once in this object; only one can be kept"),
                ));
            }
        }
        Ok(Value::Object(object))
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
/// reported and the others are still checked.
fn keyed<T: DeserializeOwned>(
    value: Value,
    at: &Pointer,
    what: &str,
    problems: &mut Vec<Diagnostic>,
) -> Option<IndexMap<String, T>> {
    let Value::Object(items) = value else {
        problems.push(wrong_type(at, &format!("an object of {what}s by key"), &value));
        return None;
    };
    let mut out = IndexMap::with_capacity(items.len());
    let mut ok = true;
    for (key, item) in items {
        match typed::<T>(item, &at.key(&key), problems) {
            Some(t) => {
                out.insert(key, t);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Deserialize one value, turning serde's error into a diagnostic at the exact
/// place inside it.
fn typed<T: DeserializeOwned>(value: Value, at: &Pointer, problems: &mut Vec<Diagnostic>) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(t) => Some(t),
        Err(e) => {
            let mut pointer = at.clone();
            for segment in e.path().iter() {
                pointer = match segment {
                    serde_path_to_error::Segment::Seq { index } => pointer.index(*index),
                    serde_path_to_error::Segment::Map { key } => pointer.key(key),
                    serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => pointer,
                };
            }
            let message = e.into_inner().to_string();
            let code = if message.starts_with("unknown field") {
                Code::UnknownField
            } else if message.starts_with("missing field") {
                Code::MissingField
            } else if message.starts_with("unknown variant") {
                Code::UnknownOp
            } else {
                Code::InvalidType
            };
            problems.push(Diagnostic::error(code, pointer, message));
            None
        }
    }
}

fn wrong_type(at: &Pointer, expected: &str, found: &Value) -> Diagnostic {
    Diagnostic::error(Code::InvalidType, at, format!("expected {expected}, found {}", kind_of(found)))
}

/// "a string", "an object", … for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(Code, String)> {
        parse(text).unwrap_err().into_iter().map(|d| (d.code, d.pointer)).collect()
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let e = parse("{\n  \"version\": 1,\n  \"flags\": {,}\n}").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].code, Code::Syntax);
        assert_eq!(e[0].location, Some(Location { line: 3, column: 13 }));
        assert!(!e[0].message.contains("at line"), "{}", e[0].message);
    }

    #[test]
    fn trailing_garbage_is_a_syntax_error() {
        let e = parse(r#"{"version": 1, "environments": ["p"], "flags": {}} x"#).unwrap_err();
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
    fn missing_required_fields_are_named() {
        let e = errors(r#"{"environments": ["p"]}"#);
        assert_eq!(e, vec![(Code::MissingField, "".into()), (Code::MissingField, "".into())]);
    }
}
