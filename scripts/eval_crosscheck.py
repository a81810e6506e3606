#!/usr/bin/env python3
"""Cross-checks `xraylift eval` / `xraylift eval2d` against the Python reference tools on random data.

Needs numpy, scikit-learn and pycocotools (not project dependencies):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install numpy scikit-learn pycocotools
    /tmp/ref/bin/python scripts/eval_crosscheck.py build/bin/xraylift
- LUNA16: the candidate/nodule logic of noduleCADEvaluationLUNA16.py, sklearn.metrics.roc_curve, numpy.interp;
  excluded findings without a size ("sized": false) get diameter 10 mm (its `if diameter < 0: diameter = 10`).
- nuScenes: the devkit's accumulate / calc_ap / calc_tp steps with centre distance in mm, ranking predictions
  in prediction-file order with `sorted((score, index))[::-1]` (tied scores: last in the file first).
- MMDetection3D: indoor_eval.eval_det_cls + average_precision(mode="area") for axis-aligned boxes.
- COCO: pycocotools COCOeval (bbox, one category, ignore truths as iscrowd=1).
Exits non-zero on any disagreement larger than 1e-9.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import sklearn.metrics as skl
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

RATES = [0.125, 0.25, 0.5, 1, 2, 4, 8]


def make_3d(rng, n_cases):
    truth, pred = [], []
    for c in range(n_cases):
        tb, pb = [], []
        for _ in range(rng.integers(0, 6)):
            d = float(rng.uniform(2, 30))
            ctr = [float(v) for v in rng.uniform(-150, 150, 3)]
            size = [d, d, d * float(rng.uniform(0.7, 1.3))]
            if rng.uniform() < 0.08:  # a finding without a size (point mark / nonNodule): an exclusion region
                tb.append({"center_mm": ctr, "size_mm": [3.0, 3.0, 3.0], "ignore": True, "sized": False})
                u = rng.normal(size=3)
                off = u / np.linalg.norm(u) * float(rng.uniform(1.6, 4.8))  # outside 1.5 mm, inside 5 mm
                pb.append({"center_mm": [x + float(o) for x, o in zip(ctr, off)], "size_mm": [3.0, 3.0, 3.0],
                           "score": round(float(rng.uniform()), 2)})
                continue
            tb.append({"center_mm": ctr, "size_mm": size, "diameter_mm": d, "ignore": bool(rng.uniform() < 0.15)})
            for _ in range(int(rng.uniform() < 0.75) + int(rng.uniform() < 0.2)):
                j = [x + float(rng.uniform(-0.4, 0.4)) * d for x in ctr]
                pb.append({"center_mm": j, "size_mm": [s * float(rng.uniform(0.8, 1.2)) for s in size],
                           "score": round(float(rng.uniform()), 2)})
        for _ in range(rng.integers(0, 6)):
            pb.append({"center_mm": [float(v) for v in rng.uniform(-150, 150, 3)],
                       "size_mm": [float(v) for v in rng.uniform(3, 20, 3)], "score": round(float(rng.uniform(0, 0.8)), 2)})
        truth.append({"case_id": f"c{c:03d}", "boxes": tb})
        if c % 7 != 3:
            pred.append({"case_id": f"c{c:03d}", "boxes": pb})
    pred = [pred[i] for i in rng.permutation(len(pred))]  # the prediction file's own case order
    head = {"format": "xraylift.boxes3d", "version": 1, "units": "mm"}
    return {**head, "source": "truth", "cases": truth}, {**head, "source": "prediction", "cases": pred}


def cases_of(truth, pred):
    preds = {c["case_id"]: c["boxes"] for c in pred["cases"]}
    return [(c["boxes"], preds.get(c["case_id"], [])) for c in truth["cases"]]


def diameter(t):
    """noduleCADEvaluationLUNA16.py: `if diameter < 0: diameter = 10` for findings without a size."""
    return t["diameter_mm"] if t.get("sized", True) else 10.0


def dist(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a["center_mm"], b["center_mm"])))


def luna16_cpm(cases):
    gt, prob, exclude = [], [], []
    for truths, cands in cases:
        remaining = set(range(len(cands)))
        for t in sorted(truths, key=lambda t: t.get("ignore", False)):  # included first, then excluded
            r2 = (diameter(t) / 2.0) ** 2
            matches = []
            for k, c in enumerate(cands):
                if sum((x - y) ** 2 for x, y in zip(t["center_mm"], c["center_mm"])) < r2:
                    if not t.get("ignore", False):
                        matches.append(c)
                        remaining.discard(k)
                    else:
                        remaining.discard(k)
            if t.get("ignore", False):
                continue
            if matches:
                gt.append(1.0); prob.append(max(m["score"] for m in matches)); exclude.append(False)
            else:
                gt.append(1.0); prob.append(-1e9); exclude.append(True)
        for k in remaining:
            gt.append(0.0); prob.append(cands[k]["score"]); exclude.append(False)
    gt_l = [g for g, e in zip(gt, exclude) if not e]
    pr_l = [p for p, e in zip(prob, exclude) if not e]
    detected, total = sum(gt_l), sum(gt)
    fpr, tpr, _ = skl.roc_curve(gt_l, pr_l)
    if sum(gt) == len(gt):
        fps = np.zeros(len(fpr))
    else:
        fps = fpr * (len(pr_l) - detected) / len(cases)
    sens = tpr * detected / total
    return float(np.mean(np.interp(RATES, fps, sens)))


def aligned_iou(a, b):
    inter = np.prod(np.minimum(a["size_mm"], b["size_mm"]))
    return inter / (np.prod(a["size_mm"]) + np.prod(b["size_mm"]) - inter)


def iou3d(a, b):
    lo = np.maximum(np.array(a["center_mm"]) - np.array(a["size_mm"]) / 2, np.array(b["center_mm"]) - np.array(b["size_mm"]) / 2)
    hi = np.minimum(np.array(a["center_mm"]) + np.array(a["size_mm"]) / 2, np.array(b["center_mm"]) + np.array(b["size_mm"]) / 2)
    inter = np.prod(np.maximum(hi - lo, 0))
    return inter / (np.prod(a["size_mm"]) + np.prod(b["size_mm"]) - inter)


def ranked(cases):
    allp = [(p["score"], ci, k) for ci, (_, ps) in enumerate(cases) for k, p in enumerate(ps)]
    order = sorted(range(len(allp)), key=lambda i: -allp[i][0])  # Python sort is stable
    return [allp[i] for i in order]


def devkit_ranked(truth, pred):
    """nuscenes-devkit accumulate(): every prediction in file order, then
    sortind = [i for (v, i) in sorted((v, i) for (i, v) in enumerate(pred_confs))][::-1]."""
    index = {c["case_id"]: ci for ci, c in enumerate(truth["cases"])}
    allp = [(p["score"], index[c["case_id"]], k) for c in pred["cases"] for k, p in enumerate(c["boxes"])]
    sortind = [i for (v, i) in sorted((v, i) for (i, v) in enumerate([a[0] for a in allp]))][::-1]
    return [allp[i] for i in sortind]


def cummean(x):
    return np.cumsum(x) / np.arange(1, len(x) + 1)


def nuscenes(truth, pred, th):
    cases = cases_of(truth, pred)
    npos = sum(1 for ts, _ in cases for t in ts if not t.get("ignore", False))
    taken = set()
    tp, fp, conf, terr, serr, mconf = [], [], [], [], [], []
    for score, ci, k in devkit_ranked(truth, pred):
        truths, preds = cases[ci]
        p = preds[k]
        best, m = np.inf, None
        for ti, t in enumerate(truths):
            if not t.get("ignore", False) and (ci, ti) not in taken and dist(t, p) < best:
                best, m = dist(t, p), ti
        if m is not None and best < th:
            taken.add((ci, m)); tp.append(1); fp.append(0); conf.append(score)
            terr.append(best); serr.append(1 - aligned_iou(truths[m], p)); mconf.append(score)
        else:
            if any(t.get("ignore", False) and (dist(t, p) < diameter(t) / 2 or dist(t, p) < th) for t in truths):
                continue
            tp.append(0); fp.append(1); conf.append(score)
    if not terr:
        return 0.0, None, None
    tp, fp = np.cumsum(tp).astype(float), np.cumsum(fp).astype(float)
    prec, rec = tp / (fp + tp), tp / float(npos)
    ri = np.linspace(0, 1, 101)
    prec = np.interp(ri, rec, prec, right=0)
    conf = np.interp(ri, rec, np.array(conf), right=0)
    t = np.interp(conf[::-1], np.array(mconf)[::-1], cummean(np.array(terr))[::-1])[::-1]
    s = np.interp(conf[::-1], np.array(mconf)[::-1], cummean(np.array(serr))[::-1])[::-1]
    p = prec[11:] - 0.1
    p[p < 0] = 0
    ap = float(np.mean(p)) / 0.9
    nz = np.nonzero(conf)[0]
    last = nz[-1] if len(nz) else 0
    if last < 11:
        return ap, None, None
    return ap, float(np.mean(t[11:last + 1])), float(np.mean(s[11:last + 1]))


def mmdet3d_ap(cases, th):
    npos = sum(1 for ts, _ in cases for t in ts if not t.get("ignore", False))
    det = set()
    tps, fps = [], []
    for score, ci, k in ranked(cases):
        truths, preds = cases[ci]
        p = preds[k]
        iou_max, jmax = -np.inf, None
        for ti, t in enumerate(truths):
            if t.get("ignore", False):
                continue
            v = iou3d(p, t)
            if v > iou_max:
                iou_max, jmax = v, ti
        if iou_max > th and (ci, jmax) not in det:
            det.add((ci, jmax)); tps.append(1.); fps.append(0.)
        else:
            if any(t.get("ignore", False) and (dist(t, p) < diameter(t) / 2 or iou3d(p, t) > th) for t in truths):
                continue
            tps.append(0.); fps.append(1.)
    tp, fp = np.cumsum(tps), np.cumsum(fps)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    mrec = np.concatenate(([0.], rec, [1.]))
    mpre = np.concatenate(([0.], prec, [0.]))
    for i in range(len(mpre) - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    ind = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[ind + 1] - mrec[ind]) * mpre[ind + 1]))


def make_2d(rng, n_images):
    imgs, dets = [], []
    for i in range(n_images):
        iid = f"c{i // 3}/v{i % 3}"
        tb, db = [], []
        for _ in range(rng.integers(0, 5)):
            x, y, w, h = *rng.uniform(0, 900, 2), *rng.uniform(6, 60, 2)
            tb.append({"bbox_xyxy": [x, y, x + w, y + h], "ignore": bool(rng.uniform() < 0.1)})
            for _ in range(int(rng.uniform() < 0.8) + int(rng.uniform() < 0.2)):
                j = rng.uniform(-0.15, 0.15, 4) * [w, h, w, h]
                db.append({"bbox_xyxy": [x + j[0], y + j[1], x + w + j[2], y + h + j[3]], "score": round(float(rng.uniform()), 2)})
        for _ in range(rng.integers(0, 4)):
            x, y, w = *rng.uniform(0, 900, 2), rng.uniform(6, 60)
            db.append({"bbox_xyxy": [x, y, x + w, y + w], "score": round(float(rng.uniform(0, .7)), 2)})
        imgs.append({"image_id": iid, "view": f"v{i % 3}", "boxes": tb})
        dets.append({"image_id": iid, "boxes": db})
    head = {"format": "xraylift.boxes2d", "version": 1, "units": "px"}
    return {**head, "source": "truth", "images": imgs}, {**head, "source": "prediction", "images": dets}


def coco_eval(truth, pred, view=None):
    images, anns, dts = [], [], []
    ids = {}
    # pycocotools ranks tied scores by image id order; xraylift sorts image ids as text: number them that way.
    for img in sorted(truth["images"], key=lambda i: i["image_id"]):
        if view is not None and img["view"] != view:
            continue
        ids[img["image_id"]] = len(ids) + 1
        images.append({"id": ids[img["image_id"]]})
        for b in img["boxes"]:
            x0, y0, x1, y1 = b["bbox_xyxy"]
            anns.append({"id": len(anns) + 1, "image_id": ids[img["image_id"]], "category_id": 1,
                         "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0), "iscrowd": int(b["ignore"])})
    for img in pred["images"]:
        if img["image_id"] not in ids:
            continue
        for b in img["boxes"]:
            x0, y0, x1, y1 = b["bbox_xyxy"]
            dts.append({"image_id": ids[img["image_id"]], "category_id": 1, "bbox": [x0, y0, x1 - x0, y1 - y0],
                        "score": b["score"]})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "nodule"}]}
    gt.createIndex()
    dt = gt.loadRes(dts)
    e = COCOeval(gt, dt, "bbox")
    e.params.areaRng = [[0, 1e10]]
    e.params.areaRngLbl = ["all"]
    e.params.maxDets = [100]
    e.evaluate(); e.accumulate()
    p = e.eval["precision"][:, :, 0, 0, 0]  # [T, R]
    ap = [float(np.mean(p[t][p[t] > -1])) if np.any(p[t] > -1) else -1 for t in range(p.shape[0])]
    r = e.eval["recall"][:, 0, 0, 0]
    return ap, float(np.mean(r[r > -1]))


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else "build/bin/xraylift"
    rng = np.random.default_rng(2024)
    worst = 0.0
    out = tempfile.mkdtemp()
    for trial in range(5):
        truth, pred = make_3d(rng, 60)
        tf, pf = os.path.join(out, "t.json"), os.path.join(out, "p.json")
        json.dump(truth, open(tf, "w")); json.dump(pred, open(pf, "w"))
        subprocess.run([exe, "eval", "--truth", tf, "--pred", pf, "--out", out, "--bootstrap", "0"], check=True,
                       stderr=subprocess.DEVNULL)
        m = json.load(open(os.path.join(out, "metrics.json")))["overall"]
        cases = cases_of(truth, pred)
        checks = [("CPM", m["froc"]["cpm"], luna16_cpm(cases))]
        for d in m["nuscenes"]["per_threshold"]:
            ap, ate, ase = nuscenes(truth, pred, d["threshold_mm"])
            checks += [(f"AP@{d['threshold_mm']}mm", d["ap"], ap), (f"ATE@{d['threshold_mm']}mm", d["ate_mm"], ate),
                       (f"ASE@{d['threshold_mm']}mm", d["ase"], ase)]
        for c in m["iou_ap"]:
            checks.append((f"AP3D@{c['iou_threshold']}", c["ap"], mmdet3d_ap(cases, c["iou_threshold"])))
        truth2, pred2 = make_2d(rng, 90)
        json.dump(truth2, open(tf, "w")); json.dump(pred2, open(pf, "w"))
        subprocess.run([exe, "eval2d", "--truth", tf, "--pred", pf, "--out", out], check=True, stderr=subprocess.DEVNULL)
        g = json.load(open(os.path.join(out, "metrics.json")))["groups"]
        for name, view in [("all", None), ("view v1", "v1")]:
            ap, ar = coco_eval(truth2, pred2, view)
            checks += [(f"2D {name} AP@{e['iou']:.2f}", e["ap"], a) for e, a in zip(g[name]["ap_per_iou"], ap)]
            checks.append((f"2D {name} AR100", g[name]["ar100"], ar))
        for name, ours, ref in checks:
            diff = 0.0 if ours is None and ref is None else abs(ours - ref) if None not in (ours, ref) else float("inf")
            worst = max(worst, diff)
            if diff > 1e-9:
                print(f"trial {trial}: {name}: xraylift {ours} reference {ref}")
        print(f"trial {trial}: {len(checks)} figures compared, largest difference so far {worst:.3g}")
    sys.exit(0 if worst <= 1e-9 else 1)


if __name__ == "__main__":
    main()
