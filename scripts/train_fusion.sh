#!/usr/bin/env bash
# The reproducible recipe of the fusion weights (models/fusion.safetensors, docs/detect3d.md "fusion"): phantoms
# of the usual 4-20 mm mix (seeds from 1000, the same training set as scripts/train_demo_model.sh) -> ring-10 views
# at 256 x 256 with ground-glass nodules as ignore regions -> configs/detect3d/fusion_cpu.yaml (seed 17 in the
# config) for STEPS steps on the CPU. The filter bank is fixed, so every case's lifted features are computed once
# (the first pass over the data) and later steps train the 3D network alone. Deterministic up to the thread
# scheduling of float sums.
#   TRAIN_CASES (200) STEPS (config) OUT (bench-out/detect3d) BIN (build/bin/xraylift) THREADS (2)
#   TEXTURES ("solid, part-solid"; empty: every texture counts) INSTALL (0; 1 copies the weights to models/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/detect3d}"
TRAIN_CASES="${TRAIN_CASES:-200}"
THREADS="${THREADS:-2}"
TEXTURES="${TEXTURES-solid, part-solid}"
CONFIG="$ROOT/configs/detect3d/fusion_cpu.yaml"
steps=()
[ -n "${STEPS:-}" ] && steps=(--set "train.steps=$STEPS")

start=$(date +%s)
if [ ! -f "$OUT/phantoms/train/manifest.json" ]; then
  "$BIN" data phantom --count "$TRAIN_CASES" --seed 1000 --out "$OUT/phantoms/train" --threads "$THREADS"
fi
if [ ! -d "$OUT/views/train" ]; then
  "$BIN" render --manifest "$OUT/phantoms/train/manifest.json" --size 256 --threads "$THREADS" \
    --set "truth.textures=[$TEXTURES]" --out "$OUT/views/train.tmp"
  mv "$OUT/views/train.tmp" "$OUT/views/train"
fi
echo "train_fusion: data ($TRAIN_CASES phantoms, views) ready after $(( $(date +%s) - start )) s"
start=$(date +%s)
"$BIN" train --config "$CONFIG" --data "$OUT/views/train" --threads "$THREADS" --out "$OUT/fusion" "${steps[@]}"
echo "train_fusion: training took $(( $(date +%s) - start )) s; weights: $OUT/fusion/model.safetensors"
if [ "${INSTALL:-0}" = 1 ]; then
  mkdir -p "$ROOT/models"
  cp "$OUT/fusion/model.safetensors" "$ROOT/models/fusion.safetensors"
  echo "installed models/fusion.safetensors ($(stat -c %s "$ROOT/models/fusion.safetensors") bytes)"
fi
