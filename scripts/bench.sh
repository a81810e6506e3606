#!/usr/bin/env bash
# Runs every Google Benchmark program under build/bench and stores JSON results in build/bench-results/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
mkdir -p "$BUILD_DIR/bench-results"
for b in "$BUILD_DIR"/bench/bench_*; do
  [ -x "$b" ] || continue
  name=$(basename "$b")
  echo "== $name"
  "$b" --benchmark_out="$BUILD_DIR/bench-results/$name.json" --benchmark_out_format=json "$@"
done
