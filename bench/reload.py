#!/usr/bin/env python3
"""How soon a saved flags file is served: the time from the rename (or the
in-place write) to the first request that sees the new value, measured against
the real release sidecar on loopback.

    bench/reload.py [--rounds 50] [--binary target/release/burgee-sidecar]

Target: every change served within 200 ms of the rename.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def flags(version):
    return json.dumps({
        "version": 1,
        "environments": ["production"],
        "flags": {"banner": {"variants": {"text": f"v{version}"}, "off": "text",
                             "environments": {"production": {"enabled": True, "default": {"variant": "text"}}}}},
    }, indent=2) + "\n"


def get(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.load(r)["value"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--binary", default="target/release/burgee-sidecar")
    a = p.parse_args()
    work = tempfile.mkdtemp()
    path = os.path.join(work, "flags.json")
    with open(path, "w") as f:
        f.write(flags(0))
    proc = subprocess.Popen([a.binary, "serve", "--file", path, "--listen", "127.0.0.1:0", "--log-level", "warn"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        base = line.strip().rsplit(" ", 1)[-1]
        url = f"{base}/v1/flags/banner"
        results = {}
        version = 0
        for how in ("rename", "in-place write"):
            times = []
            for _ in range(a.rounds):
                version += 1
                text = flags(version)
                if how == "rename":
                    tmp = path + ".tmp"
                    with open(tmp, "w") as f:
                        f.write(text)
                    start = time.monotonic()
                    os.rename(tmp, path)
                else:
                    start = time.monotonic()
                    with open(path, "w") as f:
                        f.write(text)
                while get(url) != f"v{version}":
                    if time.monotonic() - start > 5:
                        sys.exit(f"version {version} not served after 5 s")
                    time.sleep(0.001)
                times.append((time.monotonic() - start) * 1000)
                time.sleep(0.1)  # let the next change be a separate burst
            results[how] = times
        print(f"change → served, {a.rounds} rounds each (ms):")
        for how, t in results.items():
            t.sort()
            print(f"  {how:15} median {statistics.median(t):6.1f}   p95 {t[int(len(t) * 0.95) - 1]:6.1f}   max {t[-1]:6.1f}")
        worst = max(max(t) for t in results.values())
        print(f"target: within 200 ms — {'met' if worst < 200 else 'MISSED'} (worst {worst:.1f} ms)")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
