#!/usr/bin/env bash
# The reproducible recipe of the parametric lung model (models/lung_shape.safetensors, drr/lung_shape.hpp,
# docs/viz.md "Lung model from the views"): TRAIN_CASES `chest` phantoms (seeds from 1000; the measurement set is
# seeds 5000+, never trained on) on the field of view of configs/data/phantom_chest.yaml (358 x 358 x 320 mm) but
# on a coarse grid (128 x 128 x 64, 2.8 x 2.8 x 5 mm) without vessels or nodules: the lungs' layout is drawn from
# the seed and the field of view alone (data/src/chest_anatomy.cpp), so the masks are the measured phantoms' lungs
# at a coarser voxel. Their CT lung masks (data::segment_lungs) -> a 64^3 SDF lattice per shape in the canonical
# frame -> `xraylift lung-shape train` (seed SEED). Deterministic up to the thread scheduling of float sums.
#   TRAIN_CASES (60) ITERATIONS (2000) POINTS (1500 SDF samples per shape and step, 8 shapes a step) SEED (1)
#   OUT (bench-out/lung-shape) BIN (build/bin/xraylift) THREADS (1: on the shared 2-core machine one torch thread
#   trained faster than two)
#   MODEL (models/lung_shape.safetensors)
#   CHEST_VERSION (1): the chest model version (docs/data.md "Anatomy models"); 1 made the shipped weights
set -euo pipefail
CHEST_VERSION="${CHEST_VERSION:-1}"  # the shipped weights' phantoms; 2: the model matched to real CT
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/lung-shape}"
TRAIN_CASES="${TRAIN_CASES:-60}"
ITERATIONS="${ITERATIONS:-2000}"
POINTS="${POINTS:-1500}"
SEED="${SEED:-1}"
THREADS="${THREADS:-1}"
MODEL="${MODEL:-$ROOT/models/lung_shape.safetensors}"

start=$(date +%s)
if [ ! -f "$OUT/train/manifest.json" ]; then
  "$BIN" data phantom --config "$ROOT/configs/data/phantom_chest.yaml" --count "$TRAIN_CASES" --seed 1000 \
    --out "$OUT/train.tmp" --threads "$THREADS" --set "phantom.dims=[128, 128, 64]" \
    --set "phantom.spacing_mm=[2.8, 2.8, 5.0]" --set phantom.vessels=false --set phantom.nodules=0 \
    --set "phantom.chest_version=$CHEST_VERSION"
  rm -rf "$OUT/train" && mv "$OUT/train.tmp" "$OUT/train"
fi
echo "train_lung_shape: $TRAIN_CASES phantoms ready after $(( $(date +%s) - start )) s"
"$BIN" lung-shape train "$OUT/train/cases" -o "$MODEL" --iterations "$ITERATIONS" --points "$POINTS" \
  --seed "$SEED" \
  --threads "$THREADS"
echo "train_lung_shape: $MODEL after $(( $(date +%s) - start )) s"
