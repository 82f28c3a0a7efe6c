#!/usr/bin/env bash
# Every test Burgee has, exactly as CI runs it (.ci/run calls this script).
# It installs what it needs itself, so it works on a fresh machine.
#
#   scripts/test.sh          formatting, lints, all tests, docs
#   BURGEE_LONG=1 scripts/test.sh   also the long variants (benchmarks compile and run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# The client tests need Python 3 (with venv) and Node.js with npm; a machine
# without them (or the tools below) gets Debian's packages.
missing=()
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# The hostile-input tests: a FIFO, a network namespace with a veth pair, a probe from inside it.
command -v mkfifo >/dev/null || missing+=(coreutils)
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  sudo_=""
  [[ $(id -u) == 0 ]] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, conformance, end-to-end, property, doc tests)"
cargo test --workspace --locked

step "real OpenFeature clients (Python and JavaScript) against the real sidecar"
tests/clients/run.sh

# cargo fuzz for the short fuzzing run: a machine without it gets it built
# into target/tools (about a minute; rebuilt on a clean checkout, never cached).
if ! cargo fuzz --version >/dev/null 2>&1; then
  if [[ ! -x target/tools/bin/cargo-fuzz ]]; then
    step "cargo install cargo-fuzz 0.13.2 (into target/tools)"
    cargo install cargo-fuzz --version 0.13.2 --locked --root target/tools --quiet
  fi
  export PATH="$PWD/target/tools/bin:$PATH"
fi

step "fuzzing, a short run of each target (BURGEE_FUZZ_SECONDS each, default 10)"
fuzz/run.sh "${BURGEE_FUZZ_SECONDS:-10}"

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

if [[ "${BURGEE_LONG:-0}" == "1" ]]; then
  step "benchmarks (long variant)"
  bench/engine.sh
fi

step "all checks passed"
