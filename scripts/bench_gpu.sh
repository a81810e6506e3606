#!/usr/bin/env bash
# GPU check and benchmark, one command on a fresh GPU machine (docs/BENCHMARKS.md, docs/drr.md, docs/detect2d.md):
#   1. configures when build/ is missing (scripts/setup.sh: reuses /opt/torch/.venv when its torch imports, nvcc
#      from /usr/local/cuda; skips apt when apt-get is absent or every package is present),
#   2. builds the CUDA tests, the CLI and the GPU benchmarks,
#   3. runs every CUDA test (ctest -R 'Cuda|cuda'); a CUDA test that skips on a machine with a GPU is an error,
#   4. runs bench_drr_gpu (10 views x 1024^2 and 256^2, Siddon and trilinear, resident and per call) and the CUDA
#      part of bench_detect2d (RoIAlign forward/backward, NMS, ResNet-50 FPN training step bf16 and fp32),
#   5. times torchvision's ops on the same inputs when torchvision imports in the torch python,
#   6. 3D inference per case (`xraylift predict`, both methods, demo weights, 10 x 256^2),
#   7. prints one table (scripts/bench_gpu_table.py) from the JSON in build/bench-results/gpu/.
# Usage: scripts/bench_gpu.sh [--dry-run] [extra Google Benchmark flags]
#   --dry-run (or XRAYLIFT_BENCH_DRY_RUN=1): no GPU, no build; prints the plan, checks the tools and prints the table
#   with every figure pending (the ctest `bench_gpu_dry_run` runs this on CPU machines).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"
DRY="${XRAYLIFT_BENCH_DRY_RUN:-0}"
if [ "${1:-}" = "--dry-run" ]; then
  DRY=1
  shift
fi
RESULTS="${XRAYLIFT_BENCH_RESULTS:-$BUILD_DIR/bench-results/gpu}"
FAILURES=()

say() { printf '\n== %s\n' "$*"; }
# Runs a command, or only prints it in a dry run.
run() {
  if [ "$DRY" = 1 ]; then
    printf '   [dry-run] %s\n' "$*"
  else
    "$@"
  fi
}
# Like run, but a failure is recorded and the script goes on (the table still prints what was measured).
try() {
  if [ "$DRY" = 1 ]; then
    printf '   [dry-run] %s\n' "$*"
    return 0
  fi
  "$@" || {
    FAILURES+=("$*")
    echo "!! failed: $*"
  }
}

# The python that provides torch: TORCH_PYTHON, /opt/torch/.venv, else the venv CMake was configured with.
torch_python() {
  if [ -n "${TORCH_PYTHON:-}" ]; then
    echo "$TORCH_PYTHON"
    return
  fi
  if [ -x /opt/torch/.venv/bin/python ] && /opt/torch/.venv/bin/python -c "import torch" >/dev/null 2>&1; then
    echo /opt/torch/.venv/bin/python
    return
  fi
  local prefix
  prefix="$(sed -n 's/^CMAKE_PREFIX_PATH:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null | head -1)"
  # .../<venv>/lib/pythonX.Y/site-packages/torch/share/cmake -> <venv>/bin/python
  if [ -n "$prefix" ] && [ -x "${prefix%/lib/python*}/bin/python" ]; then
    echo "${prefix%/lib/python*}/bin/python"
    return
  fi
  command -v python3 || true
}

say "plan (build dir $BUILD_DIR, results $RESULTS, dry run: $DRY)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi -L || true
else
  echo "nvidia-smi: absent"
fi
NVCC="$(command -v nvcc || true)"
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
echo "nvcc: ${NVCC:-absent}${NVCC:+ ($("$NVCC" --version | tail -1))}"
bash -n "$ROOT/scripts/bench_gpu.sh"

say "1. configure"
if [ -f "$BUILD_DIR/build.ninja" ]; then
  echo "   $BUILD_DIR is configured"
else
  command -v apt-get >/dev/null 2>&1 || export XRAYLIFT_SKIP_APT=1
  run env BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/setup.sh"
fi

say "2. build"
run cmake --build "$BUILD_DIR" -j "$JOBS" --target test_drr test_drr_torch test_detect2d xraylift bench_drr_gpu \
  bench_detect2d

say "3. CUDA tests"
mkdir -p "$RESULTS"
if [ "$DRY" = 1 ]; then
  run ctest --test-dir "$BUILD_DIR" -R "Cuda|cuda" -E UnavailableWithoutDevice --output-on-failure
else
  # (RenderCuda.UnavailableWithoutDevice is the one CUDA-named test that skips where a GPU exists.)
  (cd "$BUILD_DIR" && ctest -R "Cuda|cuda" -E UnavailableWithoutDevice --output-on-failure 2>&1) |
    tee "$RESULTS/ctest_cuda.log" ||
    FAILURES+=("ctest -R Cuda|cuda")
  if nvidia-smi -L >/dev/null 2>&1 && grep -q "Skipped" "$RESULTS/ctest_cuda.log"; then
    FAILURES+=("CUDA tests skipped on a machine with a GPU (see $RESULTS/ctest_cuda.log)")
  fi
fi

say "4. GPU benchmarks"
try "$BUILD_DIR/bench/bench_drr_gpu" --benchmark_out="$RESULTS/bench_drr_gpu.json" --benchmark_out_format=json "$@"
try env XRAYLIFT_BENCH_OPS_DIR="$RESULTS/ops_inputs" "$BUILD_DIR/bench/bench_detect2d" \
  --benchmark_filter='cuda|train_step' --benchmark_out="$RESULTS/bench_detect2d.json" --benchmark_out_format=json "$@"

say "5. torchvision on the same inputs"
PY="$(torch_python)"
echo "   python: ${PY:-absent}"
if [ -n "$PY" ] && "$PY" -c "import torchvision" >/dev/null 2>&1; then
  try "$PY" "$ROOT/scripts/bench_torchvision_ops.py" "$RESULTS/ops_inputs" "$RESULTS/torchvision.json"
else
  echo "   skipped: torchvision does not import in ${PY:-any python} (the table says so)"
  mkdir -p "$RESULTS"
  echo '{"skipped": "torchvision is not installed in the torch python"}' >"$RESULTS/torchvision.json"
fi

say "6. 3D inference per case"
# bench_predict: `xraylift predict` per case (10 views of 256^2, the shipped demo weights and
# configs/detect3d/cpu_small.yaml) on cuda, every registered method (`xraylift methods --names`), averaged over 5 cases
# (the first one includes warm-up); writes {"ms_per_case": {"<method>": <ms>, ...}, "cases": <n>} to
# $RESULTS/predict.json.
# (`xraylift predict --help` exits 0 even without the subcommand, printing the top-level help, so the guard looks
# for the subcommand's own usage line.)
bench_predict() {
  local x="$BUILD_DIR/bin/xraylift" weights="$ROOT/models/demo_tiny.safetensors" dir="$RESULTS/predict"
  if ! "$x" predict --help 2>/dev/null | grep -q "^Usage: .*predict"; then
    echo "   skipped: no predict command"
    echo '{"skipped": "no predict command"}' >"$RESULTS/predict.json"
    return
  fi
  if [ ! -f "$weights" ]; then
    echo '{"skipped": "models/demo_tiny.safetensors is absent"}' >"$RESULTS/predict.json"
    return
  fi
  "$x" data phantom --count 5 --seed 7000 --out "$dir/phantoms" >/dev/null &&
    "$x" render --manifest "$dir/phantoms/manifest.json" --size 256 --device cuda --out "$dir/views" >/dev/null || {
    FAILURES+=("bench_predict: phantoms/render"); echo '{"skipped": "render failed"}' >"$RESULTS/predict.json"; return; }
  local method entries=()
  for method in $("$x" methods --names); do
    local line ms
    line=$("$x" predict "$dir/views" --config "$ROOT/configs/detect3d/cpu_small.yaml" --weights "$weights" \
      --device cuda --method "$method" --no-overlays -o "$dir/pred_$method.json" 2>&1 | grep "predict:" || true)
    echo "   $method: $line"
    ms=$(echo "$line" | sed -n 's/.*inference \([0-9]*\) ms per case.*/\1/p')
    entries+=("\"$method\": ${ms:-null}")
  done
  local joined
  joined=$(IFS=,; echo "${entries[*]}")
  printf '{"ms_per_case": {%s}, "cases": 5}\n' "$joined" >"$RESULTS/predict.json"
}
if [ "$DRY" = 1 ]; then
  echo "   [dry-run] bench_predict"
else
  bench_predict
fi

say "7. on-the-fly render + training step (1 GPU; figures in build/bench-results and the run's metrics.jsonl)"
if [ "$DRY" = 1 ]; then
  echo "   [dry-run] scripts/bench_train_gpu.sh ${TRAIN_STEPS:-30}"
else
  try "$ROOT/scripts/bench_train_gpu.sh" "${TRAIN_STEPS:-30}"
fi

say "8. table"
TABLE_PY="${PY:-python3}"
"$TABLE_PY" -c "import json" >/dev/null 2>&1 || TABLE_PY=python3
"$TABLE_PY" "$ROOT/scripts/bench_gpu_table.py" "$RESULTS"

if [ ${#FAILURES[@]} -gt 0 ]; then
  printf '\nFAILED steps:\n'
  printf '  %s\n' "${FAILURES[@]}"
  exit 1
fi
