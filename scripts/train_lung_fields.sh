#!/usr/bin/env bash
# The reproducible recipe of the lung-field network (models/lung_fields.safetensors, drr/lung_field_net.hpp,
# docs/drr.md "Lung fields by a network"): TRAIN_CASES `chest` phantoms (seeds from 1000; the measurement sets are
# the chest phantoms 5000+ and LIDC-IDRI-0001, never trained on) at the default phantom grid, rendered through the
# default ring at 256 px as the benchmark's views are; labels: each case's CT lung mask (data::segment_lungs)
# projected through the views; then `xraylift lung-fields train` (seed SEED). Deterministic up to the thread
# scheduling of float sums.
#   TRAIN_CASES (40) ITERATIONS (1500) BATCH (8) CHANNELS (6) INPUT_PX (128) SEED (1) THREADS (1)
#   OUT (bench-out/lung-fields) BIN (build/bin/xraylift) MODEL (models/lung_fields.safetensors)
#   CHEST_VERSION (1): the chest model version (docs/data.md "Anatomy models"); 1 made the shipped weights
set -euo pipefail
CHEST_VERSION="${CHEST_VERSION:-1}"  # the shipped weights' phantoms; 2: the model matched to real CT
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/lung-fields}"
TRAIN_CASES="${TRAIN_CASES:-40}"
ITERATIONS="${ITERATIONS:-1500}"
BATCH="${BATCH:-8}"
CHANNELS="${CHANNELS:-6}"
INPUT_PX="${INPUT_PX:-128}"
SEED="${SEED:-1}"
THREADS="${THREADS:-1}"
MODEL="${MODEL:-$ROOT/models/lung_fields.safetensors}"

start=$(date +%s)
if [ ! -f "$OUT/train/manifest.json" ]; then
  rm -rf "$OUT/train.tmp"
  "$BIN" data phantom --count "$TRAIN_CASES" --seed 1000 --out "$OUT/train.tmp" --set phantom.anatomy=chest --set "phantom.chest_version=$CHEST_VERSION"
  rm -rf "$OUT/train" && mv "$OUT/train.tmp" "$OUT/train"
fi
if [ ! -d "$OUT/train_views" ]; then
  rm -rf "$OUT/train_views.tmp"
  "$BIN" render --manifest "$OUT/train/manifest.json" --size 256 --out "$OUT/train_views.tmp"
  mv "$OUT/train_views.tmp" "$OUT/train_views"
fi
echo "train_lung_fields: $TRAIN_CASES phantoms and their views ready after $(( $(date +%s) - start )) s"
"$BIN" lung-fields train "$OUT/train_views" --cases "$OUT/train/cases" -o "$MODEL" --iterations "$ITERATIONS" \
  --batch "$BATCH" --channels "$CHANNELS" --input-px "$INPUT_PX" --seed "$SEED" --threads "$THREADS"
echo "train_lung_fields: $MODEL after $(( $(date +%s) - start )) s"
