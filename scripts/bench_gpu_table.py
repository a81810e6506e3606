#!/usr/bin/env python3
"""Prints the GPU benchmark table of scripts/bench_gpu.sh from the JSON files in RESULTS_DIR.

usage: bench_gpu_table.py RESULTS_DIR
Reads bench_drr_gpu.json and bench_detect2d.json (Google Benchmark --benchmark_out), torchvision.json
(scripts/bench_torchvision_ops.py) and predict.json (the bench_predict hook). A figure that is missing prints as
"pending" (e.g. in a dry run), a skipped benchmark prints its reason. Standard library only.
"""
import json
import os
import re
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def gbench(path):
    """name -> (ms or None, note) from a Google Benchmark JSON file."""
    data = load(path)
    out = {}
    if not data:
        return out
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    for b in data.get("benchmarks", []):
        # Drop Google Benchmark's suffixes: drr_gpu/siddon/resident/1024/manual_time -> drr_gpu/siddon/resident/1024
        name = re.sub(r"(/(manual_time|real_time|iterations:\d+|min_time:[0-9.]+s?))+$", "",
                      b.get("run_name", b.get("name", "")))
        if b.get("error_occurred") or b.get("skipped"):
            out[name] = (None, b.get("error_message") or b.get("skip_message") or "skipped")
            continue
        if b.get("aggregate_name") not in (None, "", "median", "mean"):
            continue
        out[name] = (b["real_time"] * scale.get(b.get("time_unit", "ns"), 1e-6), b.get("label", ""))
    return out


def cell(entry):
    if entry is None:
        return "pending"
    ms, note = entry
    return f"{ms:.3f}" if ms is not None else f"skipped ({note})"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    drr = gbench(os.path.join(d, "bench_drr_gpu.json"))
    det = gbench(os.path.join(d, "bench_detect2d.json"))
    tv = load(os.path.join(d, "torchvision.json"))
    pred = load(os.path.join(d, "predict.json"))
    rows = []
    for integ in ("siddon", "trilinear", "trilinear_step1", "trilinear_half"):
        for mode in ("resident", "per_call"):
            for px in (1024, 256):
                name = f"drr_gpu/{integ}/{mode}/{px}"
                if integ not in ("siddon", "trilinear") and mode == "per_call":
                    continue
                note = "target <= 10 ms on an H100" if (px == 1024 and mode == "resident") else ""
                rows.append((f"DRR {integ}, {mode}, 10 x {px}^2", cell(drr.get(name)), "", note))
    if tv is None:
        tv_note = "pending"
    elif "skipped" in tv:
        tv_note = f"skipped ({tv['skipped']})"
    else:
        tv_note = None
    for op, sizes in (("roi_align_forward", (512, 2048)), ("roi_align_backward", (512, 2048)), ("nms", (1000, 4000))):
        for n in sizes:
            name = f"{op}/cuda/{n}"
            theirs = tv_note if tv_note else (f"{tv[name]:.3f}" if name in tv else "pending")
            rows.append((f"{op} ({'RoIs' if op != 'nms' else 'boxes'} {n})", cell(det.get(name)), theirs, ""))
    for dtype in ("bf16", "fp32"):
        rows.append((f"ResNet-50 FPN training step, 10 x 1024^2, {dtype}",
                     cell(det.get(f"train_step_resnet50/{dtype}")), "", "warm-up excluded"))
    if pred is None:
        rows.append(("3D inference per case (xraylift predict)", "pending", "", ""))
    elif "skipped" in pred:
        rows.append(("3D inference per case (xraylift predict)", f"skipped ({pred['skipped']})", "", ""))
    else:
        for method, ms in sorted(pred.get("ms_per_case", {}).items()):
            rows.append((f"3D inference per case (xraylift predict, {method})",
                         "failed" if ms is None else f"{ms:.1f}", "", f"{pred.get('cases', '?')} cases"))
    head = ("benchmark", "xraylift ms", "torchvision ms", "note")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
