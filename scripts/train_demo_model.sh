#!/usr/bin/env bash
# The reproducible recipe of the demo weights (models/demo_tiny.safetensors) and of the detect3d benchmark's model:
# phantoms (seeds from 1000) -> ring-10 views at 256 x 256 -> `xraylift train` of configs/detect3d/cpu_small.yaml
# (seed 11 in the config) for STEPS steps on the CPU. Deterministic up to the thread scheduling of float sums.
#   TRAIN_CASES (200) STEPS (1800) OUT (bench-out/detect3d) BIN (build/bin/xraylift) THREADS (2)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/detect3d}"
TRAIN_CASES="${TRAIN_CASES:-200}"
STEPS="${STEPS:-1800}"
THREADS="${THREADS:-2}"
CONFIG="$ROOT/configs/detect3d/cpu_small.yaml"

if [ ! -f "$OUT/phantoms/train/manifest.json" ]; then
  "$BIN" data phantom --count "$TRAIN_CASES" --seed 1000 --out "$OUT/phantoms/train"
fi
if [ ! -d "$OUT/views/train" ]; then
  "$BIN" render --manifest "$OUT/phantoms/train/manifest.json" --size 256 --out "$OUT/views/train.tmp"
  mv "$OUT/views/train.tmp" "$OUT/views/train"
fi
start=$(date +%s)
"$BIN" train --config "$CONFIG" --data "$OUT/views/train" --set train.steps="$STEPS" --threads "$THREADS" \
  --out "$OUT/train"
echo "train_demo_model: training took $(( $(date +%s) - start )) s; weights: $OUT/train/model.safetensors"
if [ "${INSTALL:-0}" = 1 ]; then
  mkdir -p "$ROOT/models"
  cp "$OUT/train/model.safetensors" "$ROOT/models/demo_tiny.safetensors"
  echo "installed models/demo_tiny.safetensors ($(stat -c %s "$ROOT/models/demo_tiny.safetensors") bytes)"
fi
