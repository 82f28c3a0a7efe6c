#!/usr/bin/env bash
# Run every fuzz target for a short while: fuzz/run.sh [SECONDS] [TARGET...]
#
#   SECONDS  per target, default 20 (libFuzzer's -max_total_time)
#   TARGET   some of: parse_validate_compile mutated_valid evaluate context_json
#            ofrep_handler (default: all five)
#
# Skipped (exit 0) when `cargo fuzz` is not installed (`cargo install cargo-fuzz`).
# Exit 1 on a crash, a timeout or an out-of-memory, with the artifact's path;
# reproduce with `cargo fuzz run TARGET ARTIFACT` from fuzz/ (RUSTC_BOOTSTRAP=1
# on a stable toolchain). New corpus entries go to fuzz/corpus/TARGET
# (gitignored); the committed seeds are in fuzz/seeds/ (see seeds.py).
set -uo pipefail

cd "$(dirname "$0")"
duration="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parse_validate_compile mutated_valid evaluate context_json ofrep_handler)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: skipped: cargo fuzz is not installed (cargo install cargo-fuzz)"
    exit 0
fi

# cargo fuzz passes nightly-only flags (-Zsanitizer=...); a stable toolchain
# accepts them with RUSTC_BOOTSTRAP=1.
if ! rustc -V | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

echo "fuzz: building the targets ($(cargo fuzz --version), $(rustc -V))"
cargo fuzz build || { echo "fuzz: FAILED to build the fuzz targets"; exit 1; }

status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    dirs=("corpus/$target")
    [ -d "seeds/$target" ] && dirs+=("seeds/$target")
    [ "$target" = context_json ] && dirs+=("seeds/evaluate")
    # json.dict: JSON tokens and the file's field names, for every target.
    flags=(-max_total_time="$duration" -timeout=25 -rss_limit_mb=2048 -dict=json.dict -print_final_stats=1)
    # One request, one evaluation: no single allocation of more than 16 MiB
    # (the body limit is 1 MiB; the server bounds what a request may cost).
    case "$target" in ofrep_handler | evaluate | context_json) flags+=(-malloc_limit_mb=16) ;; esac
    log="target/fuzz-$target.log"
    echo "fuzz: $target for ${duration}s"
    if cargo fuzz run "$target" "${dirs[@]}" -- "${flags[@]}" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
        echo "fuzz: $target ok: ${runs:-?} runs, ${speed:-?} exec/s"
    else
        status=1
        echo "fuzz: $target FAILED (full log: fuzz/$log)"
        grep -E -A1 'panicked at' "$log" | head -n 4
        grep -E '^Error|ERROR: libFuzzer|SUMMARY' "$log" | head -n 3
        artifact=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -n 1 | sed 's/Test unit written to //')
        if [ -n "$artifact" ]; then
            case "$artifact" in /*) ;; *) artifact="$PWD/${artifact#./}" ;; esac
            echo "fuzz: artifact: $artifact"
            echo "fuzz: reproduce: (cd $PWD && RUSTC_BOOTSTRAP=1 cargo fuzz run $target $artifact)"
        fi
    fi
done
exit $status
