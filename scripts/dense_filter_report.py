#!/usr/bin/env python3
"""The dense-material rule's figures from `xraylift predict` outputs (docs/BENCHMARKS.md "Dense-material filter").

Reads PRED.dense_filter.json (the estimates of every prediction and of every truth box) and prints: the
distribution of the estimates at true-positive predictions (centre strictly within a non-ignore truth's radius, the
LUNA16 hit), at the truth centres (by texture), at the given sites (predictions within --site-mm of them), and how many
predictions a bound would remove, of which how many true positives.
  dense_filter_report.py PRED.dense_filter.json [--bound 1500] [--site x,y,z ...] [--site-mm 15]
"""
import argparse
import json
import math


def stats(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return "none"
    q = lambda f: v[min(len(v) - 1, int(round(f * (len(v) - 1))))]
    return f"n {len(v)}: min {v[0]:.0f}, p5 {q(0.05):.0f}, median {q(0.5):.0f}, p95 {q(0.95):.0f}, max {v[-1]:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--bound", type=float, default=None)
    ap.add_argument("--site", action="append", default=[])
    ap.add_argument("--site-mm", type=float, default=15)
    a = ap.parse_args()
    doc = json.load(open(a.report))
    bound = a.bound if a.bound is not None else doc["max_excess_hu"]
    sites = [tuple(float(x) for x in s.split(",")) for s in a.site]
    tp, fp, site_est, truth_by_texture, none_est = [], [], [], {}, 0
    removed = removed_tp = removed_site = predictions = 0
    site_top = 0
    for case in doc["cases"]:
        if "estimates" not in case:
            continue
        truths = [t for t in case["truth_estimates"] if not t["ignore"]]
        for t in truths:
            truth_by_texture.setdefault(t["texture"] or "?", []).append(t["excess_hu"])
        for rank, e in enumerate(case["estimates"]):
            predictions += 1
            c = e["center_mm"]
            hit = any(math.dist(c, t["center_mm"]) < t["diameter_mm"] / 2 for t in truths)
            at_site = any(math.dist(c, s) < a.site_mm for s in sites)
            x = e["excess_hu"]
            if x is None:
                none_est += 1
            (tp if hit else fp).append(x)
            if at_site:
                site_est.append(x)
                site_top += rank == 0
            if x is not None and e["views"] >= doc["min_views"] and x > bound:
                removed += 1
                removed_tp += hit
                removed_site += at_site
    print(f"{a.report}: {predictions} predictions, {none_est} without an estimate")
    print(f"  true-positive predictions: {stats(tp)}")
    print(f"  other predictions:         {stats(fp)}")
    for k, v in sorted(truth_by_texture.items()):
        print(f"  truth centres ({k}): {stats(v)}")
    print(f"  truth centres (all):   {stats([x for v in truth_by_texture.values() for x in v])}")
    if sites:
        print(f"  predictions within {a.site_mm:g} mm of the sites: {stats(site_est)}; the top prediction of {site_top} case(s)")
    print(f"  bound {bound:g}: removes {removed} ({removed_tp} true positives, {removed_site} at the sites)")


if __name__ == "__main__":
    main()
