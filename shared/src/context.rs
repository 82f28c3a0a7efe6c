//! The evaluation context: a targeting key plus any attributes, and how an
//! attribute path (`company.plan`) finds a value in it.

use serde_json::{Map, Value};
use thiserror::Error;

/// The key of the targeting key in a context.
pub const TARGETING_KEY: &str = "targetingKey";

/// What a request says about the user: `targetingKey` and attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    attributes: Map<String, Value>,
}

/// Why a JSON value is not a context.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContextError {
    /// The context is not a JSON object.
    #[error("the context must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// `targetingKey` is present but not a string.
    #[error("`targetingKey` must be a string, found {0}")]
    TargetingKeyNotString(&'static str),
}

impl Context {
    /// An empty context (no targeting key, no attributes).
    pub fn new() -> Self {
        Context::default()
    }

    /// A context with just a targeting key.
    pub fn with_key(key: impl Into<String>) -> Self {
        let mut attributes = Map::new();
        attributes.insert(TARGETING_KEY.into(), Value::String(key.into()));
        Context { attributes }
    }

    /// A context from a JSON object; `targetingKey`, when present, must be a
    /// string (null counts as absent).
    pub fn from_json(value: Value) -> Result<Self, ContextError> {
        match value {
            Value::Object(attributes) => Context::from_map(attributes),
            other => Err(ContextError::NotAnObject(crate::diagnostic::kind_of(&other))),
        }
    }

    /// A context from a JSON object's fields.
    pub fn from_map(attributes: Map<String, Value>) -> Result<Self, ContextError> {
        match attributes.get(TARGETING_KEY) {
            None | Some(Value::String(_)) | Some(Value::Null) => Ok(Context { attributes }),
            Some(other) => Err(ContextError::TargetingKeyNotString(crate::diagnostic::kind_of(other))),
        }
    }

    /// Set an attribute (a top-level key; use nested objects for paths).
    pub fn set(&mut self, key: impl Into<String>, value: Value) -> &mut Self {
        self.attributes.insert(key.into(), value);
        self
    }

    /// The targeting key, when present.
    pub fn targeting_key(&self) -> Option<&str> {
        self.attributes.get(TARGETING_KEY).and_then(Value::as_str)
    }

    /// The context's fields as JSON.
    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attributes
    }

    /// The value at a dot-separated path, or `None` when absent or null.
    ///
    /// `company.plan` walks nested objects (`{"company": {"plan": ..}}`); when
    /// that finds nothing, a top-level key spelled `company.plan` is used, so
    /// flat contexts (as from query strings) work too.
    pub fn lookup(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut here = self.attributes.get(first);
        for part in parts {
            here = here.and_then(|v| v.as_object()).and_then(|o| o.get(part));
        }
        let found = match here {
            Some(v) => Some(v),
            None if path.contains('.') => self.attributes.get(path),
            None => None,
        };
        found.filter(|v| !v.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Context {
        Context::from_json(v).unwrap()
    }

    #[test]
    fn nested_paths_and_flat_keys() {
        let c = ctx(json!({"targetingKey": "u1", "company": {"plan": "pro"}, "a.b": 1}));
        assert_eq!(c.lookup("company.plan"), Some(&json!("pro")));
        assert_eq!(c.lookup("a.b"), Some(&json!(1)));
        assert_eq!(c.lookup("targetingKey"), Some(&json!("u1")));
        assert_eq!(c.lookup("company.size"), None);
        assert_eq!(c.lookup("company.plan.x"), None);
    }

    #[test]
    fn null_is_absent() {
        let c = ctx(json!({"email": null}));
        assert_eq!(c.lookup("email"), None);
    }

    #[test]
    fn rejects_non_objects_and_non_string_keys() {
        assert_eq!(Context::from_json(json!([1])), Err(ContextError::NotAnObject("a list")));
        assert_eq!(
            Context::from_json(json!({"targetingKey": 5})),
            Err(ContextError::TargetingKeyNotString("a number"))
        );
    }
}
