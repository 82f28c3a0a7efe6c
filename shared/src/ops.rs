//! Each condition op: how its `values` are read at load time (regexes
//! compiled, versions and timestamps parsed) and how it tests an attribute at
//! evaluation time, with no parsing of the file's values then.

use hashbrown::HashSet;
use std::cmp::Ordering;

use regex::Regex;
use semver::Version;
use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::bucket;
use crate::context::{Attribute, AttributeValue};
use crate::diagnostic::Code;
use crate::model::Op;
use crate::weight::Weight;

/// A leaf's op with its values ready to test.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// `in`, and `not_in` when negated. (The larger kinds are boxed, so a
    /// test is small: a big file has a hundred thousand of them.)
    Equals(Box<ValueSet>),
    /// `contains`: substrings, or list elements.
    Contains(Box<(Box<[Box<str>]>, ValueSet)>),
    StartsWith(Box<[Box<str>]>),
    EndsWith(Box<[Box<str>]>),
    Matches(Box<[Regex]>),
    Number(Cmp, Box<[f64]>),
    Semver(Cmp, Box<[Version]>),
    /// Unix time in nanoseconds.
    Time(Cmp, Box<[i128]>),
    Exists,
    /// Bucket thresholds in thousandths of a percent.
    Percent(Box<(Box<str>, Box<[u32]>)>),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Lte => o != Ordering::Greater,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Gte => o != Ordering::Less,
        }
    }
}

/// A set of JSON values for equality tests; numbers compare by value.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValueSet {
    strings: Strings,
    numbers: Box<[f64]>,
    bools: [bool; 2],
    others: Box<[Value]>,
}

/// A few strings in lists (most sets have two or three), more in a hash set.
#[derive(Debug, Clone)]
enum Strings {
    /// Strings of up to eight bytes as their [`short_key`]s, longer ones as they are.
    Few {
        short: Box<[u128]>,
        long: Box<[Box<str>]>,
    },
    Many(HashSet<Box<str>>),
}

impl Default for Strings {
    fn default() -> Self {
        Strings::Few { short: Box::default(), long: Box::default() }
    }
}

/// Up to this many strings, a set is a list.
const FEW: usize = 16;

/// A string of up to eight bytes as one number, its length included, so
/// that two such strings are equal when their keys are (most values in sets
/// are short: countries, plans, regions).
#[inline]
fn short_key(s: &[u8]) -> Option<u128> {
    let n = s.len();
    let word = match n {
        0 => 0,
        // The first, middle and last bytes cover up to three.
        1..4 => u64::from(s[0]) | u64::from(s[n / 2]) << 8 | u64::from(s[n - 1]) << 16,
        // Two four-byte words, overlapping for fewer than eight.
        4..=8 => {
            let word = |i: usize| s[i..].first_chunk::<4>().map_or(0, |w| u64::from(u32::from_le_bytes(*w)));
            word(0) | word(n - 4) << 32
        }
        _ => return None,
    };
    Some(u128::from(word) | (n as u128) << 64)
}

impl ValueSet {
    fn of<'v>(values: impl IntoIterator<Item = &'v Value>) -> Self {
        let (mut strings, mut numbers, mut others) = (Vec::<Box<str>>::new(), Vec::new(), Vec::new());
        let mut bools = [false; 2];
        for v in values {
            match v {
                Value::String(s) => strings.push(s.as_str().into()),
                Value::Number(n) => numbers.push(number(n)),
                Value::Bool(b) => bools[usize::from(*b)] = true,
                other => others.push(other.clone()),
            }
        }
        strings.sort_unstable();
        strings.dedup();
        let strings = if strings.len() <= FEW {
            let (mut short, mut long) = (Vec::new(), Vec::new());
            for s in strings {
                match short_key(s.as_bytes()) {
                    Some(key) => short.push(key),
                    None => long.push(s),
                }
            }
            Strings::Few { short: short.into(), long: long.into() }
        } else {
            Strings::Many(strings.into_iter().collect())
        };
        ValueSet { strings, numbers: numbers.into(), bools, others: others.into() }
    }

    fn has_strings(&self) -> bool {
        match &self.strings {
            Strings::Few { short, long } => !short.is_empty() || !long.is_empty(),
            Strings::Many(many) => !many.is_empty(),
        }
    }

    /// Whether some value of the set has `v`'s JSON type (otherwise `v` is
    /// of the wrong type for the op, and the leaf is false either way).
    fn has_type_of(&self, v: AttributeValue<'_>) -> bool {
        match v {
            AttributeValue::String(_) => self.has_strings(),
            AttributeValue::Number(..) => !self.numbers.is_empty(),
            AttributeValue::Bool(_) => self.bools[0] || self.bools[1],
            AttributeValue::Other(other) => {
                self.others.iter().any(|o| std::mem::discriminant(o) == std::mem::discriminant(other))
            }
        }
    }

    pub(crate) fn contains(&self, v: AttributeValue<'_>) -> bool {
        match v {
            // A few strings: compared in turn, a short one as one number.
            AttributeValue::String(s) => match &self.strings {
                Strings::Few { short, long } => match short_key(s.as_bytes()) {
                    Some(key) => short.contains(&key),
                    None => long.iter().any(|k| crate::context::same(k.as_bytes(), s.as_bytes())),
                },
                Strings::Many(many) => many.contains(s),
            },
            AttributeValue::Number(x, _) => self.numbers.contains(&x),
            AttributeValue::Bool(b) => self.bools[usize::from(b)],
            AttributeValue::Other(other) => self.others.contains(other),
        }
    }
}

/// The size of a compiled test, held by a unit test below.
#[cfg(test)]
const TEST_SIZE: usize = 40;

fn number(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// A problem with one of a leaf's values: which one, what kind, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueProblem {
    /// Index in `values`, or `None` for the list as a whole.
    pub index: Option<usize>,
    pub code: Code,
    pub message: String,
}

fn problem(index: usize, code: Code, message: String) -> ValueProblem {
    ValueProblem { index: Some(index), code, message }
}

/// Read a leaf's values for its op. `salt` is the key of the segment or flag
/// holding the leaf (used by `percent`). All problems are returned.
pub(crate) fn compile_test(op: Op, values: &[Value], salt: &str) -> Result<Test, Vec<ValueProblem>> {
    let mut problems = Vec::new();
    if matches!(op, Op::Exists | Op::NotExists) {
        if !values.is_empty() {
            problems.push(ValueProblem {
                index: None,
                code: Code::InvalidValue,
                message: format!("`{op}` takes no values: write \"values\": []"),
            });
        }
        return if problems.is_empty() { Ok(Test::Exists) } else { Err(problems) };
    }
    if values.is_empty() {
        return Err(vec![ValueProblem {
            index: None,
            code: Code::InvalidValue,
            message: format!("`{op}` needs at least one value"),
        }]);
    }

    let strings = |problems: &mut Vec<ValueProblem>| -> Vec<Box<str>> {
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                Value::String(s) => out.push(s.as_str().into()),
                other => problems.push(problem(
                    i,
                    Code::InvalidValue,
                    format!("`{op}` compares strings, found {}", crate::diagnostic::kind_of(other)),
                )),
            }
        }
        out
    };

    let test = match op {
        Op::In | Op::NotIn => Test::Equals(Box::new(ValueSet::of(values))),
        Op::Contains | Op::NotContains => {
            let mut substrings = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v {
                    Value::String(s) => substrings.push(s.as_str().into()),
                    Value::Number(_) | Value::Bool(_) => {}
                    other => problems.push(problem(
                        i,
                        Code::InvalidValue,
                        format!(
                            "`{op}` takes strings, numbers or booleans, found {}",
                            crate::diagnostic::kind_of(other)
                        ),
                    )),
                }
            }
            Test::Contains(Box::new((substrings.into(), ValueSet::of(values))))
        }
        Op::StartsWith => Test::StartsWith(strings(&mut problems).into()),
        Op::EndsWith => Test::EndsWith(strings(&mut problems).into()),
        Op::Matches => {
            let mut regexes = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v {
                    Value::String(s) => match regex::RegexBuilder::new(s).size_limit(1 << 20).build() {
                        Ok(r) => regexes.push(r),
                        Err(e) => problems.push(problem(
                            i,
                            Code::InvalidRegex,
                            format!("not a valid regular expression: {}", one_line(&e.to_string())),
                        )),
                    },
                    other => problems.push(problem(
                        i,
                        Code::InvalidValue,
                        format!(
                            "`matches` takes regular expressions as strings, found {}",
                            crate::diagnostic::kind_of(other)
                        ),
                    )),
                }
            }
            Test::Matches(regexes.into())
        }
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
            let mut numbers = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v {
                    Value::Number(n) => numbers.push(number(n)),
                    other => problems.push(problem(
                        i,
                        Code::InvalidValue,
                        format!("`{op}` compares numbers, found {}", crate::diagnostic::kind_of(other)),
                    )),
                }
            }
            Test::Number(cmp_of(op), numbers.into())
        }
        Op::SemverEq | Op::SemverLt | Op::SemverLte | Op::SemverGt | Op::SemverGte => {
            let mut versions = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v.as_str().map(parse_version) {
                    Some(Some(ver)) => versions.push(ver),
                    Some(None) => problems.push(problem(
                        i,
                        Code::InvalidSemver,
                        format!("{v} is not a semantic version (like \"1.2.3\", \"v2\" or \"1.4.0-beta.1\")"),
                    )),
                    None => problems.push(problem(
                        i,
                        Code::InvalidValue,
                        format!("`{op}` compares versions written as strings, found {}", crate::diagnostic::kind_of(v)),
                    )),
                }
            }
            Test::Semver(cmp_of(op), versions.into())
        }
        Op::Before | Op::After => {
            let mut times = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match AttributeValue::of(v).and_then(parse_time) {
                    Some(t) => times.push(t),
                    None => problems.push(problem(
                        i,
                        Code::InvalidTimestamp,
                        format!(
                            "{v} is not a timestamp: use RFC 3339 (\"2026-12-01T00:00:00Z\") or a number of Unix seconds"
                        ),
                    )),
                }
            }
            Test::Time(if op == Op::Before { Cmp::Lt } else { Cmp::Gt }, times.into())
        }
        Op::Percent => {
            let mut below = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v.as_number().map(|n| Weight::from_number(n).map(Weight::thousandths)) {
                    Some(Ok(m)) => below.push(m),
                    Some(Err(why)) => problems.push(problem(i, Code::InvalidValue, why)),
                    None => problems.push(problem(
                        i,
                        Code::InvalidValue,
                        format!("`percent` takes a percentage as a number, found {}", crate::diagnostic::kind_of(v)),
                    )),
                }
            }
            Test::Percent(Box::new((salt.into(), below.into())))
        }
        Op::Exists | Op::NotExists => Test::Exists,
    };
    if problems.is_empty() { Ok(test) } else { Err(problems) }
}

fn cmp_of(op: Op) -> Cmp {
    match op {
        Op::Lt | Op::SemverLt => Cmp::Lt,
        Op::Lte | Op::SemverLte => Cmp::Lte,
        Op::Gt | Op::SemverGt => Cmp::Gt,
        Op::Gte | Op::SemverGte => Cmp::Gte,
        _ => Cmp::Eq,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A version, leniently: a leading `v`, and `1` or `1.2` for `1.0.0` / `1.2.0`.
pub(crate) fn parse_version(text: &str) -> Option<Version> {
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let core_end = text.find(['-', '+']).unwrap_or(text.len());
    let (core, rest) = text.split_at(core_end);
    let parts = core.split('.').count();
    let padded;
    let full = match parts {
        1 => {
            padded = format!("{core}.0.0{rest}");
            &padded
        }
        2 => {
            padded = format!("{core}.0{rest}");
            &padded
        }
        _ => text,
    };
    Version::parse(full).ok()
}

/// SemVer precedence: build metadata does not count.
fn version_order(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// An RFC 3339 string or a number of Unix seconds, as Unix nanoseconds.
pub(crate) fn parse_time(v: AttributeValue<'_>) -> Option<i128> {
    match v {
        AttributeValue::String(s) => OffsetDateTime::parse(s, &Rfc3339).ok().map(OffsetDateTime::unix_timestamp_nanos),
        AttributeValue::Number(secs, _) => secs.is_finite().then(|| (secs * 1e9).round() as i128),
        _ => None,
    }
}

impl Test {
    /// Whether the (present, non-null) attribute `value` passes; `None` when
    /// the value's type does not fit the op, which makes the leaf false even
    /// for `not_in` / `not_contains`.
    pub(crate) fn check(&self, attribute: &Attribute<'_>) -> Option<bool> {
        let value = attribute.value;
        Some(match self {
            Test::Equals(set) => {
                if !set.has_type_of(value) {
                    return None;
                }
                set.contains(value)
            }
            Test::Contains(c) => match value {
                AttributeValue::String(s) => c.0.iter().any(|sub| s.contains(&**sub)),
                AttributeValue::Other(Value::Array(items)) => {
                    items.iter().filter_map(AttributeValue::of).any(|item| c.1.contains(item))
                }
                _ => return None,
            },
            Test::StartsWith(prefixes) => {
                let s = value.as_str()?;
                prefixes.iter().any(|p| s.starts_with(&**p))
            }
            Test::EndsWith(suffixes) => {
                let s = value.as_str()?;
                suffixes.iter().any(|p| s.ends_with(&**p))
            }
            Test::Matches(regexes) => {
                let s = value.as_str()?;
                regexes.iter().any(|r| r.is_match(s))
            }
            Test::Number(cmp, numbers) => {
                let AttributeValue::Number(x, _) = value else { return None };
                numbers.iter().any(|v| x.partial_cmp(v).is_some_and(|o| cmp.holds(o)))
            }
            Test::Semver(cmp, versions) => {
                let found = attribute.version(parse_version)?;
                versions.iter().any(|v| cmp.holds(version_order(&found, v)))
            }
            Test::Time(cmp, times) => {
                let found = parse_time(value)?;
                times.iter().any(|t| cmp.holds(found.cmp(t)))
            }
            Test::Exists => true,
            Test::Percent(p) => {
                let b = bucket::bucket_attribute(&p.0, value)?;
                p.1.iter().any(|limit| b < *limit)
            }
        })
    }

    #[cfg(test)]
    fn holds(&self, value: &Value) -> bool {
        Attribute::of(value).and_then(|a| self.check(&a)) == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn test(op: Op, values: Value) -> Test {
        compile_test(op, values.as_array().unwrap(), "salt").unwrap()
    }

    #[test]
    fn a_test_is_small() {
        assert!(std::mem::size_of::<Test>() <= TEST_SIZE, "{}", std::mem::size_of::<Test>());
    }

    #[test]
    fn short_keys_tell_strings_apart() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "acb",
            "aab",
            "abcd",
            "abdc",
            "abcde",
            "abcdf",
            "bbcde",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
        ];
        for a in words {
            for b in words {
                match (short_key(a.as_bytes()), short_key(b.as_bytes())) {
                    (Some(x), Some(y)) => assert_eq!(x == y, a == b, "{a} {b}"),
                    (x, _) => assert_eq!(x.is_none(), a.len() > 8),
                }
            }
        }
        let t = test(Op::In, json!(["DE", "FR", "enterprise", "", "ünï"]));
        for yes in ["DE", "FR", "enterprise", "", "ünï"] {
            assert!(t.holds(&json!(yes)), "{yes}");
        }
        for no in ["D", "DEU", "enterpris", "enterprisE", "ün", "E"] {
            assert!(!t.holds(&json!(no)), "{no}");
        }
    }

    #[test]
    fn numbers_compare_by_value_without_coercion() {
        let t = test(Op::In, json!([1, "2"]));
        assert!(t.holds(&json!(1.0)));
        assert!(!t.holds(&json!("1")));
        assert!(!t.holds(&json!(2)));
    }

    #[test]
    fn equality_on_a_value_of_another_type_is_undecided() {
        let t = test(Op::NotIn, json!(["free", "trial"]));
        assert_eq!(t.check(&Attribute::of(&json!("pro")).unwrap()), Some(false));
        assert_eq!(t.check(&Attribute::of(&json!(5)).unwrap()), None, "so not_in is false for a number, not true");
        assert_eq!(t.check(&Attribute::of(&json!(["pro"])).unwrap()), None);
        let mixed = test(Op::In, json!([1, "1", true]));
        assert_eq!(mixed.check(&Attribute::of(&json!(false)).unwrap()), Some(false));
    }

    #[test]
    fn contains_on_strings_and_lists() {
        let t = test(Op::Contains, json!(["beta", 7]));
        assert!(t.holds(&json!("closed-beta")));
        assert!(t.holds(&json!(["alpha", "beta"])));
        assert!(t.holds(&json!([7.0])));
        assert!(!t.holds(&json!(["betamax"])));
        assert!(!t.holds(&json!(7)));
    }

    #[test]
    fn partial_and_v_prefixed_versions() {
        assert_eq!(parse_version("1"), Version::parse("1.0.0").ok());
        assert_eq!(parse_version("v1.2"), Version::parse("1.2.0").ok());
        assert_eq!(parse_version("1.2-beta.1"), Version::parse("1.2.0-beta.1").ok());
        assert_eq!(parse_version("1.2.3.4"), None);
        assert_eq!(parse_version("x"), None);
        let t = test(Op::SemverLt, json!(["2.0.0"]));
        assert!(t.holds(&json!("2.0.0-rc.1")), "pre-releases sort lower");
        assert!(!t.holds(&json!("2")));
        let eq = test(Op::SemverEq, json!(["1.0.0"]));
        assert!(eq.holds(&json!("1.0.0+build.5")), "build metadata does not count");
    }

    #[test]
    fn timestamps_as_text_or_seconds() {
        let t = test(Op::Before, json!(["2026-01-01T00:00:00Z"]));
        assert!(t.holds(&json!("2025-12-31T23:59:59+00:00")));
        assert!(t.holds(&json!(1767225599)));
        assert!(!t.holds(&json!(1767225600)));
        assert!(!t.holds(&json!("yesterday")));
    }

    #[test]
    fn value_problems_name_the_value() {
        let p = compile_test(Op::Matches, &[json!("ok"), json!("(")], "s").unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].index, Some(1));
        assert_eq!(p[0].code, Code::InvalidRegex);
        let p = compile_test(Op::Exists, &[json!(1)], "s").unwrap_err();
        assert_eq!(p[0].index, None);
        let p = compile_test(Op::Percent, &[json!(10.0001)], "s").unwrap_err();
        assert_eq!(p[0].code, Code::InvalidValue);
    }
}
