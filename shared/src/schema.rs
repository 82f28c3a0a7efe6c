//! The JSON Schema of the flags file, generated from the [`crate::model`]
//! types so it cannot drift from what the parser accepts. Editors such as
//! VS Code validate a file that names it in `$schema`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::Value;

use crate::model::{Condition, FlagFile, Op, RolloutEntry, Serve};

/// The schema (JSON Schema draft-07, which every common editor reads).
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<FlagFile>().to_value();
    drop_null_types(&mut schema);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$id".into(), Value::String("https://burgee.dev/schema/flags-file-v1.json".into()));
    }
    schema
}

/// Optional fields are written absent, never `null`: `["string", "null"]`
/// becomes `"string"` so editors flag a `null`.
fn drop_null_types(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    obj.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = obj.get_mut("anyOf") {
                options.retain(|o| o.get("type").is_none_or(|t| t != "null"));
                if options.len() == 1 {
                    let only = options.remove(0);
                    obj.remove("anyOf");
                    if let Value::Object(fields) = only {
                        obj.extend(fields);
                    }
                }
            }
            obj.values_mut().for_each(drop_null_types);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_types),
        _ => {}
    }
}

/// The schema as the text `burgee-sidecar schema` prints and `schema/` holds.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

impl JsonSchema for Serve {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Serve".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let entry = generator.subschema_for::<RolloutEntry>();
        json_schema!({
            "description": "What to serve: one variant, or a percentage rollout whose weights add up to 100.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"variant": {"type": "string", "description": "The variant key."}},
                    "required": ["variant"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {
                        "rollout": {"type": "array", "items": entry, "minItems": 1},
                        "bucket_by": {"type": "string", "description": "Attribute path to hash; default targetingKey."},
                        "salt": {"type": "string", "description": "Hash salt; default the flag's key."}
                    },
                    "required": ["rollout"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl JsonSchema for Condition {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let this = generator.subschema_for::<Condition>();
        let op = generator.subschema_for::<Op>();
        let group = |name: &str| {
            json_schema!({
                "type": "object",
                "properties": {name: {"type": "array", "items": this.clone()}},
                "required": [name],
                "additionalProperties": false
            })
        };
        json_schema!({
            "description": "A condition tree: all / any / none of conditions, a segment reference, or an attribute test.",
            "oneOf": [
                group("all"),
                group("any"),
                group("none"),
                {
                    "type": "object",
                    "properties": {"segment": {"type": "string"}},
                    "required": ["segment"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {
                        "attribute": {"type": "string", "description": "Dot-separated path, e.g. company.plan."},
                        "op": op,
                        "values": {"type": "array"}
                    },
                    "required": ["attribute", "op", "values"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_forbids_unknown_fields_and_lists_every_op() {
        let s = json_schema();
        assert_eq!(s["additionalProperties"], Value::Bool(false));
        assert_eq!(s["required"], serde_json::json!(["version", "environments", "flags"]));
        let text = s.to_string();
        for op in Op::ALL {
            assert!(text.contains(&format!("\"{op}\"")), "schema lists {op}");
        }
    }
}
