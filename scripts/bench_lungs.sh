#!/usr/bin/env bash
# The lung model from the views, measured (docs/viz.md "Learned lung fields and the lungs from their path lengths"):
# the held-out chest phantoms 5000+ and simple phantoms 5000+ (TEST_CASES each), and LIDC-IDRI-0001 with inserted
# nodules (LIDC_INSERTS insertions, when ../shared/data is present), rendered through the default ring at 256 px;
# then `xraylift lungs --cases ... --tomography` with the shipped models (the template, the rule's hull, the learned
# fields' hull, the tomography and its bound from the CT's own path lengths; SHAPE_MODEL=models/lung_shape.safetensors
# adds the parametric fit, ~1-2 min per case). Prints each set's summary lines; reports in OUT/*.json.
#   TEST_CASES (10) LIDC_INSERTS (3) OUT (bench-out/lungs) BIN (build/bin/xraylift) SHAPE_MODEL (none)
#   FIELD_MODEL (models/lung_fields.safetensors; none: the rule's fields only)
#   CHEST_VERSION (1): the chest model version (docs/data.md "Anatomy models"); 1 made the shipped weights
set -euo pipefail
CHEST_VERSION="${CHEST_VERSION:-1}"  # the shipped weights' phantoms; 2: the model matched to real CT
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/xraylift}"
OUT="${OUT:-$ROOT/bench-out/lungs}"
TEST_CASES="${TEST_CASES:-10}"
LIDC_INSERTS="${LIDC_INSERTS:-3}"
SHAPE_MODEL="${SHAPE_MODEL:-none}"
FIELD_MODEL="${FIELD_MODEL:-$ROOT/models/lung_fields.safetensors}"
mkdir -p "$OUT"

measure() {  # views cases report
  "$BIN" lungs "$1" --cases "$2" --shape-model "$SHAPE_MODEL" --field-model "$FIELD_MODEL" --tomography -o "$3" 2>&1 | grep -E "lungs: ([0-9]+ case|tomography|net fields|parametric)"
}

for anatomy in chest simple; do
  if [ ! -f "$OUT/$anatomy/manifest.json" ]; then
    rm -rf "$OUT/$anatomy.tmp"
    "$BIN" data phantom --count "$TEST_CASES" --seed 5000 --out "$OUT/$anatomy.tmp" --set "phantom.anatomy=$anatomy" --set "phantom.chest_version=$CHEST_VERSION"
    mv "$OUT/$anatomy.tmp" "$OUT/$anatomy"
  fi
  if [ ! -d "$OUT/${anatomy}_views" ]; then
    rm -rf "$OUT/${anatomy}_views.tmp"
    "$BIN" render --manifest "$OUT/$anatomy/manifest.json" --size 256 --out "$OUT/${anatomy}_views.tmp"
    mv "$OUT/${anatomy}_views.tmp" "$OUT/${anatomy}_views"
  fi
  echo "== held-out $anatomy phantoms 5000-$((5000 + TEST_CASES - 1))"
  measure "$OUT/${anatomy}_views" "$OUT/$anatomy/cases" "$OUT/$anatomy.json"
done
LIDC="$ROOT/../shared/data/LIDC-IDRI-0001"
if [ -d "$LIDC" ] && [ "$LIDC_INSERTS" -gt 0 ]; then
  mkdir -p "$OUT/lidc_cases"
  for seed in $(seq 1 "$LIDC_INSERTS"); do
    [ -d "$OUT/lidc/insert-$seed" ] || "$BIN" data insert --ct "$LIDC" --out "$OUT/lidc/insert-$seed" --count 4 \
      --seed "$seed" --min-diameter 6 --max-diameter 20
    [ -d "$OUT/lidc_views/insert-$seed" ] || "$BIN" render "$OUT/lidc/insert-$seed" --size 256 \
      --out "$OUT/lidc_views/insert-$seed"
    ln -sfn "$OUT/lidc/insert-$seed" "$OUT/lidc_cases/LIDC-IDRI-0001-insert-$seed"  # named by the views' case id
  done
  echo "== LIDC-IDRI-0001, inserts 1-$LIDC_INSERTS (one patient)"
  measure "$OUT/lidc_views" "$OUT/lidc_cases" "$OUT/lidc.json"
fi
