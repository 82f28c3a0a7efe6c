#!/usr/bin/env bash
# The engine against a peer's: one flag of five rules over the same 1,000
# contexts in burgee-rules and in Unleash's engine (unleash-yggdrasil),
# bench/yggdrasil/benches/yggdrasil.rs. Runs ROUNDS rounds (default 5), each
# measuring both engines with criterion, burgee-rules first in odd rounds and
# Unleash's engine first in even ones, so the two alternate through the
# machine's slow and fast moments; prints each round's
# medians and ratio, and the median ratio. The target is >= 3x.
#
#   bench/yggdrasil.sh            (about two minutes, after the first build)
#   ROUNDS=9 bench/yggdrasil.sh
#
# The benchmark is a crate of its own outside the workspace, so Unleash's
# engine is a dependency of this benchmark only.
set -euo pipefail
cd "$(dirname "$0")/yggdrasil"
rounds=${ROUNDS:-5}
cargo bench --bench yggdrasil --no-run
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
    order="burgee-rules unleash-yggdrasil"
    if ((round % 2 == 0)); then order="unleash-yggdrasil burgee-rules"; fi
    for name in $order; do
        marker=$(mktemp)
        cargo bench --bench yggdrasil -- --noplot --warm-up-time 2 --measurement-time 4 \
            "five_rules_1000_contexts/$name\$" >/dev/null
        python3 - target/criterion "$name" "$marker" "$round" >>"$results" <<'PY'
import json, os, sys
from pathlib import Path
root, name, marker, round_ = Path(sys.argv[1]), sys.argv[2], os.path.getmtime(sys.argv[3]), sys.argv[4]
estimates = root / "five_rules_1000_contexts" / name / "new" / "estimates.json"
if estimates.stat().st_mtime < marker:
    sys.exit(f"{name} was not measured in round {round_}")
print(round_, name, json.loads(estimates.read_text())["median"]["point_estimate"] / 1000)  # per context
PY
        rm -f "$marker"
    done
done
python3 - "$results" <<'PY'
import statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    r, name, ns = line.split()
    rounds.setdefault(r, {})[name] = float(ns)
print()
print("one flag of five rules, median per evaluation over 1,000 contexts:")
print("  round  burgee-rules  unleash-yggdrasil  ratio")
ratios = []
for r, m in rounds.items():
    ratio = m["unleash-yggdrasil"] / m["burgee-rules"]
    ratios.append(ratio)
    print(f"  {r:>5}  {m['burgee-rules']:9.1f} ns  {m['unleash-yggdrasil']:14.1f} ns  {ratio:5.2f}x")
ours = statistics.median(m["burgee-rules"] for m in rounds.values())
theirs = statistics.median(m["unleash-yggdrasil"] for m in rounds.values())
print(f"  median {ours:8.1f} ns  {theirs:14.1f} ns  {statistics.median(ratios):5.2f}x (median of the rounds' ratios; target >= 3x)")
PY
