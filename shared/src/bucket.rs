//! The one bucketing function: which of 100,000 buckets a value falls in for a
//! salt, as the contract defines it (murmur3 x86 32-bit, seed 0).
//!
//! `h = murmur3_x86_32(utf8(salt + value), 0)`, `b = (h * 100000) >> 32`.
//! Rollouts and the `percent` op both use it, so a user's bucket depends only
//! on the salt and their own value.

use std::io::Read;

use serde_json::Value;

use crate::context::AttributeValue;
use crate::weight::Weight;

/// Number of buckets: 100 % in thousandths of a percent ([`Weight::ALL`]).
pub const BUCKETS: u32 = Weight::ALL.thousandths();

/// The bucket (`0..100_000`) of `value` under `salt`.
pub fn bucket(salt: &str, value: &str) -> u32 {
    bucket_of_hash(hash(salt, value))
}

/// `murmur3_x86_32(salt + value, seed 0)`, hashing the concatenation without
/// building it.
pub fn hash(salt: &str, value: &str) -> u32 {
    let mut input = Concatenation([salt.as_bytes(), value.as_bytes()]);
    // Reading from in-memory slices cannot fail.
    murmur3::murmur3_32(&mut input, 0).unwrap_or(0)
}

/// Two byte strings read as one. `murmur3` reads four bytes at a time: each
/// read fills its buffer across the seam, with no call to copy memory in
/// the usual case of four bytes from one slice.
struct Concatenation<'b>([&'b [u8]; 2]);

impl Read for Concatenation<'_> {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let [first, second] = &mut self.0;
        let current = if first.is_empty() { &mut *second } else { &mut *first };
        if let (Some(to), Some((from, rest))) = (buf.first_chunk_mut::<4>(), current.split_first_chunk::<4>()) {
            *to = *from;
            *current = rest;
            return Ok(4);
        }
        let mut filled = 0;
        for part in [first, second] {
            while filled < buf.len() {
                let Some((byte, rest)) = part.split_first() else { break };
                buf[filled] = *byte;
                *part = rest;
                filled += 1;
            }
        }
        Ok(filled)
    }
}

/// `(h * 100000) >> 32` in u64 arithmetic.
pub fn bucket_of_hash(h: u32) -> u32 {
    ((u64::from(h) * u64::from(BUCKETS)) >> 32) as u32
}

/// The bucket of an attribute value: strings as they are, numbers and
/// booleans as their JSON text. `None` for null, lists and objects, which
/// cannot be bucketed.
pub fn bucket_value(salt: &str, value: &Value) -> Option<u32> {
    bucket_attribute(salt, AttributeValue::of(value)?)
}

/// [`bucket_value`] of an attribute as a context holds it.
pub(crate) fn bucket_attribute(salt: &str, value: AttributeValue<'_>) -> Option<u32> {
    match value {
        AttributeValue::String(s) => Some(bucket(salt, s)),
        AttributeValue::Bool(b) => Some(bucket(salt, if b { "true" } else { "false" })),
        AttributeValue::Number(_, text) => Some(bucket(salt, text)),
        AttributeValue::Other(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's test vectors: (salt, value, h, b).
    const VECTORS: [(&str, &str, u32, u32); 4] = [
        ("new-checkout", "user-1", 1954156369, 45498),
        ("new-checkout", "user-2", 986941360, 22979),
        ("exp-2026", "acme", 4058398245, 94491),
        ("ab-test", "ユーザー", 470371150, 10951),
    ];

    #[test]
    fn hashing_the_two_parts_is_hashing_them_joined() {
        let text = "abcdefghijklmnopqrstuvwxyzäöü0123456789";
        for (cut, _) in text.char_indices() {
            for (end, _) in text.char_indices().filter(|(e, _)| *e >= cut) {
                let joined = murmur3::murmur3_32(&mut std::io::Cursor::new(&text[..end]), 0).unwrap();
                assert_eq!(hash(&text[..cut], &text[cut..end]), joined, "{cut} {end}");
            }
        }
    }

    #[test]
    fn contract_vectors() {
        for (salt, value, h, b) in VECTORS {
            assert_eq!(hash(salt, value), h, "hash of {salt}{value}");
            assert_eq!(bucket(salt, value), b, "bucket of {salt}{value}");
        }
    }

    #[test]
    fn number_is_hashed_as_its_json_text() {
        assert_eq!(bucket_value("new-checkout", &serde_json::json!(12345)), Some(40864));
        assert_eq!(hash("new-checkout", "12345"), 1755106922);
    }

    #[test]
    fn booleans_hash_as_json_text_and_containers_do_not_bucket() {
        assert_eq!(bucket_value("s", &Value::Bool(true)), Some(bucket("s", "true")));
        assert_eq!(bucket_value("s", &serde_json::json!([1])), None);
        assert_eq!(bucket_value("s", &Value::Null), None);
    }

    #[test]
    fn floats_hash_as_their_json_text() {
        assert_eq!(bucket_value("s", &serde_json::json!(1.5)), Some(bucket("s", "1.5")));
    }

    #[test]
    fn extremes_stay_in_range() {
        assert_eq!(bucket_of_hash(0), 0);
        assert_eq!(bucket_of_hash(u32::MAX), BUCKETS - 1);
    }
}
