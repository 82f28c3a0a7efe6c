#!/usr/bin/env bash
# Scale figures: a generated file of 10,000 flags, 1,000 segments and 100,000
# individual targets (bench/generate.py). Prints load + validate + compile
# time and all-flags evaluation time for one context (criterion,
# shared/benches/scale.rs), and the time from a rename to the new version
# being served by the release sidecar, with every request during the reload
# answered. Targets: load under 500 ms, evaluation under 5 ms.
#
#   bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 bench/generate.py --flags 10000 --segments 1000 --targets 100000 > "$work/big.json"
echo "generated: $(du -h "$work/big.json" | cut -f1), 10,000 flags, 1,000 segments, 100,000 targets"

BURGEE_SCALE_FILE="$work/big.json" cargo bench -q -p burgee-rules --bench scale 2>&1 | grep -E "^scale/|time:" || true

cargo build --release -q -p burgee-sidecar --bin burgee-sidecar
python3 - "$work/big.json" <<'PY'
import json, os, subprocess, sys, threading, time, urllib.request
path = sys.argv[1]
proc = subprocess.Popen(["target/release/burgee-sidecar", "serve", "--file", path, "--listen", "127.0.0.1:0",
                         "--environment", "production", "--log-level", "error"], stdout=subprocess.PIPE, text=True)
try:
    base = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    def status():
        with urllib.request.urlopen(base + "/v1/status", timeout=5) as r:
            return json.load(r)
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
          f"(5 rounds); {requests[0]} requests meanwhile, {failures[0]} failed")
finally:
    proc.terminate(); proc.wait()
PY
