#!/usr/bin/env bash
# The reproducible recipe of the fusion weights (models/fusion.safetensors, docs/detect3d.md "fusion"): `chest`
# anatomy phantoms (docs/data.md "Phantoms") of version CHEST_VERSION (2: the model matched to real CT) and the usual
# 4-20 mm mix (seeds from 1000, the seeds of scripts/train_demo_model.sh's training set; ANATOMY=simple gives that
# very set) -> ring-10 views at 256 x 256 with ground-glass nodules as ignore regions ->
# configs/detect3d/fusion_cpu.yaml (seed 17 in the config). The filter bank is fixed, so every case's lifted
# features are computed once per process (its first pass over the data) and later steps train the 3D network alone.
# Deterministic up to the thread scheduling of float sums.
# RECIPE=single (the shipped weights since 2026-12-04): one process of SINGLE_STEPS (5900) steps on the set with
# intravenous contrast (docs/data.md "Contrast"): 37.6 min (2026-12-03) and 46.5 min (2026-12-04, a slower VM) of
# training on 2 idle cores, with scripts/train_mv2d_fusion.sh 41.3 and 50.5 min against the 45-minute budget
# (docs/BENCHMARKS.md "Shipped: the single-run recipe on version-2 phantoms"); 39.3 min (2026-12-04 13:00) since a
# lone crop runs beside a copy of itself on oneDNN (docs/BENCHMARKS.md "Batched crops").
# SINGLE_BATCH (1): cases per step (2 was measured worse on LIDC at the config's learning rate).
# RECIPE=rounds (the shipped weights before, on version-1 phantoms): 1 + len(ROUND_STEPS) rounds, each its own
# process (which recomputes the lifted features), then a last round on contrast-enhanced phantoms:
#   STEPS (round 1: the config's) ROUND_STEPS ("2500 1500": the steps of each further round)
#   CONTRAST_STEPS (1500; chest only, 0: none): the last round's steps, on phantoms with intravenous contrast
#   (the same seeds at the config's contrast probabilities). Rounds 1..N train on the same seeds drawn without
#   contrast (phantom.contrast_probability=0), in OUT/phantoms/train-chest-unenhanced.
#   START_WEIGHTS (empty): skip rounds 1..N and start the contrast round from these weights
# Both recipes:
#   TRAIN_CASES (200) OUT (bench-out/detect3d) BIN (build/bin/xraylift) THREADS (2)
#   TEXTURES ("solid, part-solid"; empty: every texture counts) INSTALL (0; 1 copies the weights to models/)
#   ANATOMY (chest | simple: the phantom model, docs/data.md "Phantoms")
#   CHEST_VERSION (2): the chest model version (docs/data.md "Anatomy models")
#   RECIPE (single | rounds) SINGLE_STEPS (5900)
set -euo pipefail
RECIPE="${RECIPE:-single}"
case "$RECIPE" in rounds|single) ;; *) echo "train_fusion: RECIPE=$RECIPE: expected rounds or single" >&2; exit 2;; esac
CHEST_VERSION="${CHEST_VERSION:-2}"  # 2: the model matched to real CT, the shipped weights' phantoms
SINGLE_STEPS="${SINGLE_STEPS:-5900}"
SINGLE_BATCH="${SINGLE_BATCH:-1}"
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
CONTRAST_STEPS="${CONTRAST_STEPS:-1500}"
[ "$ANATOMY" = chest ] || CONTRAST_STEPS=0
# Rounds 1..N: without contrast for chest (the contrast round comes last), the anatomy's own set otherwise.
PLAIN_SET="$SET"; plain_args=()
if [ "$CONTRAST_STEPS" != 0 ]; then PLAIN_SET="$SET-unenhanced"; plain_args=(--set phantom.contrast_probability=0); fi
CONFIG="$ROOT/configs/detect3d/fusion_cpu.yaml"
steps=()
[ -n "${STEPS:-}" ] && steps=(--set "train.steps=$STEPS")

make_set() {  # folder, extra phantom options...
  local set="$1"; shift
  if [ ! -f "$OUT/phantoms/$set/manifest.json" ]; then
    "$BIN" data phantom --count "$TRAIN_CASES" --seed 1000 --out "$OUT/phantoms/$set" --threads "$THREADS" \
      --set "phantom.anatomy=$ANATOMY" "$@" --set "phantom.chest_version=$CHEST_VERSION"
  fi
  if [ ! -d "$OUT/views/$set" ]; then
    "$BIN" render --manifest "$OUT/phantoms/$set/manifest.json" --size 256 --threads "$THREADS" \
      --set "truth.textures=[$TEXTURES]" --out "$OUT/views/$set.tmp"
    mv "$OUT/views/$set.tmp" "$OUT/views/$set"
  fi
}
# The recipe's output: OUT/fusion/model.safetensors, and models/fusion.safetensors with INSTALL=1; each written
# through a temporary file and a rename (scripts/lib/copy_atomic.sh), so an interrupted copy never leaves a truncated
# model.
source "$ROOT/scripts/lib/copy_atomic.sh"
publish_weights() {  # weights, what made them
  copy_atomic "$1" "$OUT/fusion/model.safetensors"
  echo "train_fusion: weights: $OUT/fusion/model.safetensors ($2)"
  if [ "${INSTALL:-0}" = 1 ]; then
    copy_atomic "$1" "$ROOT/models/fusion.safetensors"
    echo "installed models/fusion.safetensors ($(stat -c %s "$ROOT/models/fusion.safetensors") bytes)"
  fi
}
start=$(date +%s)
if [ "$RECIPE" = single ]; then
  make_set "$SET"
  echo "train_fusion: data ($TRAIN_CASES $ANATOMY phantoms, views) ready after $(( $(date +%s) - start )) s"
  start=$(date +%s)
  "$BIN" train --config "$CONFIG" --data "$OUT/views/$SET" --threads "$THREADS" --out "$OUT/fusion-single" \
    --set train.steps="$SINGLE_STEPS" --set train.batch_size="$SINGLE_BATCH"
  echo "train_fusion: the single run ($SINGLE_STEPS steps of $SINGLE_BATCH cases on $SET) took $(( $(date +%s) - start )) s"
  publish_weights "$OUT/fusion-single/model.safetensors" "single run"
  exit 0
fi
[ -n "${START_WEIGHTS:-}" ] || make_set "$PLAIN_SET" "${plain_args[@]}"
[ "$CONTRAST_STEPS" = 0 ] || make_set "$SET"
echo "train_fusion: data ($TRAIN_CASES $ANATOMY phantoms, views) ready after $(( $(date +%s) - start )) s"
# Round 1: the config's schedule (1500 steps, lr 2e-3). Each further round: its ROUND_STEPS entry of steps from the
# previous round's weights (--weights) at lr 1e-3 with a 50-step warmup. Every round recomputes the lifted
# features of the cases it meets first (its own process), then trains at ~2 steps/s on 2 cores.
train_round() {  # round, data set, steps, initial weights
  local t0; t0=$(date +%s)
  "$BIN" train --config "$CONFIG" --data "$OUT/views/$2" --threads "$THREADS" --out "$OUT/fusion-r$1" \
    --weights "$4" --set train.steps="$3" --set train.lr=0.001 --set train.warmup_steps=50
  echo "train_fusion: round $1 ($3 steps on $2) took $(( $(date +%s) - t0 )) s"
}
if [ -n "${START_WEIGHTS:-}" ]; then
  last="$START_WEIGHTS"
  round=$(( 1 + $(echo "$ROUND_STEPS" | wc -w) ))
  echo "train_fusion: rounds 1..$round skipped, starting from $START_WEIGHTS"
else
  start=$(date +%s)
  "$BIN" train --config "$CONFIG" --data "$OUT/views/$PLAIN_SET" --threads "$THREADS" --out "$OUT/fusion-r1" \
    "${steps[@]}"
  echo "train_fusion: round 1 took $(( $(date +%s) - start )) s"
  last="$OUT/fusion-r1/model.safetensors"
  round=1
  for steps_of_round in $ROUND_STEPS; do
    round=$((round + 1))
    train_round "$round" "$PLAIN_SET" "$steps_of_round" "$last"
    last="$OUT/fusion-r$round/model.safetensors"
  done
fi
if [ "$CONTRAST_STEPS" != 0 ]; then
  round=$((round + 1))
  train_round "$round" "$SET" "$CONTRAST_STEPS" "$last"
  last="$OUT/fusion-r$round/model.safetensors"
fi
publish_weights "$last" "round $round"
