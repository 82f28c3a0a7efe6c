#!/usr/bin/env bash
# Every test Burgee has, exactly as CI runs it (.ci/run calls this script).
# It installs what it needs itself, so it works on a fresh machine.
#
#   scripts/test.sh          formatting, lints, all tests, docs
#   BURGEE_LONG=1 scripts/test.sh   also the long variants (benchmarks compile and run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, conformance, end-to-end, property, doc tests)"
cargo test --workspace --locked

step "real OpenFeature clients (Python and JavaScript) against the real sidecar"
tests/clients/run.sh

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

if [[ "${BURGEE_LONG:-0}" == "1" ]]; then
  step "benchmarks (long variant)"
  bench/engine.sh
fi

step "all checks passed"
