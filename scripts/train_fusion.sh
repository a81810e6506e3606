#!/usr/bin/env bash
# The reproducible recipe of the fusion weights (models/fusion.safetensors, docs/detect3d.md "fusion"): `chest`
# anatomy phantoms (docs/data.md "Phantoms") of the usual 4-20 mm mix (seeds from 1000, the seeds of
# scripts/train_demo_model.sh's training set; ANATOMY=simple gives that very set) -> ring-10 views
# at 256 x 256 with ground-glass nodules as ignore regions -> configs/detect3d/fusion_cpu.yaml (seed 17 in the
# config) in 1 + len(ROUND_STEPS) rounds on the CPU (below). The filter bank is fixed, so every case's lifted features are computed once
# (the first pass over the data) and later steps train the 3D network alone. Deterministic up to the thread
# scheduling of float sums.
#   TRAIN_CASES (200) STEPS (round 1: the config's) ROUND_STEPS ("2500 1500": the steps of each further round)
#   OUT (bench-out/detect3d)
#   BIN (build/bin/xraylift) THREADS (2)
#   TEXTURES ("solid, part-solid"; empty: every texture counts) INSTALL (0; 1 copies the weights to models/)
#   ANATOMY (chest | simple: the phantom model, docs/data.md "Phantoms"; the shipped weights: chest)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/detect3d}"
TRAIN_CASES="${TRAIN_CASES:-200}"
THREADS="${THREADS:-2}"
ROUND_STEPS="${ROUND_STEPS:-2500 1500}"
TEXTURES="${TEXTURES-solid, part-solid}"
ANATOMY="${ANATOMY:-chest}"
# simple phantoms are train_demo_model.sh's training set (OUT/phantoms/train, shared); chest ones have their own.
SET=train; [ "$ANATOMY" = simple ] || SET="train-$ANATOMY"
CONFIG="$ROOT/configs/detect3d/fusion_cpu.yaml"
steps=()
[ -n "${STEPS:-}" ] && steps=(--set "train.steps=$STEPS")

start=$(date +%s)
if [ ! -f "$OUT/phantoms/$SET/manifest.json" ]; then
  "$BIN" data phantom --count "$TRAIN_CASES" --seed 1000 --out "$OUT/phantoms/$SET" --threads "$THREADS" \
    --set "phantom.anatomy=$ANATOMY"
fi
if [ ! -d "$OUT/views/$SET" ]; then
  "$BIN" render --manifest "$OUT/phantoms/$SET/manifest.json" --size 256 --threads "$THREADS" \
    --set "truth.textures=[$TEXTURES]" --out "$OUT/views/$SET.tmp"
  mv "$OUT/views/$SET.tmp" "$OUT/views/$SET"
fi
echo "train_fusion: data ($TRAIN_CASES $ANATOMY phantoms, views) ready after $(( $(date +%s) - start )) s"
# Round 1: the config's schedule (1500 steps, lr 2e-3). Each further round: its ROUND_STEPS entry of steps from the
# previous round's weights (--weights) at lr 1e-3 with a 50-step warmup. Every round recomputes the lifted
# features of the cases it meets first (its own process), then trains at ~2 steps/s on 2 cores.
start=$(date +%s)
"$BIN" train --config "$CONFIG" --data "$OUT/views/$SET" --threads "$THREADS" --out "$OUT/fusion-r1" "${steps[@]}"
echo "train_fusion: round 1 took $(( $(date +%s) - start )) s"
last="$OUT/fusion-r1"
round=1
for steps_of_round in $ROUND_STEPS; do
  round=$((round + 1))
  start=$(date +%s)
  "$BIN" train --config "$CONFIG" --data "$OUT/views/$SET" --threads "$THREADS" --out "$OUT/fusion-r$round" \
    --weights "$last/model.safetensors" --set train.steps="$steps_of_round" --set train.lr=0.001 \
    --set train.warmup_steps=50
  echo "train_fusion: round $round took $(( $(date +%s) - start )) s"
  last="$OUT/fusion-r$round"
done
mkdir -p "$OUT/fusion"
cp "$last/model.safetensors" "$OUT/fusion/model.safetensors"
echo "train_fusion: weights: $OUT/fusion/model.safetensors (round $round)"
if [ "${INSTALL:-0}" = 1 ]; then
  mkdir -p "$ROOT/models"
  cp "$OUT/fusion/model.safetensors" "$ROOT/models/fusion.safetensors"
  echo "installed models/fusion.safetensors ($(stat -c %s "$ROOT/models/fusion.safetensors") bytes)"
fi
