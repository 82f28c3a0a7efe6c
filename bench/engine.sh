#!/usr/bin/env bash
# Benchmarks of the evaluation engine (burgee-rules, shared/benches/evaluate.rs)
# and a table of their medians.
#
#   bench/engine.sh                  run every engine benchmark (about 45 s)
#   bench/engine.sh evaluate/        extra arguments go to criterion (here: a filter)
#   BURGEE_BENCH_STRICT=1 bench/engine.sh   exit 1 when a benchmark misses its target
#
# Targets (from the engine's brief): one flag with five rules < 1 µs, all 100
# flags of a realistic file < 50 µs. The machine's load shows in the figures:
# run it twice when they look noisy.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT

cargo bench -p burgee-rules --bench evaluate -- "$@"

python3 - "$target_dir/criterion" "$marker" <<'EOF'
import json, os, sys
from pathlib import Path

root, marker = Path(sys.argv[1]), os.path.getmtime(sys.argv[2])
# Upper bounds in nanoseconds, by benchmark id prefix.
targets = {"evaluate/one_flag_five_rules": 1_000, "evaluate/all_100_flags": 50_000}

def human(ns):
    unit, scale = next(((u, s) for u, s in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)) if ns >= s), ("ns", 1))
    value = ns / scale
    return f"{value:.{0 if value >= 100 else 1 if value >= 10 else 2}f} {unit}"  # 3 significant digits

rows = []
for estimates in sorted(root.glob("**/new/estimates.json")):
    if estimates.stat().st_mtime < marker:
        continue  # left over from an earlier run, not measured now
    bench = json.loads((estimates.parent / "benchmark.json").read_text())
    median = json.loads(estimates.read_text())["median"]
    low, high = (median["confidence_interval"][k] for k in ("lower_bound", "upper_bound"))
    target = next((t for prefix, t in targets.items() if bench["full_id"].startswith(prefix)), None)
    verdict = "" if target is None else ("ok" if median["point_estimate"] < target else "OVER")
    rows.append((bench["full_id"], human(median["point_estimate"]), f"{human(low)} – {human(high)}",
                 "" if target is None else f"< {human(target)} {verdict}"))

if not rows:
    sys.exit("no benchmark ran (check the filter)")
headers = ("benchmark", "median", "95% CI of median", "target")
widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers))]
print()
for row in [headers, tuple("-" * w for w in widths)] + rows:
    print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
if os.environ.get("BURGEE_BENCH_STRICT") == "1" and any(r[3].endswith("OVER") for r in rows):
    sys.exit("a benchmark is over its target")
EOF
