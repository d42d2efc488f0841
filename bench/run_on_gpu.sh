#!/usr/bin/env bash
# Everything the GPU machine is for, in stages, so each fits one device call (10 minutes):
#
#   bench/run_on_gpu.sh build      configure and build in build-gpu/ (sm_90, cuDNN from PyTorch's wheel)
#   bench/run_on_gpu.sh test       the whole ctest suite, GPU tests included
#   bench/run_on_gpu.sh sanitize   every CUDA/cuDNN test binary under compute-sanitizer memcheck and racecheck
#   bench/run_on_gpu.sh bench      sgan_bench_kernels, sgan_bench_step, the PyTorch twin; JSON + markdown
#   bench/run_on_gpu.sh train RECIPE LABELS SEED [FLAGS...]   one training run (real MNIST in data/mnist)
#
# Several stages may be given in one call (`build test sanitize`); each one's wall time is added to
# the machine facts (<stamp>-machine.txt). Every stage writes its log and
# results to $OUT (the device tool's output folder; default bench/results/staging) as
# <date>-<commit>-<gpu>-<stage>.*, which are then copied into bench/results/ and committed.
#
# The GPU machine has nvcc, CMake, ninja, PyTorch (with cuDNN 9 inside its wheel), compute-sanitizer
# and ncu, but none of our Debian libraries and no network. Before the call, on this machine:
#   ../shared/device/pack-deps.sh          (unpacks the Debian packages into .deps/)
#   scripts/fetch_mnist.sh data/mnist && mkdir -p data/mnist-gz &&
#     for f in data/mnist/*-ubyte; do gzip -c "$f" > "data/mnist-gz/$(basename "$f").gz"; done
#                                          (for `train`: 11 MB gzipped, where the raw files' 55 MB
#                                          and .deps would pass the 64 MiB carry limit)
# and call the device with carry [".deps", "data/mnist-gz"] and SGAN_COMMIT=$(git rev-parse --short
# HEAD) in the command (the device's copy of the tree has no .git). SGAN_DATA (default
# data/mnist-gz) is where `train` reads MNIST; the IDX reader takes gzip files as they are.
# SGAN_TORCH_TIME (default "--all --budget 300") sets the PyTorch twin's timing flags: its
# torch.compile cases compile once per recipe, batch and mode (not yet timed on the GPU machine),
# and the budget keeps the stage inside one device call (the cases it leaves out are listed).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-gpu}
OUT=${OUT:-bench/results/staging}
mkdir -p "$OUT"
COMMIT=${SGAN_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
GPU=$( (nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || true) | head -n1 |
  tr -c 'A-Za-z0-9\n' '-' | sed 's/-\+/-/g; s/-$//')
GPU=${GPU:-no-gpu}
STAMP="$(date -u +%Y-%m-%d)-$COMMIT-$GPU"

log() { printf '[run_on_gpu] %s\n' "$*" >&2; }

environment() {
  export CMAKE_PREFIX_PATH=$PWD/.deps/usr
  local cudnn
  cudnn=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null || true)
  [ -n "$cudnn" ] && export CUDNN_ROOT=$cudnn
  export LD_LIBRARY_PATH=$PWD/.deps/usr/lib/x86_64-linux-gnu${cudnn:+:$cudnn/lib}:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
  export PATH=/usr/local/cuda/bin:$PATH
}

# The facts every result file carries.
describe_machine() {
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $COMMIT"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader \
      2>/dev/null | sed 's/^/gpu: /' || echo "gpu: none (nvidia-smi failed)"
    echo "cuda: $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
    echo "cudnn: ${CUDNN_ROOT:-none}"
    python3 -c 'import torch; print("torch:", torch.__version__, "cudnn", torch.backends.cudnn.version())' 2>/dev/null || true
  } > "$OUT/$STAMP-machine.txt"
  cat "$OUT/$STAMP-machine.txt" >&2
}

stage_build() {
  [ -d .deps/usr ] || { log "no .deps/: run ../shared/device/pack-deps.sh here and carry .deps"; exit 1; }
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSGAN_CUDA_ARCHS=90 \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"} \
    > "$OUT/$STAMP-build.log" 2>&1
  cmake --build "$BUILD_DIR" -j "$(nproc)" >> "$OUT/$STAMP-build.log" 2>&1 ||
    { tail -n 40 "$OUT/$STAMP-build.log"; exit 1; }
  log "built into $BUILD_DIR"
}

stage_test() {
  local status=0
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j 8 > "$OUT/$STAMP-ctest.log" 2>&1 || status=$?
  tail -n 15 "$OUT/$STAMP-ctest.log"
  return $status
}

stage_sanitize() {
  local status=0
  for tool in memcheck racecheck; do
    local logfile="$OUT/$STAMP-sanitize-$tool.log"
    : > "$logfile"
    for binary in "$BUILD_DIR"/tests/kernels_cuda_* "$BUILD_DIR"/tests/kernels_cudnn_* "$BUILD_DIR"/tests/engine_gpu_*; do
      [ -x "$binary" ] || continue
      echo "=== $tool $(basename "$binary")" >> "$logfile"
      compute-sanitizer --tool "$tool" --error-exitcode 99 "$binary" --gtest_brief=1 >> "$logfile" 2>&1 ||
        { status=1; echo "=== FAILED: $(basename "$binary")" >> "$logfile"; }
    done
    log "$tool: $(grep -c '^=== FAILED' "$logfile") failing binaries (log $logfile)"
  done
  return $status
}

# Each part runs even where an earlier one failed; the summary takes what there is.
stage_bench() {
  local status=0
  "$BUILD_DIR/bin/sgan_bench_kernels" --benchmark_out="$OUT/$STAMP-kernels.json" \
    --benchmark_out_format=json > "$OUT/$STAMP-kernels.txt" 2>&1 ||
    { status=1; log "sgan_bench_kernels failed: see $OUT/$STAMP-kernels.txt"; }
  "$BUILD_DIR/bin/sgan_bench_step" --benchmark_out="$OUT/$STAMP-step.json" \
    --benchmark_out_format=json > "$OUT/$STAMP-step.txt" 2>&1 ||
    { status=1; log "sgan_bench_step failed: see $OUT/$STAMP-step.txt"; }
  # shellcheck disable=SC2086 # SGAN_TORCH_TIME: the twin's flags, e.g. "--recipe article --batch 64"
  bench/pytorch/with_torch.sh bench/pytorch/sgan_torch.py time \
    ${SGAN_TORCH_TIME:---all --budget 300} > "$OUT/$STAMP-pytorch.json" 2> "$OUT/$STAMP-pytorch.log" ||
    { status=1; log "the PyTorch twin failed: see $OUT/$STAMP-pytorch.log"; }
  python3 bench/summarize.py "$OUT/$STAMP-machine.txt" "$OUT/$STAMP-kernels.json" \
    "$OUT/$STAMP-step.json" "$OUT/$STAMP-pytorch.json" --json "$OUT/$STAMP.json" > "$OUT/$STAMP.md"
  tail -n 40 "$OUT/$STAMP.md"
  return $status
}

# train RECIPE LABELS SEED [FLAGS...]: the run's small outputs (configuration, labeled indices,
# metrics, summary, log, last sample grid) go to $OUT; its checkpoints stay in runs/ on the machine.
stage_train() {
  local recipe=$1 labels=$2 seed=$3
  shift 3
  local run="runs/$recipe-$labels-s$seed" dest="$OUT/$STAMP-train-$recipe-$labels-s$seed"
  local status=0
  mkdir -p runs
  "$BUILD_DIR/bin/sgan_train" --recipe "$recipe" --labels "$labels" --seed "$seed" \
    --data "${SGAN_DATA:-data/mnist-gz}" --out "$run" "$@" > "$run.log" 2>&1 || status=$?
  mkdir -p "$dest"
  cp "$run.log" "$dest/train.log"
  for f in config.json labeled_indices.json metrics.jsonl summary.json; do
    [ -f "$run/$f" ] && cp "$run/$f" "$dest/"
  done
  local last_grid
  last_grid=$(ls "$run"/samples/*.png 2>/dev/null | tail -n 1)
  [ -n "$last_grid" ] && cp "$last_grid" "$dest/"
  tail -n 3 "$run.log"
  return $status
}

environment
describe_machine
[ $# -gt 0 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
failed=()
while [ $# -gt 0 ]; do
  stage=$1
  shift
  began=$SECONDS
  case "$stage" in
    build) stage_build ;;  # nothing after it can run without a build
    test|sanitize|bench) "stage_$stage" || failed+=("$stage") ;;
    train) stage_train "$@" || failed+=(train); set -- ;;
    *) log "unknown stage '$stage'"; exit 2 ;;
  esac
  # Device time is scarce: every stage's length goes into the machine facts, to plan the next call.
  echo "stage $stage: $((SECONDS - began)) s" | tee -a "$OUT/$STAMP-machine.txt" >&2
done
[ ${#failed[@]} -eq 0 ] || { log "failed stages: ${failed[*]}"; exit 1; }
