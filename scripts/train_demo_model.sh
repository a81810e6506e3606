#!/usr/bin/env bash
# The reproducible recipe of the demo weights (models/demo_tiny.safetensors) and of the detect3d benchmark's model
# (docs/detect3d.md "Training recipe"), two stages on the CPU:
#   1. phantoms whose nodules are all 15-30 mm (seeds from 20000) -> ring-10 views at 256 x 256 -> the 2D detector
#      alone (configs/detect2d/visible_nodules.yaml, PRE_STEPS steps);
#   2. phantoms of the usual 4-20 mm mix (seeds from 1000) -> views -> the MV2D head of
#      configs/detect3d/cpu_small.yaml (seed 11 in the config) for STEPS steps on stage 1's detector, which stays
#      frozen (lr x 0 for backbone, rpn, roi_heads): joint training lowered its recall (docs/BENCHMARKS.md "detect3d").
# Both stages train on views whose ground-glass nodules are ignore regions (render's truth.textures, the
# TEXTURES list): they are below the anatomical clutter in every view (docs/eval.md "Nodule texture").
# Deterministic up to the thread scheduling of float sums.
#   TRAIN_CASES (200) VISIBLE_CASES (100) PRE_STEPS (3000) STEPS (1800) OUT (bench-out/detect3d)
#   BIN (build/bin/xraylift) THREADS (2) TEXTURES ("solid, part-solid"; empty: every texture counts)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/detect3d}"
TRAIN_CASES="${TRAIN_CASES:-200}"
VISIBLE_CASES="${VISIBLE_CASES:-100}"
PRE_STEPS="${PRE_STEPS:-3000}"
STEPS="${STEPS:-1800}"
THREADS="${THREADS:-2}"
TEXTURES="${TEXTURES-solid, part-solid}"
PRE_CONFIG="$ROOT/configs/detect2d/visible_nodules.yaml"
CONFIG="$ROOT/configs/detect3d/cpu_small.yaml"

# phantoms_and_views NAME COUNT SEED [data phantom options...]
phantoms_and_views() {
  local name=$1 count=$2 seed=$3
  shift 3
  if [ ! -f "$OUT/phantoms/$name/manifest.json" ]; then
    "$BIN" data phantom --count "$count" --seed "$seed" --out "$OUT/phantoms/$name" --threads "$THREADS" "$@"
  fi
  if [ ! -d "$OUT/views/$name" ]; then
    "$BIN" render --manifest "$OUT/phantoms/$name/manifest.json" --size 256 --threads "$THREADS" \
      --set "truth.textures=[$TEXTURES]" --out "$OUT/views/$name.tmp"
    mv "$OUT/views/$name.tmp" "$OUT/views/$name"
  fi
}

phantoms_and_views visible "$VISIBLE_CASES" 20000 --set phantom.nodule_min_diameter_mm=15 \
  --set phantom.nodule_max_diameter_mm=30
phantoms_and_views train "$TRAIN_CASES" 1000

start=$(date +%s)
"$BIN" train --config "$PRE_CONFIG" --data "$OUT/views/visible" --set train.steps="$PRE_STEPS" --threads "$THREADS" \
  --out "$OUT/pretrain2d"
echo "train_demo_model: stage 1 (2D, visible nodules) took $(( $(date +%s) - start )) s"
FROZEN_2D='[{prefix: backbone., lr_mult: 0}, {prefix: rpn., lr_mult: 0}, {prefix: roi_heads., lr_mult: 0}]'
start=$(date +%s)
"$BIN" train --config "$CONFIG" --data "$OUT/views/train" --weights "$OUT/pretrain2d/model.safetensors" \
  --set train.steps="$STEPS" --threads "$THREADS" --out "$OUT/train" \
  --set "train.param_groups=$FROZEN_2D"
echo "train_demo_model: stage 2 (MV2D head on the frozen detector) took $(( $(date +%s) - start )) s; weights: $OUT/train/model.safetensors"
if [ "${INSTALL:-0}" = 1 ]; then
  source "$ROOT/scripts/lib/copy_atomic.sh"  # temp file + rename: an interrupted copy never leaves a truncated model
  copy_atomic "$OUT/train/model.safetensors" "$ROOT/models/demo_tiny.safetensors"
  echo "installed models/demo_tiny.safetensors ($(stat -c %s "$ROOT/models/demo_tiny.safetensors") bytes)"
fi
