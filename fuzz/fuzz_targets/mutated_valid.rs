//! Same checks as `parse_validate_compile`, started from valid files: the
//! seed corpus in corpus/mutated_valid (examples/flags.json and every
//! tests/conformance/*.json "file", written out by `run.sh --seed`), with a
//! JSON dictionary (fuzz/json.dict) to help the mutator keep the syntax.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check_file(data));
