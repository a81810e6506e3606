#!/usr/bin/env bash
# GPU figures of training at scale (docs/BENCHMARKS.md "train"), on a machine with an NVIDIA GPU:
#   1. bench_train_loader on CUDA: samples/s of on-the-fly rendering (ring-10 case per sample, 256^2 and 1024^2
#      views, jittered rig + photon noise, volumes resident on the GPU), JSON in build/bench-results/,
#   2. one GPU training run of configs/detect3d/seed_r50.yaml fed on the fly (4 small phantoms, 30 steps):
#      the last metrics line's samples_per_s is on-the-fly render + train step throughput on 1 GPU,
#   3. the gradient all-reduce payload (MB) of the configs' models, for the 8-GPU estimate.
# Usage: scripts/bench_train_gpu.sh [steps]   (environment: BUILD_DIR, JOBS)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"
STEPS="${1:-30}"
[ -f "$BUILD_DIR/build.ninja" ] || BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/setup.sh"
cmake --build "$BUILD_DIR" -j "$JOBS" --target xraylift bench_train_loader
nvidia-smi -L || true
OUT="$BUILD_DIR/bench-results/train-gpu"
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== on-the-fly loader on CUDA (and the all-reduce payloads)"
"$BUILD_DIR/bench/bench_train_loader" --benchmark_filter='BM_LoaderOnTheFly/.*/1/|BM_AllreducePayload' \
  --benchmark_out="$BUILD_DIR/bench-results/bench_train_loader_gpu.json" --benchmark_out_format=json
echo "== on-the-fly render + train step, 1 GPU (seed_r50, $STEPS steps)"
"$BUILD_DIR/bin/xraylift" data phantom --count 4 --out "$OUT/phantoms" --config "$ROOT/configs/data/phantom_small.yaml"
"$BUILD_DIR/bin/xraylift" train --config "$ROOT/configs/detect3d/seed_r50.yaml" \
  --set data.on_the_fly.manifest="$OUT/phantoms/manifest.json" --set data.on_the_fly.device=cuda \
  --set data.on_the_fly.jitter.angle_deg=2 --set data.on_the_fly.jitter.pose_mm=5 --set data.on_the_fly.photons=20000 \
  --set train.device=cuda --set train.steps="$STEPS" --set train.warmup_steps=5 --set train.log_every=10 \
  --set train.checkpoint_every=0 --set train.resume=false --out "$OUT/train"
echo "== result (last metrics line; samples_per_s = cases of 10 views per second, render + step)"
tail -n 1 "$OUT/train/metrics.jsonl"
