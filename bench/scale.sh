#!/usr/bin/env bash
# Scale figures: a generated file of 10,000 flags, 1,000 segments and 100,000
# individual targets (bench/generate.py). Prints load + validate + compile
# time and all-flags evaluation time for one context (criterion,
# shared/benches/scale.rs), the release sidecar's resident memory serving the
# file (VmRSS after the load and IDLE_SECONDS, default 30, of idle: jemalloc's
# background thread hands the parse's freed pages back between about 10 and
# 25 s after the load, as in bench/memory.sh; and VmHWM, the peak while
# loading), and the time from a rename to the new version being served by
# the release sidecar, with every request during the reload answered.
# Then the editor on that file (editor/benches/big_file.rs): opening it, a
# frame, a keystroke in the search, selecting a flag, a keystroke in a flag's
# description until the preview is updated, the segments page.
# Targets: load under 500 ms, evaluation under 5 ms, editor interactions
# well under 50 ms.
#
#   bench/scale.sh    (the binary is looked for in ${CARGO_TARGET_DIR:-target})
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 bench/generate.py --flags 10000 --segments 1000 --targets 100000 > "$work/big.json"
echo "generated: $(du -h "$work/big.json" | cut -f1), 10,000 flags, 1,000 segments, 100,000 targets"

BURGEE_SCALE_FILE="$work/big.json" cargo bench -q -p burgee-rules --bench scale 2>&1 | grep -E "^scale/|time:" || true
# The editor on the same file, driven through its UI (editor/benches/big_file.rs).
BURGEE_SCALE_FILE="$work/big.json" cargo bench -q -p burgee-editor --bench big_file 2>&1 |
  grep -E "^editor_big_file/|time:" || true

cargo build --release -q -p burgee-sidecar --bin burgee-sidecar
python3 - "$work/big.json" "${CARGO_TARGET_DIR:-target}/release/burgee-sidecar" "${IDLE_SECONDS:-30}" <<'PY'
import json, os, subprocess, sys, threading, time, urllib.request
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
    time.sleep(idle)
    print(f"resident memory serving the big file: {memory_mib('VmRSS'):.1f} MiB idle ({idle:.0f} s after the load), "
          f"{memory_mib('VmHWM'):.1f} MiB peak while loading")
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
    times = []
    for round in range(5):
        before = status()["version"]
        doc["flags"]["flag-00000"]["description"] = f"round {round}"
        tmp = path + ".tmp"
        with open(tmp, "w") as f: json.dump(doc, f, indent=2)
        start = time.monotonic()
        os.rename(tmp, path)
        while status()["version"] == before:
            time.sleep(0.005)
        times.append((time.monotonic() - start) * 1000)
    stop.set()
    for t in threads: t.join()
    times.sort()
    print(f"reload of the big file, rename to served: median {times[len(times)//2]:.0f} ms, max {times[-1]:.0f} ms "
          f"(5 rounds); {requests[0]} requests meanwhile, {failures[0]} failed; "
          f"peak resident memory {memory_mib('VmHWM'):.1f} MiB")
finally:
    proc.terminate(); proc.wait()
PY
