#!/usr/bin/env python3
"""Generate a big, valid Burgee flags file for scale benchmarks.

    bench/generate.py --flags 10000 --segments 1000 [--targets 100000] [--shape heavy] > big.json

Deterministic (seeded): the same arguments give the same file. Flags mix every
kind: booleans with rollouts, multivariate splits, segment rules, attribute
rules, prerequisites and individual targets, in three environments, with 0 to
4 rules per environment (1 on average; 40% have none) and 1 to 3 conditions
per segment.

`--shape heavy` makes the kind of file a large project grows into:
segments with 3 to 6 attribute conditions in nested groups and longer key
lists, rules with 2 or 3 conditions (0 to 4 rules per environment, 1.7 on
average), individual targets in long lists on a tenth of the flags, written
without indentation (about 20 MB for 10,000 flags, 1,000 segments and
100,000 targets).
"""
import argparse
import json
import random
import sys

ENVS = ["development", "staging", "production"]
PLANS = ["free", "team", "business", "enterprise"]
COUNTRIES = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "ES", "IT"]


def leaf(rng, segment_keys):
    kind = rng.randrange(6)
    if kind == 0:
        return {"attribute": "company.plan", "op": "in", "values": rng.sample(PLANS, 2)}
    if kind == 1:
        return {"attribute": "email", "op": "ends_with", "values": ["@example.com", "@example.org"]}
    if kind == 2:
        return {"attribute": "app.version", "op": "semver_gte", "values": [f"{rng.randrange(1, 6)}.{rng.randrange(10)}.0"]}
    if kind == 3:
        return {"attribute": "country", "op": "in", "values": rng.sample(COUNTRIES, 3)}
    if kind == 4 and segment_keys:
        return {"segment": rng.choice(segment_keys)}
    return {"attribute": "company.seats", "op": "gte", "values": [rng.randrange(10, 1000)]}


def flag_variants(rng, i):
    """Flag i's kind (0 boolean, 1 string, 2 number, 3 object) and variants."""
    kind = i % 4
    if kind == 0:
        return kind, {"on": True, "off": False}
    if kind == 1:
        return kind, {f"v{j}": f"variant-{j}" for j in range(rng.randrange(2, 5))}
    if kind == 2:
        return kind, {"low": 10, "mid": 50.5, "high": 100}
    return kind, {"a": {"layout": "grid", "size": 1}, "b": {"layout": "list", "size": 2}}


def rule_serve(rng, names):
    """A rule's serve: a variant, or a split (bucketed by company for some)."""
    if rng.random() < 0.5:
        return {"variant": rng.choice(names)}
    serve = {"rollout": split(rng, names)}
    if rng.random() < 0.3:
        serve["bucket_by"] = "company.id"
    return serve


def settings(rng, i):
    """An environment's settings of flag i before targets and rules: enabled
    for most, a prerequisite on an earlier boolean flag for a few."""
    fe = {"enabled": rng.random() > 0.1}
    if i > 10 and rng.random() < 0.05:
        fe["prerequisites"] = [{"flag": f"flag-{rng.randrange(0, i - (i % 4)) // 4 * 4:05d}", "variants": ["on"]}]
    return fe


def split(rng, variants):
    # Integer weights in thousandths that add up to exactly 100.000.
    cuts = sorted(rng.sample(range(1, 100000), len(variants) - 1))
    bounds = [0] + cuts + [100000]
    return [{"variant": v, "weight": (bounds[i + 1] - bounds[i]) / 1000} for i, v in enumerate(variants)]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flags", type=int, default=10000)
    p.add_argument("--segments", type=int, default=1000)
    p.add_argument("--targets", type=int, default=0, help="individual targets in total, spread over flags")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--shape", choices=["mixed", "heavy"], default="mixed")
    a = p.parse_args()
    rng = random.Random(a.seed)
    if a.shape == "heavy":
        doc = heavy(rng, a.flags, a.segments, a.targets)
        json.dump(doc, sys.stdout, ensure_ascii=False, separators=(",", ":"))
        sys.stdout.write("\n")
        return

    segments = {}
    for i in range(a.segments):
        key = f"segment-{i:04d}"
        seg = {
            "description": f"Generated segment {i}",
            "included": [f"user-{rng.randrange(1_000_000)}" for _ in range(rng.randrange(0, 20))],
            "match": {"any": [leaf(rng, []) for _ in range(rng.randrange(1, 4))]},
        }
        if i % 7 == 0:
            seg["excluded"] = [f"user-{rng.randrange(1_000_000)}" for _ in range(3)]
        segments[key] = seg
    segment_keys = list(segments)

    targets_per_flag = a.targets // a.flags if a.flags else 0
    extra_targets = a.targets - targets_per_flag * a.flags
    flags = {}
    for i in range(a.flags):
        key = f"flag-{i:05d}"
        kind, variants = flag_variants(rng, i)
        names = list(variants)
        environments = {}
        for env in ENVS:
            rules = []
            # Most flags have little targeting; a few have a lot (0 to 4 rules, 1 on average).
            for r in range(rng.choice([0, 0, 0, 0, 1, 1, 1, 2, 3, 4])):
                rule = {"id": f"rule-{r}"}
                if rng.random() < 0.4:
                    rule["segment"] = rng.choice(segment_keys)
                if "segment" not in rule or rng.random() < 0.3:
                    rule["match"] = {"all": [leaf(rng, segment_keys) for _ in range(rng.randrange(1, 3))]}
                rule["serve"] = rule_serve(rng, names)
                rules.append(rule)
            fe = settings(rng, i)
            n_targets = targets_per_flag + (1 if i < extra_targets else 0)
            if env == "production" and n_targets:
                fe["targets"] = {names[0]: [f"target-{i}-{t}" for t in range(n_targets)]}
            if rules:
                fe["rules"] = rules
            fe["default"] = {"rollout": split(rng, names)} if rng.random() < 0.5 else {"variant": names[-1]}
            environments[env] = fe
        flags[key] = {
            "description": f"Generated flag {i} ({['boolean', 'string', 'number', 'object'][kind]})",
            "stage": rng.choice(["in-development", "internal", "beta", "ga"]),
            "variants": variants,
            "off": names[-1],
            "environments": environments,
        }
    doc = {"version": 1, "environments": ENVS, "segments": segments, "flags": flags}
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def heavy(rng, n_flags, n_segments, n_targets):
    """The `--shape heavy` file (see the module docs)."""
    segments = {}
    for i in range(n_segments):
        conditions = [leaf(rng, []) for _ in range(rng.randrange(3, 7))]
        cut = rng.randrange(1, len(conditions))
        seg = {
            "description": f"Generated segment {i}",
            "included": [f"user-{rng.randrange(1_000_000)}" for _ in range(rng.randrange(0, 60))],
            "excluded": [f"user-{rng.randrange(1_000_000)}" for _ in range(rng.randrange(0, 6))],
            "match": {"any": [{"all": conditions[:cut]}, {"any": conditions[cut:]}]},
        }
        segments[f"segment-{i:04d}"] = seg
    segment_keys = list(segments)
    targeted = max(1, n_flags // 10)
    per_flag = n_targets // targeted if n_targets else 0
    flags = {}
    for i in range(n_flags):
        kind, variants = flag_variants(rng, i)
        names = list(variants)
        environments = {}
        for env in ENVS:
            rules = []
            for r in range(rng.choice([0, 0, 1, 2, 3, 4])):
                rule = {"id": f"rule-{r}", "match": {"all": [leaf(rng, segment_keys) for _ in range(rng.randrange(2, 4))]}}
                if rng.random() < 0.3:
                    rule["segment"] = rng.choice(segment_keys)
                rule["serve"] = rule_serve(rng, names)
                rules.append(rule)
            fe = settings(rng, i)
            if env == "production" and i % 10 == 0 and per_flag:
                half = per_flag // 2
                fe["targets"] = {names[0]: [f"target-{i}-{t}" for t in range(half)],
                                 names[1]: [f"target-{i}-{t}" for t in range(half, per_flag)]}
            if rules:
                fe["rules"] = rules
            fe["default"] = {"rollout": split(rng, names)} if rng.random() < 0.5 else {"variant": names[-1]}
            environments[env] = fe
        flags[f"flag-{i:05d}"] = {
            "description": f"Generated flag {i} ({['boolean', 'string', 'number', 'object'][kind]})",
            "stage": rng.choice(["in-development", "internal", "beta", "ga"]),
            "variants": variants,
            "off": names[-1],
            "environments": environments,
        }
    return {"version": 1, "environments": ENVS, "segments": segments, "flags": flags}


if __name__ == "__main__":
    main()
