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
  libtinyxml2-dev
)

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

configure() {
  local cuda="${XRAYLIFT_CUDA:-}"
  if [ -z "$cuda" ]; then
    if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then cuda=ON; else cuda=OFF; fi
  fi
  local args=(-S "$ROOT" -B "$BUILD_DIR" -G Ninja
    -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DXRAYLIFT_CUDA="$cuda"
    -DCMAKE_CUDA_ARCHITECTURES="${XRAYLIFT_CUDA_ARCH:-90}")
  [ "$cuda" = ON ] && [ -x /usr/local/cuda/bin/nvcc ] && args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
  if [ -n "${Torch_DIR:-}" ]; then
    args+=(-DTorch_DIR="$Torch_DIR")
  else
    local tpy; tpy="$(find_torch_python)"
    args+=(-DCMAKE_PREFIX_PATH="$("$tpy" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
           -DXRAYLIFT_TORCH_PYTHON="$tpy")
  fi
  if command -v ccache >/dev/null 2>&1; then
    args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  fi
  export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
  log "configuring: cmake ${args[*]}"
  cmake "${args[@]}" >&2
}

install_apt
configure
log "done: build with 'cmake --build $BUILD_DIR' (or 'make demo' / 'make test')"
