#!/usr/bin/env bash
# Scale figures, on two generated files (bench/generate.py):
#
#   heavy  --shape heavy: 10,000 flags, 1,000 segments with 3 to 6 attribute
#          conditions, 100,000 individual targets in long lists, rules of 2
#          or 3 conditions (about 20 MB, no indentation)
#   mixed  the default shape: the same counts, fewer conditions, indented
#          (about 35 MB); the editor is measured on this one
#
# On the heavy file, with the release binary:
#   - `burgee-sidecar check`: wall time and peak memory, median of 5 runs
#   - the bulk answer (every flag for one context): server time of the
#     request handler without a socket (criterion, sidecar/benches/handler.rs),
#     and the whole request through the real server (median of 20)
#   - the same bulk answer on a 100-flag file of the same shape
#   - the sidecar's resident memory IDLE_SECONDS (default 20) after the
#     load, its peak while loading, and a reload's peak (old and new both
#     held), with the time from a rename to the new version being served
#     and every request during the reloads answered
# On the mixed file: criterion load and all-flags evaluation
# (shared/benches/scale.rs) and the editor (editor/benches/big_file.rs).
#
# Targets: check < 500 ms; bulk of 10,000 flags < 10 ms and of 100 flags
# < 100 µs of server time; resident < 60 MiB; a reload's peak < 3x resident.
#
#   bench/scale.sh             everything (about 8 minutes)
#   bench/scale.sh --no-editor without the editor's figures
set -euo pipefail
cd "$(dirname "$0")/.."
editor=1
[[ "${1:-}" == "--no-editor" ]] && editor=0
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 bench/generate.py --flags 10000 --segments 1000 --targets 100000 --shape heavy > "$work/heavy.json"
python3 bench/generate.py --flags 100 --segments 20 --targets 1000 --shape heavy > "$work/heavy-100.json"
echo "heavy: $(du -h "$work/heavy.json" | cut -f1); 100-flag heavy: $(du -h "$work/heavy-100.json" | cut -f1)"

cargo build --release -q -p burgee-sidecar --bin burgee-sidecar
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/release/burgee-sidecar"

python3 - "$binary" "$work/heavy.json" <<'PY'
import os, statistics, subprocess, sys, time
binary, path = sys.argv[1], sys.argv[2]
walls, peaks = [], []
for _ in range(5):
    start = time.monotonic()
    proc = subprocess.Popen([binary, "check", path], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    walls.append(time.monotonic() - start)
    peaks.append(usage.ru_maxrss / 1024)
    assert os.waitstatus_to_exitcode(status) == 0, "check failed"
print(f"check of the heavy file: median {statistics.median(walls) * 1000:.0f} ms wall "
      f"(runs: {', '.join(f'{w * 1000:.0f}' for w in sorted(walls))} ms), peak {statistics.median(peaks):.0f} MiB")
PY

BURGEE_BULK_FILES="$work/heavy.json,$work/heavy-100.json" cargo bench -q -p burgee-sidecar --bench handler -- --noplot bulk_file 2>&1 |
  grep -E "^handler/bulk_file|time:" || true

python3 - "$work/heavy.json" "$binary" "${IDLE_SECONDS:-20}" <<'PY'
import json, os, statistics, subprocess, sys, threading, time, urllib.request
path, binary, idle = sys.argv[1], sys.argv[2], float(sys.argv[3])
proc = subprocess.Popen([binary, "serve", "--file", path, "--listen", "127.0.0.1:0",
                         "--environment", "production", "--log-level", "error"], stdout=subprocess.PIPE, text=True)
def memory_mib(field):
    with open(f"/proc/{proc.pid}/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
    return kib / 1024
try:
    # The file is loaded before the address is printed.
    base = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    def status():
        with urllib.request.urlopen(base + "/v1/status", timeout=5) as r:
            return json.load(r)
    status()
    loading_peak = memory_mib("VmHWM")
    time.sleep(idle)
    resident = memory_mib("VmRSS")
    print(f"sidecar on the heavy file: {resident:.1f} MiB resident {idle:.0f} s after the load, "
          f"{loading_peak:.1f} MiB peak while loading")
    context = json.dumps({"context": {"targetingKey": "user-4711", "email": "ana@corp.example.org", "country": "DE",
                                      "app": {"version": "4.2.0"}, "company": {"id": "acme", "plan": "pro", "seats": 42}}}).encode()
    times, size = [], 0
    for _ in range(20):
        start = time.monotonic()
        req = urllib.request.Request(base + "/ofrep/v1/evaluate/flags", data=context, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            size = len(r.read())
        times.append((time.monotonic() - start) * 1000)
    print(f"bulk answer through the server (10,000 flags, {size / 1024:.0f} KiB): median {statistics.median(times):.1f} ms "
          f"per request from Python's urllib (20 requests)")
    doc = json.load(open(path))
    failures, requests, stop = [0], [0], threading.Event()
    def load():
        body = json.dumps({"context": {"targetingKey": "user-1"}}).encode()
        while not stop.is_set():
            try:
                req = urllib.request.Request(base + "/ofrep/v1/evaluate/flags/flag-00000", data=body, method="POST")
                with urllib.request.urlopen(req, timeout=5) as r:
                    r.read()
                requests[0] += 1
            except Exception:
                failures[0] += 1
    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads: t.start()
    reloads = []
    for round in range(5):
        before = status()["version"]
        doc["flags"]["flag-00000"]["description"] = f"round {round}"
        tmp = path + ".tmp"
        with open(tmp, "w") as f: json.dump(doc, f, separators=(",", ":"))
        start = time.monotonic()
        os.rename(tmp, path)
        while status()["version"] == before:
            time.sleep(0.005)
        reloads.append((time.monotonic() - start) * 1000)
    stop.set()
    for t in threads: t.join()
    reloads.sort()
    peak = memory_mib("VmHWM")
    print(f"reload of the heavy file, rename to served: median {reloads[len(reloads)//2]:.0f} ms, max {reloads[-1]:.0f} ms "
          f"(5 rounds); {requests[0]} requests meanwhile, {failures[0]} failed; "
          f"peak {peak:.1f} MiB = {peak / resident:.1f}x the resident memory (target < 3x)")
finally:
    proc.terminate(); proc.wait()
PY

if [[ $editor == 1 ]]; then
  python3 bench/generate.py --flags 10000 --segments 1000 --targets 100000 > "$work/mixed.json"
  echo "mixed: $(du -h "$work/mixed.json" | cut -f1)"
  BURGEE_SCALE_FILE="$work/mixed.json" cargo bench -q -p burgee-rules --bench scale 2>&1 | grep -E "^scale/|time:" || true
  # The editor on the same file, driven through its UI (editor/benches/big_file.rs).
  BURGEE_SCALE_FILE="$work/mixed.json" cargo bench -q -p burgee-editor --bench big_file 2>&1 |
    grep -E "^editor_big_file/|time:" || true
fi
