#!/usr/bin/env bash
# Throughput of single-flag OFREP requests against the sidecar, compared with
# a bare hyper server that returns a fixed body (sidecar/examples/bare_hyper.rs),
# both measured the same way: wrk, same connections, same duration, same body,
# loopback only, one after the other.
#
#   bench/ofrep.sh [DURATION_SECONDS] [CONNECTIONS]
#
# Needs wrk (installed with apt-get if missing). Prints requests/s for both and
# the ratio; the target is sidecar >= 70% of bare hyper.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release -q -p burgee-sidecar --bin burgee-sidecar --example bare_hyper

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"context":{"targetingKey":"user-4711","email":"ana@example.com","company":{"id":"acme","plan":"enterprise"}}}'
LUA

# start CMD... ; sets $port from the first stdout line "... http://127.0.0.1:PORT"
start() {
  "$@" > "$work/out" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 200); do
    port=$(sed -n 's#.*http://127.0.0.1:\([0-9]*\).*#\1#p' "$work/out" | head -1)
    [[ -n "$port" ]] && return 0
    sleep 0.05
  done
  echo "server did not start: $*" >&2; exit 1
}

measure() { # url
  wrk -t1 -c"$connections" -d"${duration}s" -s "$work/post.lua" "$1" | tee "$work/wrk" >&2
  awk '/Requests\/sec/ {print $2}' "$work/wrk"
}

start target/release/examples/bare_hyper 127.0.0.1:0
bare=$(measure "http://127.0.0.1:$port/ofrep/v1/evaluate/flags/new-checkout")
kill "${pids[-1]}"

start target/release/burgee-sidecar serve --file examples/flags.json --listen 127.0.0.1:0 --environment production --log-level warn
sidecar=$(measure "http://127.0.0.1:$port/ofrep/v1/evaluate/flags/new-checkout")

ratio=$(python3 -c "print(f'{$sidecar / $bare * 100:.0f}')")
echo
echo "single-flag OFREP, wrk -t1 -c$connections -d${duration}s, $(nproc) cores"
printf '  bare hyper (fixed body): %10.0f req/s\n' "$bare"
printf '  burgee-sidecar:          %10.0f req/s  (%s%% of bare hyper; target >= 70%%)\n' "$sidecar" "$ratio"
