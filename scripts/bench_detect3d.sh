#!/usr/bin/env bash
# The detect3d quality benchmark (docs/BENCHMARKS.md "detect3d"): models trained by scripts/train_demo_model.sh
# (the 2D detector and the MV2D head) and scripts/train_fusion.sh (fusion),
# then `xraylift predict --eval` on held-out phantoms (seeds from 5000, never trained on) with every registered method
# (`xraylift methods --names`), and on
# the real LIDC sample with inserted nodules when ../shared/data is present. Prints each method's summary line.
#   TEST_CASES (40) OUT (bench-out/detect3d) BIN (build/bin/xraylift) WEIGHTS (OUT/train/model.safetensors)
#   ANATOMIES ("simple chest": the held-out phantoms' models, docs/data.md "Phantoms"; each its own 40 cases)
#   CHEST_VERSION (2): the chest model version (docs/data.md "Anatomy models"); 2 made the shipped fusion weights
set -euo pipefail
CHEST_VERSION="${CHEST_VERSION:-2}"  # the shipped fusion weights' phantoms (the model matched to real CT)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/detect3d}"
TEST_CASES="${TEST_CASES:-40}"
ANATOMIES="${ANATOMIES:-simple chest}"
WEIGHTS="${WEIGHTS:-$OUT/train/model.safetensors}"
CONFIG="$ROOT/configs/detect3d/cpu_small.yaml"
# The size and texture rows of an eval report (group | bin | nodules | CPM | mAP | ATE | score).
breakdown() { grep -E "^\| (size|texture) \|" "$1" || true; }
# The weights of a method: its own training run (OUT/<method>/model.safetensors, e.g. scripts/train_fusion.sh)
# when there is one, else the shared model of scripts/train_demo_model.sh.
weights_of() { if [ -f "$OUT/$1/model.safetensors" ]; then echo "$OUT/$1/model.safetensors"; else echo "$WEIGHTS"; fi; }
# predict --eval of one method; a method the weights do not hold (no shipped weights yet) is reported and skipped.
predict_eval() {
  local log
  if ! log=$("$BIN" predict "$1" --config "$CONFIG" --weights "$(weights_of "$3")" --method "$3" --eval --no-overlays \
    -o "$2" 2>&1); then
    echo "   skipped: $(echo "$log" | tail -1)"
    return 1
  fi
  echo "$log" | grep -E "^.*(predict:|eval:)"
}
[ -f "$WEIGHTS" ] || OUT="$OUT" "$ROOT/scripts/train_demo_model.sh"
[ -f "$OUT/fusion/model.safetensors" ] || OUT="$OUT" CHEST_VERSION="$CHEST_VERSION" "$ROOT/scripts/train_fusion.sh"
[ -f "$OUT/mv2d_fusion/model.safetensors" ] || OUT="$OUT" MV2D_WEIGHTS="$WEIGHTS" \
  FUSION_WEIGHTS="$OUT/fusion/model.safetensors" "$ROOT/scripts/train_mv2d_fusion.sh"

METHODS=$("$BIN" methods --names)
for anatomy in $ANATOMIES; do
  TEST=test; [ "$anatomy" = simple ] || TEST="test-$anatomy"
  if [ ! -f "$OUT/phantoms/$TEST/manifest.json" ]; then
    "$BIN" data phantom --count "$TEST_CASES" --seed 5000 --out "$OUT/phantoms/$TEST" --set "phantom.anatomy=$anatomy" --set "phantom.chest_version=$CHEST_VERSION"
  fi
  if [ ! -d "$OUT/views/$TEST" ]; then
    "$BIN" render --manifest "$OUT/phantoms/$TEST/manifest.json" --size 256 --out "$OUT/views/$TEST.tmp"
    mv "$OUT/views/$TEST.tmp" "$OUT/views/$TEST"
  fi
  for method in $METHODS; do
    echo "== held-out $anatomy phantoms, $method"
    predict_eval "$OUT/views/$TEST" "$OUT/pred_phantoms${TEST#test}_$method.json" "$method" || continue
    breakdown "$OUT/pred_phantoms${TEST#test}_${method}_eval/summary.md"
  done
done
LIDC="$ROOT/../shared/data/LIDC-IDRI-0001"
if [ -d "$LIDC" ]; then
  for seed in $(seq 1 "${LIDC_INSERTS:-30}"); do
    [ -d "$OUT/lidc/insert-$seed" ] || "$BIN" data insert --ct "$LIDC" --out "$OUT/lidc/insert-$seed" --count 4 \
      --seed "$seed" --min-diameter 6 --max-diameter 20
    [ -d "$OUT/views/lidc/insert-$seed" ] || "$BIN" render "$OUT/lidc/insert-$seed" --size 256 \
      --out "$OUT/views/lidc/insert-$seed"
  done
  for method in $METHODS; do
    echo "== LIDC-IDRI-0001 with inserted nodules (${LIDC_INSERTS:-30} insertions of 4), $method"
    predict_eval "$OUT/views/lidc" "$OUT/pred_lidc_$method.json" "$method" || continue
    breakdown "$OUT/pred_lidc_${method}_eval/summary.md"
  done
else
  echo "== ../shared/data absent: the real-CT part is skipped"
fi
