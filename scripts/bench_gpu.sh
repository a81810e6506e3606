#!/usr/bin/env bash
# GPU check and benchmark of the DRR renderer (run on a machine with an NVIDIA GPU; docs/BENCHMARKS.md):
#   1. builds the drr tests and the GPU benchmark (setup.sh first when build/ is missing),
#   2. runs the CUDA-vs-CPU tests (RenderCuda.*, RenderTensor.*),
#   3. runs bench_drr_gpu: 10 views of 1024 x 1024 (and 256 x 256) through the seed ring, Siddon and trilinear,
#      printing ms per 10-view set and rays/s (JSON in build/bench-results/bench_drr_gpu.json).
# Volume: the LIDC sample from ../shared when present, else a synthetic 512 x 512 x 133 chest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"
[ -f "$BUILD_DIR/build.ninja" ] || BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/setup.sh"
cmake --build "$BUILD_DIR" -j "$JOBS" --target test_drr test_drr_torch bench_drr_gpu
nvidia-smi -L || true
echo "== CUDA vs CPU tests"
"$BUILD_DIR/tests/drr/test_drr" --gtest_filter='RenderCuda.*'
"$BUILD_DIR/tests/drr/test_drr_torch" --gtest_filter='RenderTensor.*'
echo "== GPU benchmark"
mkdir -p "$BUILD_DIR/bench-results"
"$BUILD_DIR/bench/bench_drr_gpu" --benchmark_out="$BUILD_DIR/bench-results/bench_drr_gpu.json" \
  --benchmark_out_format=json "$@"
