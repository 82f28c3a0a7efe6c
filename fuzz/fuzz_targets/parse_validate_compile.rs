//! Arbitrary bytes → UTF-8 → `parse` + `validate`, and `load` (parse,
//! validate, compile). Never panics; an accepted file's canonical text loads
//! again to an equal model.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check_file(data));
