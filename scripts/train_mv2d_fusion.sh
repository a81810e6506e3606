#!/usr/bin/env bash
# The reproducible recipe of models/mv2d_fusion.safetensors (docs/detect3d.md "Proposal sources"): the MV2D head
# of configs/detect3d/cpu_small.yaml (`detect3d.mv2d_fusion`, seed 11 in the config) trained on the fusion model's
# 3D candidates as its queries, on the chest-phantom views of scripts/train_fusion.sh (200 phantoms, seeds from 1000,
# views/train-chest). Starting point: the shipped demo weights (stage 1's 2D detector and the
# official MV2D head) merged with the shipped fusion weights under "fusion." (scripts/merge_safetensors.py); the 2D
# detector stays frozen (as in stage 2 of train_demo_model.sh) and the fusion model is not trained (its parameters
# do not require gradients). Each case's fused candidates are computed once (the first time the case is met,
# ~1.5 s on the CPU) and cached for the later steps. Deterministic up to the thread scheduling of float sums.
#   VIEWS ($OUT/views/train-chest: scripts/train_fusion.sh's chest phantoms) CASES (40: the first 40 view sets, by name; fusion inference of a case costs ~1.5 s
#   once, so fewer cases keep a budget for steps) STEPS (160) OUT (bench-out/detect3d) BIN (build/bin/xraylift) THREADS (2)
#   MV2D_WEIGHTS (models/demo_tiny.safetensors) FUSION_WEIGHTS (models/fusion.safetensors): the starting point's parts
#   WARMUP (20: train.warmup_steps) INSTALL (0; 1 copies the weights to models/mv2d_fusion.safetensors)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/detect3d}"
VIEWS="${VIEWS:-$OUT/views/train-chest}"
STEPS="${STEPS:-160}"
CASES="${CASES:-40}"
WARMUP="${WARMUP:-20}"
MV2D_WEIGHTS="${MV2D_WEIGHTS:-$ROOT/models/demo_tiny.safetensors}"
FUSION_WEIGHTS="${FUSION_WEIGHTS:-$ROOT/models/fusion.safetensors}"
THREADS="${THREADS:-2}"
CONFIG="$ROOT/configs/detect3d/cpu_small.yaml"
if [ ! -d "$VIEWS" ]; then
  echo "train_mv2d_fusion: no views '$VIEWS' (make them with scripts/train_fusion.sh, or set VIEWS)" >&2
  exit 3
fi
mkdir -p "$OUT/mv2d_fusion-train"
python3 "$ROOT/scripts/merge_safetensors.py" "$OUT/mv2d_fusion-train/init.safetensors" "$MV2D_WEIGHTS" \
  "$FUSION_WEIGHTS:fusion."
mapfile -t cases < <(find "$VIEWS" -mindepth 2 -maxdepth 2 -name infos.json -printf '%h\n' | sort | head -n "$CASES")
FROZEN_2D='[{prefix: backbone., lr_mult: 0}, {prefix: rpn., lr_mult: 0}, {prefix: roi_heads., lr_mult: 0}]'
start=$(date +%s)
"$BIN" train --config "$CONFIG" --set detect3d.method=mv2d_fusion --data "${cases[@]}" \
  --weights "$OUT/mv2d_fusion-train/init.safetensors" --set train.steps="$STEPS" --set train.warmup_steps="$WARMUP" \
  --set "train.param_groups=$FROZEN_2D" \
  --threads "$THREADS" --out "$OUT/mv2d_fusion-train"
source "$ROOT/scripts/lib/copy_atomic.sh"  # temp file + rename: an interrupted copy never leaves a truncated model
copy_atomic "$OUT/mv2d_fusion-train/model.safetensors" "$OUT/mv2d_fusion/model.safetensors"
echo "train_mv2d_fusion: $STEPS steps took $(( $(date +%s) - start )) s; weights: $OUT/mv2d_fusion/model.safetensors"
if [ "${INSTALL:-0}" = 1 ]; then
  copy_atomic "$OUT/mv2d_fusion/model.safetensors" "$ROOT/models/mv2d_fusion.safetensors"
  echo "installed models/mv2d_fusion.safetensors ($(stat -c %s "$ROOT/models/mv2d_fusion.safetensors") bytes)"
fi
