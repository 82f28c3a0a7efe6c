#!/usr/bin/env bash
# Idle resident memory of the release sidecar: with examples/flags.json, and
# with a generated file of 10,000 flags and 1,000 segments (bench/generate.py).
# Targets: under 15 MiB and under 60 MiB.
#
#   bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p burgee-sidecar --bin burgee-sidecar
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 bench/generate.py --flags 10000 --segments 1000 > "$work/big.json"

measure() { # file label
  target/release/burgee-sidecar serve --file "$1" --listen 127.0.0.1:0 --log-level error > "$work/out" &
  local pid=$!
  for _ in $(seq 300); do grep -q listening "$work/out" && break; sleep 0.1; done
  local port; port=$(sed -n 's#.*127.0.0.1:\([0-9]*\).*#\1#p' "$work/out")
  # A little traffic, as in service, then idle: jemalloc hands the parse's
  # freed pages back over about 10 s after the load (decay), so wait 30 s.
  for _ in $(seq 20); do curl -s -o /dev/null -X POST "http://127.0.0.1:$port/ofrep/v1/evaluate/flags" -d '{"context":{"targetingKey":"u1"}}'; done
  sleep "${IDLE_SECONDS:-30}"
  local rss peak
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  awk -v l="$2" -v r="$rss" -v p="$peak" 'BEGIN { printf "  %-44s idle RSS %6.1f MiB   (peak while loading %6.1f MiB)\n", l, r / 1024, p / 1024 }'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "idle resident memory of burgee-sidecar serve (release build):"
measure examples/flags.json "examples/flags.json ($(du -h examples/flags.json | cut -f1))"
measure "$work/big.json" "10,000 flags, 1,000 segments ($(du -h "$work/big.json" | cut -f1))"
echo "targets: under 15 MiB and under 60 MiB"
