#!/usr/bin/env bash
# What one answer costs, measured the way a sidecar under a CPU limit pays
# it: the server pinned to one CPU, the load generator (wrk) to the other,
# the sidecar and a bare hyper server (sidecar/examples/bare_hyper.rs: same
# hyper, runtime, allocator and socket options, answering fixed bodies)
# alternating round by round (A B A B), medians and the ratio.
#
#   bench/ofrep.sh [ROUNDS] [SECONDS]      defaults: 3 rounds, 5 s per measure
#
# Each round measures, against each server in turn:
#   flag     POST /ofrep/v1/evaluate/flags/new-checkout, a six-attribute
#            context; in the benchmark's file (examples/flags.json with a
#            prerequisite and individual targets added to new-checkout in
#            production) that flag goes through a prerequisite, the targets
#            and two segment rules before its default rollout.
#   healthz  GET /healthz
#   bulk     POST /ofrep/v1/evaluate/flags (all 14 flags), the same context
# The bare server answers each path with the bytes the sidecar answered it,
# so both write the same bodies. Targets: flag >= 0.80x, healthz >= 0.90x.
# Needs wrk and taskset (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-5}
connections=32
server_cpu=0
load_cpu=1

if ! command -v wrk >/dev/null || ! command -v taskset >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk util-linux) >/dev/null
fi
cargo build --release -q -p burgee-sidecar --bin burgee-sidecar --example bare_hyper
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
# BURGEE_SIDECAR=path measures another build of the sidecar (say, an older one).
sidecar_bin="${BURGEE_SIDECAR:-$target_dir/release/burgee-sidecar}"
bare_bin="$target_dir/release/examples/bare_hyper"

work=$(mktemp -d)
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 - examples/flags.json "$work/flags.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
production = doc["flags"]["new-checkout"]["environments"]["production"]
production["prerequisites"] = [{"flag": "accept-payments", "variants": ["on"]}]
production["targets"] = {"on": [f"user-{i}" for i in range(100, 140)], "off": [f"user-{i}" for i in range(900, 920)]}
json.dump(doc, open(sys.argv[2], "w"), indent=2)
PY
context='{"context":{"targetingKey":"user-4711","email":"ana@corp.example.org","country":"DE","beta_opt_in":false,"app":{"version":"4.2.0"},"company":{"id":"acme","plan":"pro","seats":42}}}'
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$context'
LUA

# start CMD... : runs CMD pinned to the server CPU; sets $pid and $port (from
# the first stdout line naming http://127.0.0.1:PORT).
start() {
  taskset -c "$server_cpu" "$@" > "$work/out" 2>/dev/null &
  pid=$!
  for _ in $(seq 200); do
    port=$(sed -n 's#.*http://127.0.0.1:\([0-9]*\).*#\1#p' "$work/out" | head -1)
    [[ -n "$port" ]] && return 0
    sleep 0.05
  done
  echo "server did not start: $*" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# measure NAME PATH [wrk args]: requests/s, appended to $work/NAME.$server
measure() {
  local name=$1 path=$2; shift 2
  taskset -c "$load_cpu" wrk -t1 -c"$connections" -d"${duration}s" "$@" "http://127.0.0.1:$port$path" > "$work/wrk"
  local rate
  rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk")
  # Any non-2xx answer would make the figure meaningless.
  if grep -q "Non-2xx" "$work/wrk"; then echo "$server $name: non-2xx answers" >&2; cat "$work/wrk" >&2; exit 1; fi
  echo "$rate" >> "$work/$name.$server"
  printf '  round %d  %-8s %-8s %10.0f req/s\n' "$round" "$server" "$name" "$rate" >&2
}

# The sidecar's answers, which the bare server then writes byte for byte.
start "$sidecar_bin" serve --file "$work/flags.json" --listen 127.0.0.1:0 --environment production --log-level warn
base="http://127.0.0.1:$port"
curl -sf -X POST "$base/ofrep/v1/evaluate/flags/new-checkout" -d "$context" > "$work/flag.body"
curl -sf "$base/healthz" > "$work/healthz.body"
curl -sf -X POST "$base/ofrep/v1/evaluate/flags" -d "$context" > "$work/bulk.body"
stop
echo "flag answer: $(cat "$work/flag.body")" >&2
bodies=(/ofrep/v1/evaluate/flags/new-checkout="$work/flag.body" /healthz="$work/healthz.body" /ofrep/v1/evaluate/flags="$work/bulk.body")

for round in $(seq "$rounds"); do
  for server in bare sidecar; do
    if [[ $server == bare ]]; then
      start "$bare_bin" 127.0.0.1:0 "${bodies[@]}"
    else
      start "$sidecar_bin" serve --file "$work/flags.json" --listen 127.0.0.1:0 --environment production --log-level warn
    fi
    # A second of warm-up (connections, allocator, caches) not counted.
    taskset -c "$load_cpu" wrk -t1 -c"$connections" -d1s -s "$work/post.lua" "http://127.0.0.1:$port/ofrep/v1/evaluate/flags/new-checkout" > /dev/null
    measure flag /ofrep/v1/evaluate/flags/new-checkout -s "$work/post.lua"
    measure healthz /healthz
    measure bulk /ofrep/v1/evaluate/flags -s "$work/post.lua"
    stop
  done
done

python3 - "$work" "$rounds" "$duration" "$connections" <<'PY'
import statistics, sys
work, rounds, duration, connections = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
targets = {"flag": 0.80, "healthz": 0.90, "bulk": None}
labels = {"flag": "single flag (new-checkout)", "healthz": "GET /healthz", "bulk": "bulk, all 14 flags"}
print()
print(f"pinned: server on CPU 0, wrk -t1 -c{connections} -d{duration}s on CPU 1; "
      f"{rounds} rounds, bare and sidecar alternating; medians")
print(f"{'what':<28} {'bare hyper':>12} {'burgee-sidecar':>15} {'ratio':>7}  target")
for name, target in targets.items():
    read = lambda server: [float(x) for x in open(f"{work}/{name}.{server}").read().split()]
    bare, sidecar = statistics.median(read("bare")), statistics.median(read("sidecar"))
    ratio = sidecar / bare
    verdict = "" if target is None else f">= {target:.2f}x {'ok' if ratio >= target else 'MISSED'}"
    print(f"{labels[name]:<28} {bare:>12,.0f} {sidecar:>15,.0f} {ratio:>6.2f}x  {verdict}")
PY
