#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang + ASan/UBSan into build-fuzz/ and runs each one for
# RUNS executions (default 1,000,000) from a copy of its seed corpus (tests/fuzz/corpus/<harness>); new inputs
# stay in build-fuzz/corpus/. A crash leaves its reproducer in build-fuzz/crashes/<harness>/ and fails the run.
# Environment: FUZZ_HARNESSES="lidc_xml config" to run a subset; FUZZ_MAX_SECONDS=N stops each harness after N s
# (libFuzzer's -max_total_time) when RUNS are not reached by then, on a shared machine; FUZZ_JOBS=N builds with N
# jobs (default: every core). Only the harnesses that will run are built.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-1000000}"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
ALL_HARNESSES="lidc_xml config box_set3d box_set2d view_set dicom_series nrrd npy safetensors manifest case_json"
HARNESSES=(${FUZZ_HARNESSES:-$ALL_HARNESSES})
if ! command -v clang++ >/dev/null; then  # libFuzzer ships with clang; CI never runs this, so setup.sh skips it
  [ "${XRAYLIFT_SKIP_APT:-0}" = 1 ] && { echo "fuzz: clang++ is needed (apt-get install clang)" >&2; exit 2; }
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT/tests/fuzz" -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
targets=()
for h in "${HARNESSES[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$BUILD" -j "${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}" >/dev/null  # only what will run
# libtorch leaks its zip reader's state for every zip that is not a torch archive (the torch harnesses:
# torch_weights, checkpoint, built when build-fuzz/ was configured with -DTorch_DIR; docs/RELIABILITY.md).
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/fuzz/lsan_torch.supp}"
status=0
for h in "${HARNESSES[@]}"; do
  corpus="$BUILD/corpus/$h" crashes="$BUILD/crashes/$h"
  mkdir -p "$corpus" "$crashes"
  cp -n "$ROOT/tests/fuzz/corpus/$h"/* "$corpus"/ 2>/dev/null || true
  start=$(date +%s)
  if "$BUILD/fuzz_$h" "$corpus" -runs="$RUNS" -max_total_time="${FUZZ_MAX_SECONDS:-0}" -max_len=65536 -timeout=20 \
       -rss_limit_mb=4096 -artifact_prefix="$crashes/" -print_final_stats=1 > "$BUILD/$h.log" 2>&1; then
    result=ok
  else
    result="FAILED (see $BUILD/$h.log, reproducers in $crashes)"
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/$h.log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  printf 'fuzz %-13s %10s executions in %5d s, corpus %5d files: %s\n' "$h" "$execs" $(( $(date +%s) - start )) \
    "$(ls "$corpus" | wc -l)" "$result"
done
exit $status
