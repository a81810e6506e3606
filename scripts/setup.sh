#!/usr/bin/env bash
# One-command, idempotent setup: system packages, libtorch (via the pinned torch wheel), CMake configure.
# Re-running it is cheap: every step checks first and does nothing when already done.
#
# Environment (all optional):
#   XRAYLIFT_CACHE      where the torch venv lives (default ~/.cache/xraylift); ccache uses ~/.cache/ccache
#   TORCH_PYTHON        a python whose `import torch` should be used instead of the pinned venv
#   Torch_DIR           a libtorch CMake config dir (…/share/cmake/Torch); skips the python lookup
#   TORCH_CUDA_ARCH_LIST  CUDA archs for torch's CMake (default 9.0), so configuring never needs a GPU
#   XRAYLIFT_CUDA       ON/OFF to force the CUDA build (default: ON when nvcc exists)
#   XRAYLIFT_CUDA_ARCH  CMAKE_CUDA_ARCHITECTURES (default 90)
#   BUILD_TYPE          CMake build type (default Release)
#   XRAYLIFT_SKIP_APT=1 never call apt-get (e.g. without root)
#   XRAYLIFT_GLOO_SOURCE  a local checkout of the Gloo library (the version torch bundles) to take its headers from;
#                       without it the CPU data-parallel backend is the built-in store all-reduce
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="2.11.0"
CACHE="${XRAYLIFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xraylift}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libdcmtk-dev libeigen3-dev libopencv-dev libopencv-contrib-dev libyaml-cpp-dev zlib1g-dev
  libpng-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtinyobjloader-dev python3-venv chromium
  libtinyxml2-dev clang-format
  libmeshoptimizer-dev libtinygltf-dev libjs-three
)
# Test-only python modules, installed into the torch venv (tests skip cleanly without them).
PY_TEST_MODULES=(pygltflib)

install_apt() {
  [ "${XRAYLIFT_SKIP_APT:-0}" = 1 ] && { log "XRAYLIFT_SKIP_APT=1: not installing system packages"; return; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { log "system packages: all present"; return; }
  log "installing system packages: ${missing[*]}"
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

torch_ok() { "$1" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] else 1)" >/dev/null 2>&1; }

# Prints the python that provides torch (or nothing when Torch_DIR is given).
find_torch_python() {
  if [ -n "${Torch_DIR:-}" ]; then return; fi
  if [ -n "${TORCH_PYTHON:-}" ]; then
    torch_ok "$TORCH_PYTHON" || { log "TORCH_PYTHON=$TORCH_PYTHON cannot import torch"; exit 2; }
    echo "$TORCH_PYTHON"; return
  fi
  if [ -x /opt/torch/.venv/bin/python ] && torch_ok /opt/torch/.venv/bin/python; then
    echo /opt/torch/.venv/bin/python; return
  fi
  local venv="$CACHE/torch-$TORCH_VERSION"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch; assert torch.__version__.startswith('$TORCH_VERSION')" >/dev/null 2>&1; then
    echo "$venv/bin/python"; return
  fi
  log "installing torch==$TORCH_VERSION into $venv (one-time, several GB; reused by every clone)"
  mkdir -p "$CACHE"
  local py="${PYTHON:-python3}"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q "torch==$TORCH_VERSION" numpy >&2
  echo "$venv/bin/python"
}

# pip-installs the test-only modules into the venv of `py` when missing; offline, it says so and goes on.
python_test_modules() {
  local py="$1" m
  for m in "${PY_TEST_MODULES[@]}"; do
    "$py" -c "import $m" >/dev/null 2>&1 && continue
    log "installing $m into $(dirname "$(dirname "$py")") (test-only)"
    "$py" -m pip install -q "$m" >&2 || log "could not install $m: the tests that need it are skipped"
  done
}

configure() {
  local cuda="${XRAYLIFT_CUDA:-}"
  if [ -z "$cuda" ]; then
    if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then cuda=ON; else cuda=OFF; fi
  fi
  local args=(-S "$ROOT" -B "$BUILD_DIR" -G Ninja
    -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DXRAYLIFT_CUDA="$cuda"
    -DCMAKE_CUDA_ARCHITECTURES="${XRAYLIFT_CUDA_ARCH:-90}")
  if [ "$cuda" = ON ] && ! command -v nvcc >/dev/null 2>&1; then args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc); fi
  if [ -n "${Torch_DIR:-}" ]; then
    args+=(-DTorch_DIR="$Torch_DIR")
  else
    local tpy; tpy="$(find_torch_python)"
    args+=(-DCMAKE_PREFIX_PATH="$("$tpy" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')")
    python_test_modules "$tpy"
    args+=(-DXRAYLIFT_PYTHON="$tpy")
  fi
  [ -n "${XRAYLIFT_GLOO_INCLUDE:-}" ] && args+=(-DXRAYLIFT_GLOO_INCLUDE_DIR="$XRAYLIFT_GLOO_INCLUDE")
  export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
  log "configuring: cmake ${args[*]}"
  cmake "${args[@]}" >&2
}

# Gloo headers (the torch wheel has Gloo inside libtorch_cpu but ships no gloo/*.h): copied once into the cache from
# a local checkout the user names (XRAYLIFT_GLOO_SOURCE; nothing is downloaded), with a gloo/config.h for the TCP
# transport, so train/ can build the Gloo process group. Optional: without them the CPU data-parallel backend is
# train's built-in store all-reduce (docs/ARCHITECTURE.md) and the Gloo test skips.
GLOO_COMMIT="70dc360"
gloo_headers() {
  local dest="$CACHE/gloo-headers-$GLOO_COMMIT"
  if [ -f "$dest/gloo/algorithm.h" ]; then echo "$dest"; return; fi
  local src="${XRAYLIFT_GLOO_SOURCE:-}" tmp=""
  if [ -z "$src" ] || [ ! -d "$src/gloo" ]; then
    log "gloo headers: none (set XRAYLIFT_GLOO_SOURCE to a Gloo checkout); CPU data parallel uses the store backend"
    return
  fi
  mkdir -p "$CACHE"
  local stage; stage="$(mktemp -d "$CACHE/gloo-stage.XXXXXX")"
  if [ -d "$src/.git" ] || git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$src" archive "$GLOO_COMMIT" gloo | tar -x -C "$stage" || { rm -rf "$stage" "$tmp"; return; }
  else
    cp -r "$src/gloo" "$stage/"
  fi
  find "$stage/gloo" -type f ! -name '*.h' -delete
  cat > "$stage/gloo/config.h" <<'EOF2'
#pragma once
// Written by xraylift's scripts/setup.sh: the configuration torch's bundled Gloo uses on Linux (TCP transport).
#define GLOO_VERSION_MAJOR 0
#define GLOO_VERSION_MINOR 5
#define GLOO_VERSION_PATCH 0
#define GLOO_VERSION (GLOO_VERSION_MAJOR * 10000 + GLOO_VERSION_MINOR * 100 + GLOO_VERSION_PATCH)
#define GLOO_USE_CUDA 0
#define GLOO_USE_NCCL 0
#define GLOO_USE_ROCM 0
#define GLOO_USE_RCCL 0
#define GLOO_USE_REDIS 0
#define GLOO_USE_IBVERBS 0
#define GLOO_USE_MPI 0
#define GLOO_USE_AVX 0
#define GLOO_USE_LIBUV 0
#define GLOO_HAVE_TRANSPORT_TCP 1
#define GLOO_HAVE_TRANSPORT_TCP_TLS 0
#define GLOO_HAVE_TRANSPORT_IBVERBS 0
#define GLOO_HAVE_TRANSPORT_UV 0
EOF2
  mkdir -p "$CACHE"
  mv "$stage" "$dest" 2>/dev/null || rm -rf "$stage"
  [ -n "$tmp" ] && rm -rf "$tmp"
  log "gloo headers: $dest"
  echo "$dest"
}

install_apt
GLOO_INCLUDE="$(gloo_headers || true)"
[ -n "$GLOO_INCLUDE" ] && export XRAYLIFT_GLOO_INCLUDE="$GLOO_INCLUDE"
configure
log "done: build with 'cmake --build $BUILD_DIR' (or 'make demo' / 'make test')"
