#!/usr/bin/env bash
# The engine against a peer's: one flag of five rules over the same 1,000
# contexts in burgee-rules and in Unleash's engine (unleash-yggdrasil),
# bench/yggdrasil/benches/yggdrasil.rs. Prints both medians per evaluation
# and the ratio; the target is burgee-rules >= 3x as fast.
#
#   bench/yggdrasil.sh            (about a minute, after the first build)
#
# The benchmark is a crate of its own outside the workspace, so Unleash's
# engine is a dependency of this benchmark only.
set -euo pipefail
cd "$(dirname "$0")/yggdrasil"
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT
cargo bench --bench yggdrasil -- --noplot "$@"
python3 - target/criterion "$marker" <<'PY'
import json, os, sys
from pathlib import Path
root, marker = Path(sys.argv[1]), os.path.getmtime(sys.argv[2])
medians = {}
for name in ("burgee-rules", "unleash-yggdrasil"):
    estimates = root / "five_rules_1000_contexts" / name / "new" / "estimates.json"
    if estimates.stat().st_mtime < marker:
        sys.exit(f"{name} was not measured in this run")
    medians[name] = json.loads(estimates.read_text())["median"]["point_estimate"] / 1000  # per context
ours, theirs = medians["burgee-rules"], medians["unleash-yggdrasil"]
print()
print("one flag of five rules, median per evaluation over 1,000 contexts:")
print(f"  burgee-rules       {ours:8.1f} ns")
print(f"  unleash-yggdrasil  {theirs:8.1f} ns")
print(f"  burgee-rules is {theirs / ours:.2f}x as fast (target >= 3x)")
PY
