//! Problems found in a flags file: where (a JSON pointer, and a line and
//! column for syntax errors), what kind (a stable [`Code`] tools can match),
//! and what is wrong, in words fit to show a person.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file is rejected.
    Error,
    /// The file is accepted, but probably not what its author meant.
    Warning,
}

/// A line and column in the file's text, both starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    /// Line number, from 1.
    pub line: usize,
    /// Column number (in characters), from 1.
    pub column: usize,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// What kind of problem a [`Diagnostic`] reports; stable, for tools and tests.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }
        impl Code {
            /// The code's kebab-case name, as printed by `check --format json`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }
            /// The code with this name, if any.
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($name => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    /// The file cannot be read: missing, not a regular file, over the size
    /// limit (reported by the programs that read files; this crate reads none).
    Unreadable = "unreadable",
    /// The text is not JSON.
    Syntax = "syntax",
    /// An object has the same key twice.
    DuplicateKey = "duplicate-key",
    /// A field that the format does not have (often a typo).
    UnknownField = "unknown-field",
    /// A required field is absent.
    MissingField = "missing-field",
    /// A value of the wrong JSON type or shape.
    InvalidType = "invalid-type",
    /// An op name that does not exist.
    UnknownOp = "unknown-op",
    /// `version` is not 1.
    UnsupportedVersion = "unsupported-version",
    /// A key with characters outside `A-Z a-z 0-9 _ - .`, or too long, or empty.
    InvalidKey = "invalid-key",
    /// The same environment or stage listed twice.
    DuplicateEntry = "duplicate-entry",
    /// A reference to an environment the file does not list.
    UnknownEnvironment = "unknown-environment",
    /// A reference to a variant the flag does not have.
    UnknownVariant = "unknown-variant",
    /// A reference to a segment the file does not define.
    UnknownSegment = "unknown-segment",
    /// A reference to a stage that does not exist.
    UnknownStage = "unknown-stage",
    /// A reference to a flag the file does not define.
    UnknownFlag = "unknown-flag",
    /// A flag with no variants, or `environments` with none.
    Empty = "empty",
    /// Variants of one flag with different JSON types, or of an unsupported type.
    VariantType = "variant-type",
    /// Two rules with one id in the same flag environment.
    DuplicateRuleId = "duplicate-rule-id",
    /// A targeting key listed under two variants.
    DuplicateTarget = "duplicate-target",
    /// Rollout weights that do not add up to 100.
    WeightSum = "weight-sum",
    /// A weight that is negative, over 100, or has more than 3 decimals.
    InvalidWeight = "invalid-weight",
    /// An empty or malformed attribute path.
    InvalidAttribute = "invalid-attribute",
    /// A leaf value of the wrong type for its op.
    InvalidValue = "invalid-value",
    /// A `matches` value that is not a valid regular expression.
    InvalidRegex = "invalid-regex",
    /// A semver op value that is not a version.
    InvalidSemver = "invalid-semver",
    /// A `before`/`after` value that is not a timestamp.
    InvalidTimestamp = "invalid-timestamp",
    /// Segments that refer to each other in a loop.
    SegmentCycle = "segment-cycle",
    /// Flags whose prerequisites form a loop.
    PrerequisiteCycle = "prerequisite-cycle",
    /// A bug in Burgee: the file passed validation but could not be compiled.
    Internal = "internal",
    /// Warning: a rule after a rule that matches everyone.
    UnreachableRule = "unreachable-rule",
    /// Warning: a variant no context can be served.
    UnusedVariant = "unused-variant",
    /// Warning: a flag with no entry for an environment (so disabled there).
    MissingEnvironment = "missing-environment",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem in a flags file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error (file rejected) or warning.
    pub severity: Severity,
    /// What kind of problem.
    pub code: Code,
    /// Where: a JSON pointer (RFC 6901) into the file; `""` is the whole file.
    pub pointer: String,
    /// Where in the text, for syntax errors.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub location: Option<Location>,
    /// What is wrong, for a person.
    pub message: String,
}

impl Diagnostic {
    /// An error at `pointer`.
    pub fn error(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, code, pointer: pointer.into(), location: None, message: message.into() }
    }

    /// A warning at `pointer`.
    pub fn warning(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code,
            pointer: pointer.into(),
            location: None,
            message: message.into(),
        }
    }

    /// Whether this diagnostic rejects the file.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `error[weight-sum] at /flags/x/environments/prod/default (line 3, column 5): message`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let pointer = if self.pointer.is_empty() { "the file" } else { &self.pointer };
        write!(f, "{severity}[{}] at {pointer}", self.code)?;
        if let Some(l) = self.location {
            write!(f, " (line {}, column {})", l.line, l.column)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A JSON pointer being built while walking a file.
///
/// Cheap to extend: `p.key("flags").key(k)` returns a new pointer string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    /// The pointer to the whole document (`""`).
    pub fn root() -> Self {
        Pointer(String::new())
    }

    /// This pointer extended with an object key, escaped per RFC 6901.
    pub fn key(&self, key: &str) -> Self {
        let mut s = String::with_capacity(self.0.len() + key.len() + 1);
        s.push_str(&self.0);
        s.push('/');
        if !key.contains(['~', '/']) {
            s.push_str(key);
            return Pointer(s);
        }
        for c in key.chars() {
            match c {
                '~' => s.push_str("~0"),
                '/' => s.push_str("~1"),
                c => s.push(c),
            }
        }
        Pointer(s)
    }

    /// This pointer extended with an array index.
    pub fn index(&self, i: usize) -> Self {
        use std::fmt::Write;
        let mut s = String::with_capacity(self.0.len() + 8);
        s.push_str(&self.0);
        let _ = write!(s, "/{i}");
        Pointer(s)
    }

    /// The pointer as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Pointer> for String {
    fn from(p: Pointer) -> String {
        p.0
    }
}

impl From<&Pointer> for String {
    fn from(p: &Pointer) -> String {
        p.0.clone()
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of JSON value this is, for messages: "a string", "an object", …
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_tilde_and_slash() {
        assert_eq!(Pointer::root().key("flags").key("a/b~c").index(2).as_str(), "/flags/a~1b~0c/2");
    }

    #[test]
    fn display_names_code_place_and_line() {
        let mut d = Diagnostic::error(Code::Syntax, "", "expected `,`");
        d.location = Some(Location { line: 3, column: 7 });
        assert_eq!(d.to_string(), "error[syntax] at the file (line 3, column 7): expected `,`");
    }

    #[test]
    fn code_names_round_trip() {
        for code in [Code::Syntax, Code::WeightSum, Code::MissingEnvironment] {
            assert_eq!(Code::from_name(code.as_str()), Some(code));
        }
    }
}
