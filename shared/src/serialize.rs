//! [`FlagFile`] → text, in the one canonical form every Burgee program writes:
//! 2-space indented JSON, keys in the order they were read (fields in the
//! contract's order), non-ASCII as is, and a final newline. A file in this
//! form is written back byte for byte, so git diffs show only real changes.

use crate::model::FlagFile;

/// The canonical text of `file`.
pub fn to_string(file: &FlagFile) -> String {
    // Serializing plain data to a String cannot fail: all map keys are strings
    // and no value is a non-finite float (JSON has none).
    let mut text = serde_json::to_string_pretty(file).unwrap_or_default();
    text.push('\n');
    text
}

/// Whether `text` is already in canonical form (what `fmt --check` asks).
pub fn is_canonical(text: &str, file: &FlagFile) -> bool {
    to_string(file) == text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read as parse;

    const MESSY: &str = r#"{"version":1,"environments":["p"],"flags":{"z":{"off":"b","variants":{"b":1.0,"a":2},"environments":{"p":{"default":{"rollout":[{"weight":50,"variant":"a"},{"variant":"b","weight":50.0}]},"enabled":true}}}}}"#;

    #[test]
    fn writes_two_space_json_in_contract_field_order_keeping_map_order() {
        let text = to_string(&parse(MESSY).unwrap());
        assert!(text.starts_with("{\n  \"version\": 1,\n  \"environments\": [\n    \"p\"\n  ],"), "{text}");
        let off = text.find("\"off\"").unwrap();
        let variants = text.find("\"variants\"").unwrap();
        assert!(variants < off, "fields follow the contract's order");
        assert!(text.find("\"b\": 1.0").unwrap() < text.find("\"a\": 2").unwrap(), "map order kept, 1.0 kept");
        assert!(text.contains("\"weight\": 50\n") && text.contains("\"weight\": 50.0\n"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn canonical_text_round_trips_byte_for_byte() {
        let once = to_string(&parse(MESSY).unwrap());
        let twice = to_string(&parse(&once).unwrap());
        assert_eq!(once, twice);
        assert!(is_canonical(&once, &parse(&once).unwrap()));
        assert!(!is_canonical(MESSY, &parse(MESSY).unwrap()));
    }

    #[test]
    fn non_ascii_is_written_as_is() {
        let text = r#"{"version":1,"environments":["p"],"flags":{"f":{"description":"ユーザー","variants":{"a":"é"},"off":"a","environments":{}}}}"#;
        let out = to_string(&parse(text).unwrap());
        assert!(out.contains("\"ユーザー\"") && out.contains("\"é\""));
    }
}
