#!/usr/bin/env python3
"""Times torchvision's RoIAlign forward/backward and NMS on the inputs bench_detect2d wrote (scripts/bench_gpu.sh).

usage: bench_torchvision_ops.py INPUT_DIR OUT_JSON
INPUT_DIR holds roi_align_forward_{feats,rois}_K.npy, roi_align_backward_{rois,grad}_K.npy, nms_{boxes,scores}_N.npy
(float32). Same settings as bench_detect2d: 7 x 7 output, spatial scale 1/8, sampling ratio 2, aligned, feature map
[2, 256, 128, 128]; NMS IoU 0.7. OUT_JSON maps the bench_detect2d benchmark names (roi_align_forward/cuda/K, ...)
to milliseconds per call (median of 20 after 3 warm-up calls, CUDA-synchronised).
"""
import glob
import json
import os
import re
import sys
import time

import numpy as np
import torch
import torchvision


def timed(fn, repeats=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def load(path):
    return torch.from_numpy(np.load(path)).cuda()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    results = {"torchvision": torchvision.__version__, "torch": torch.__version__}
    if not torch.cuda.is_available():
        results["skipped"] = "torch sees no CUDA device"
    else:
        for path in sorted(glob.glob(os.path.join(src, "roi_align_forward_feats_*.npy"))):
            k = re.search(r"_(\d+)\.npy$", path).group(1)
            feats, rois = load(path), load(os.path.join(src, f"roi_align_forward_rois_{k}.npy"))
            results[f"roi_align_forward/cuda/{k}"] = timed(
                lambda: torchvision.ops.roi_align(feats, rois, (7, 7), 1.0 / 8, 2, True))
        for path in sorted(glob.glob(os.path.join(src, "roi_align_backward_grad_*.npy"))):
            k = re.search(r"_(\d+)\.npy$", path).group(1)
            grad, rois = load(path), load(os.path.join(src, f"roi_align_backward_rois_{k}.npy"))
            results[f"roi_align_backward/cuda/{k}"] = timed(
                lambda: torch.ops.torchvision._roi_align_backward(grad, rois, 1.0 / 8, 7, 7, 2, 256, 128, 128, 2,
                                                                   True))
        for path in sorted(glob.glob(os.path.join(src, "nms_boxes_*.npy"))):
            n = re.search(r"_(\d+)\.npy$", path).group(1)
            boxes, scores = load(path), load(os.path.join(src, f"nms_scores_{n}.npy"))
            results[f"nms/cuda/{n}"] = timed(lambda: torchvision.ops.nms(boxes, scores, 0.7))
        if len(results) == 2:
            results["skipped"] = f"no inputs in {src} (bench_detect2d writes them with XRAYLIFT_BENCH_OPS_DIR)"
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, out)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
