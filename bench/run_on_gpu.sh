#!/usr/bin/env bash
# Everything the GPU machine is for, in stages, all inside one device call (10 minutes):
#
#   bench/run_on_gpu.sh build      configure and build in build-gpu/ (sm_90, cuDNN from PyTorch's wheel)
#   bench/run_on_gpu.sh test       the tests that need a GPU (each GPU test binary in a few shards)
#   bench/run_on_gpu.sh sanitize   every CUDA/cuDNN test binary under compute-sanitizer memcheck and racecheck
#   bench/run_on_gpu.sh bench      sgan_bench_kernels, sgan_bench_step, the PyTorch twin; JSON + markdown
#   bench/run_on_gpu.sh profile    Nsight Compute over our conv kernels on the batch-64 shapes: why
#                                  each is as slow as it is, before anyone changes it
#   bench/run_on_gpu.sh train RECIPE LABELS SEED [FLAGS...]   one training run (real MNIST in data/mnist)
#
# Several stages may be given in one call; `build test bench sanitize` is the whole check, most
# needed first. A session has 15 minutes of device time in all, so the call has a deadline:
# SGAN_DEADLINE_S (default 540) seconds after the script starts, every stage is stopped, and each
# long command runs under `timeout` with the time left; a stage cut short says so and fails, and
# the stages after it are skipped. Each stage's wall time goes into the machine facts
# (<stamp>-machine.txt), to plan the next call.
#
# Outputs. Every stage writes its logs and results to SGAN_WORK (default bench/results/staging) as
# <stamp>-<stage>.* with <stamp> = <date>-<commit>-<gpu>. After each stage they are packed into
# $OUT/<stamp>.tar.gz ($OUT is the device tool's output folder, which returns at most 8 files;
# default SGAN_WORK), beside copies of <stamp>-machine.txt, <stamp>.md and <stamp>-profile.md to
# read at once. Here, after the call:  mkdir bench/results/<stamp> && tar -xzf
# <files_at>/<stamp>.tar.gz -C bench/results/<stamp>/, add a README saying what ran and what it
# showed, and commit them.
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
# SGAN_TORCH_TIME (default "--all") sets the PyTorch twin's timing flags; its --budget is
# SGAN_TORCH_BUDGET_S (default 240) or less where less time is left, so its torch.compile cases
# (which compile once per recipe, batch and mode) are the ones left out when time is short, and
# listed as such.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-gpu}
WORK=${SGAN_WORK:-bench/results/staging}
OUT=${OUT:-$WORK}
mkdir -p "$WORK" "$OUT"
DEADLINE=${SGAN_DEADLINE_S:-540}
PACK_RESERVE=20 # seconds kept back from the deadline for the last packing
COMMIT=${SGAN_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
GPU=$( (nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || true) | head -n1 |
  tr -c 'A-Za-z0-9\n' '-' | sed 's/-\+/-/g; s/-$//')
GPU=${GPU:-no-gpu}
STAMP="$(date -u +%Y-%m-%d)-$COMMIT-$GPU"

# The script's own messages go to its stderr as it started (fd 3), also from inside a command whose
# output a stage sends to a log.
exec 3>&2
log() { printf '[run_on_gpu] %s\n' "$*" >&3; }

# Seconds left before the deadline, less the packing reserve.
time_left() { echo $((DEADLINE - SECONDS - PACK_RESERVE)); }

# bounded COMMAND...: COMMAND under `timeout` with the time left; 124 where the deadline stopped it
# (or came before it started).
bounded() {
  local left
  left=$(time_left)
  if [ "$left" -le 0 ]; then
    log "deadline reached: not started: $*"
    return 124
  fi
  local status=0
  timeout --kill-after=5 "$left" "$@" || status=$?
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then
    log "deadline reached: stopped: $*"
    return 124
  fi
  return "$status"
}

# worse STATUS STATUS: the one to report for a stage of several parts: a cut by the deadline (124)
# over a plain failure (1), either over success.
worse() {
  if [ "$1" -eq 124 ] || [ "$2" -eq 124 ]; then echo 124
  elif [ "$1" -ne 0 ] || [ "$2" -ne 0 ]; then echo 1
  else echo 0; fi
}

# Everything so far into $OUT/<stamp>.tar.gz (written beside, then renamed, so a call cut off
# mid-pack still returns the previous one), with the machine facts and summary beside it.
pack() {
  local files=() path
  for path in "$WORK/$STAMP"*; do
    case $path in *.tar.gz | *.tar.gz.partial) continue ;; esac
    [ -e "$path" ] && files+=("$(basename "$path")")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  tar -czf "$OUT/$STAMP.tar.gz.partial" -C "$WORK" "${files[@]}"
  mv "$OUT/$STAMP.tar.gz.partial" "$OUT/$STAMP.tar.gz"
  if [ "$(cd "$WORK" && pwd)" != "$(cd "$OUT" && pwd)" ]; then
    for f in "$STAMP-machine.txt" "$STAMP.md" "$STAMP-profile.md"; do
      [ -f "$WORK/$f" ] && cp "$WORK/$f" "$OUT/"
    done
  fi
  return 0
}

environment() {
  export CMAKE_PREFIX_PATH=$PWD/.deps/usr
  local cudnn
  cudnn=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null || true)
  [ -n "$cudnn" ] && export CUDNN_ROOT=$cudnn
  export LD_LIBRARY_PATH=$PWD/.deps/usr/lib/x86_64-linux-gnu${cudnn:+:$cudnn/lib}:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
  export PATH=/usr/local/cuda/bin:$PATH
}

# The facts every result file carries. A later call on the same warm machine (same stamp) adds its
# own below the earlier ones', after a blank line, so each call's stage times survive in the
# tarball (summarize.py reads the first value of each key).
describe_machine() {
  local facts
  facts=$({
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $COMMIT"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader \
      2>/dev/null | sed 's/^/gpu: /' || echo "gpu: none (nvidia-smi failed)"
    echo "cuda: $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
    echo "cudnn root: ${CUDNN_ROOT:-none given (the build looks in the CUDA toolkit and the system)}"
    python3 -c 'import torch; print("torch:", torch.__version__, "cudnn", torch.backends.cudnn.version())' 2>/dev/null || true
  })
  [ ! -s "$WORK/$STAMP-machine.txt" ] || echo >> "$WORK/$STAMP-machine.txt"
  echo "$facts" >> "$WORK/$STAMP-machine.txt"
  echo "$facts" >&2
}

stage_build() {
  [ -d .deps/usr ] || { log "no .deps/: run ../shared/device/pack-deps.sh here and carry .deps"; exit 1; }
  # The emulated tests (our CUDA code on the CPU) are CI's; here the GPU runs the real thing. The
  # machine's compiler is not CI's: a warning only it gives is logged (grep the build log), not fatal.
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSGAN_CUDA_ARCHS=90 \
    -DSGAN_EMULATED_TESTS=OFF -DSGAN_WARNINGS_AS_ERRORS=OFF \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"} \
    > "$WORK/$STAMP-build.log" 2>&1
  local status=0
  bounded cmake --build "$BUILD_DIR" -j "$(nproc)" >> "$WORK/$STAMP-build.log" 2>&1 || status=$?
  [ $status -eq 0 ] || { tail -n 40 "$WORK/$STAMP-build.log"; return $status; }
  # Which cuDNN the twins link: the build's own line (CUDNN_ROOT, else the system's).
  grep -h 'sgan: cuDNN' "$WORK/$STAMP-build.log" | sed 's/^-- sgan: /build: /' \
    >> "$WORK/$STAMP-machine.txt" || true
  log "built into $BUILD_DIR;" \
    "$(grep -c "warning:" "$WORK/$STAMP-build.log" || true) compiler warnings in $WORK/$STAMP-build.log"
}

# The CPU tests run in CI on every submission; device time goes to the ones only a GPU can run
# (labels kernels-cuda-gpu, kernels-cudnn-gpu, engine-gpu, pytorch-gpu). ctest would start one
# process, so one CUDA context (and cuBLAS and cuDNN handles), for each of their ~1,400 cases; each
# GPU test binary instead runs as SGAN_TEST_SHARDS (default 4) gtest shards, SGAN_TEST_JOBS
# (default 12) at a time, which keeps the CPU references in parallel for a tenth of the processes.
# Then ctest runs the rest (the PyTorch replays, label pytorch-gpu). SGAN_TEST_LABELS=L runs
# ctest alone over label L instead, as CI does (L=. runs everything).
gpu_test_binaries() {
  local binary
  for binary in "$BUILD_DIR"/tests/kernels_cuda_* "$BUILD_DIR"/tests/kernels_cudnn_* "$BUILD_DIR"/tests/engine_gpu_*; do
    if [ -f "$binary" ] && [ -x "$binary" ]; then echo "$binary"; fi
  done
}

# test_shard BINARY SHARD SHARDS LOGDIR: one gtest shard, its output in LOGDIR; says how it ended
# (exit 77: every case it ran skipped, tests/support/test_main.cpp).
test_shard() {
  local name result=0
  name="$(basename "$1")-$(($2 + 1))of$3"
  GTEST_SHARD_INDEX=$2 GTEST_TOTAL_SHARDS=$3 "$1" --gtest_brief=1 > "$4/$name.log" 2>&1 || result=$?
  case $result in
    0) echo "=== PASSED $name" ;;
    77) echo "=== SKIPPED $name (every case skipped)" ;;
    *) echo "=== FAILED $name (exit $result)" ;;
  esac
}

stage_test() {
  local status=0 logfile="$WORK/$STAMP-test.log"
  if [ -n "${SGAN_TEST_LABELS:-}" ]; then
    bounded ctest --test-dir "$BUILD_DIR" --output-on-failure -j 8 -L "$SGAN_TEST_LABELS" \
      > "$logfile" 2>&1 || status=$?
    tail -n 15 "$logfile"
    return "$status"
  fi
  local shards=${SGAN_TEST_SHARDS:-4} logdir="$WORK/$STAMP-test"
  mkdir -p "$logdir"
  export -f test_shard
  gpu_test_binaries | while read -r binary; do
    for ((i = 0; i < shards; ++i)); do echo "$binary $i $shards $logdir"; done
  done | bounded xargs -P "${SGAN_TEST_JOBS:-12}" -L 1 bash -c 'test_shard "$@"' _ \
    > "$logfile" 2>&1 || status=$?
  # Every failing case's name, from the shards' brief logs.
  grep -h '^\[  FAILED  \]' "$logdir"/*.log 2>/dev/null | sort -u >> "$logfile" || true
  bounded ctest --test-dir "$BUILD_DIR" --output-on-failure -j 8 -L pytorch-gpu \
    >> "$logfile" 2>&1 || status=$(worse "$status" $?)
  local passed skipped failed unfinished
  passed=$(grep -c '^=== PASSED' "$logfile" || true)
  skipped=$(grep -c '^=== SKIPPED' "$logfile" || true)
  failed=$(grep -c '^=== FAILED' "$logfile" || true)
  unfinished=$(($(gpu_test_binaries | wc -l) * shards - passed - skipped - failed))
  [ "$failed" -eq 0 ] || status=$(worse "$status" 1)
  log "tests: $passed shards passed, $skipped skipped, $failed failed, $unfinished unfinished;" \
    "$(grep -c '^\[  FAILED  \]' "$logfile" || true) failing cases (log $logfile)"
  tail -n 15 "$logfile"
  return "$status"
}

# The conv tests' SGAN layers run at batch 2 here (SGAN_TEST_SGAN_LAYER_BATCH): the same
# geometries and tile edges as at the recipes' batches, for a fraction of the sanitizer's time.
stage_sanitize() {
  command -v compute-sanitizer > /dev/null || { log "compute-sanitizer is not on the PATH"; return 1; }
  local status=0
  for tool in memcheck racecheck; do
    local logfile="$WORK/$STAMP-sanitize-$tool.log"
    : > "$logfile"
    for binary in $(gpu_test_binaries); do
      echo "=== $tool $(basename "$binary")" >> "$logfile"
      local result=0
      SGAN_TEST_SGAN_LAYER_BATCH=2 bounded compute-sanitizer --tool "$tool" --error-exitcode 99 \
        "$binary" --gtest_brief=1 >> "$logfile" 2>&1 || result=$?
      case $result in
        0) ;;
        77) echo "=== SKIPPED (every case skipped): $(basename "$binary")" >> "$logfile" ;;
        124) status=124; echo "=== NOT FINISHED (deadline): $(basename "$binary")" >> "$logfile" ;;
        *) status=1; echo "=== FAILED: $(basename "$binary")" >> "$logfile" ;;
      esac
    done
    log "$tool: $(grep -c '^=== FAILED' "$logfile") failing, $(grep -c '^=== SKIPPED' "$logfile") skipped, $(grep -c '^=== NOT FINISHED' "$logfile") unfinished binaries (log $logfile)"
  done
  return "$status"
}

# Each part runs even where an earlier one failed; the summary takes what there is.
stage_bench() {
  local status=0
  bounded "$BUILD_DIR/bin/sgan_bench_kernels" --benchmark_out="$WORK/$STAMP-kernels.json" \
    --benchmark_out_format=json > "$WORK/$STAMP-kernels.txt" 2>&1 ||
    { status=$(worse "$status" $?); log "sgan_bench_kernels failed: see $WORK/$STAMP-kernels.txt"; }
  bounded "$BUILD_DIR/bin/sgan_bench_step" --benchmark_out="$WORK/$STAMP-step.json" \
    --benchmark_out_format=json > "$WORK/$STAMP-step.txt" 2>&1 ||
    { status=$(worse "$status" $?); log "sgan_bench_step failed: see $WORK/$STAMP-step.txt"; }
  # The twin starts no case after its budget: SGAN_TORCH_BUDGET_S (default 240, so that stages
  # after this one get time too), at most the time left less what its longest case (a
  # torch.compile one, compiling first) and the summary may take.
  local budget=$(($(time_left) - 90))
  [ "$budget" -le "${SGAN_TORCH_BUDGET_S:-240}" ] || budget=${SGAN_TORCH_BUDGET_S:-240}
  [ "$budget" -ge 1 ] || budget=1
  # shellcheck disable=SC2086 # SGAN_TORCH_TIME: the twin's flags, e.g. "--recipe article --batch 64"
  bounded bench/pytorch/with_torch.sh bench/pytorch/sgan_torch.py time ${SGAN_TORCH_TIME:---all} \
    --budget $budget > "$WORK/$STAMP-pytorch.json" 2> "$WORK/$STAMP-pytorch.log" ||
    { status=$(worse "$status" $?); log "the PyTorch twin failed: see $WORK/$STAMP-pytorch.log"; }
  python3 bench/summarize.py "$WORK/$STAMP-machine.txt" "$WORK/$STAMP-kernels.json" \
    "$WORK/$STAMP-step.json" "$WORK/$STAMP-pytorch.json" --json "$WORK/$STAMP.json" > "$WORK/$STAMP.md"
  tail -n 40 "$WORK/$STAMP.md"
  return "$status"
}

# ncu over sgan_bench_kernels' smoke mode (each case called once or twice; ncu replays each launch
# per section) on the cases SGAN_PROFILE_CASES matches (a Google Benchmark filter; default the
# convolution cases still slower than cuDNN on 2026-12-04, G.to_image and G.deconv1 at batch 64,
# D.conv1 at 3n = 192 for its split second passes and bias gradient, and D.conv2 at 192, the
# plainest 64 x 64-tile product, each in the default variant and in the candidates not profiled
# on 2026-12-04 (kernels/cuda/conv_variants.h): ~175 launches), profiling the kernels
# SGAN_PROFILE_KERNELS matches (default ours: add cuDNN's names to see what it reaches), at most
# SGAN_PROFILE_LAUNCHES of them (~0.65 s each). Clocks as found (--clock-control none, METHOD.md). The report
# (.ncu-rep), its details page as CSV, which this machine can read without ncu, and that page as
# one markdown line a launch (bench/profile_table.py). Beside the sections, PROFILE_METRICS: the
# warp instructions and thread FFMAs executed (the FFMA share, bench/TUNING.md prediction 17) and
# the cycles per issued instruction each stall reason costs, which the sections' details page
# leaves out (their chart needs PC sampling): what holds the 64 x 64 tiles at 50-65% of their
# issue slots on 2026-12-04 (barrier, long scoreboard, MIO throttle ...) before predictions 4 and
# 17 are judged.
PROFILE_STALLS=(barrier branch_resolving dispatch_stall drain imc_miss lg_throttle long_scoreboard
  math_pipe_throttle membar mio_throttle misc no_instruction not_selected selected short_scoreboard
  sleeping tex_throttle wait)
PROFILE_METRICS="smsp__inst_executed.sum,smsp__sass_thread_inst_executed_op_ffma_pred_on.sum$(
  printf ',smsp__average_warps_issue_stalled_%s_per_issue_active.ratio' "${PROFILE_STALLS[@]}")"
stage_profile() {
  local ncu candidate
  ncu=$(command -v ncu || true)
  for candidate in /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do
    [ -n "$ncu" ] || { [ -x "$candidate" ] && ncu=$candidate; }
  done
  [ -n "$ncu" ] || { log "no ncu: not on the PATH, in /usr/local/cuda/bin or /opt/nvidia/nsight-compute"; return 1; }
  local status=0 metrics=(--metrics "$PROFILE_METRICS")
  : > "$WORK/$STAMP-profile.log"
  while :; do
    status=0
    bounded "$ncu" --clock-control none --kernel-name "regex:${SGAN_PROFILE_KERNELS:-conv_gemm_kernel|weight_grad_kernel|sum_partials_kernel|finish_split_kernel|conv_direct|channel_sum}" \
      --launch-count "${SGAN_PROFILE_LAUNCHES:-200}" --section SpeedOfLight \
      --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section Occupancy \
      --section LaunchStats --section WarpStateStats --section SchedulerStats \
      "${metrics[@]}" --export "$WORK/$STAMP-profile" --force-overwrite \
      "$BUILD_DIR/bin/sgan_bench_kernels" --smoke \
      "--benchmark_filter=${SGAN_PROFILE_CASES:-^(candidate/(large_thread_tiles|double_buffered_slices|split_k_small_grids|direct_few_channels)/)?conv.*/(article\.G\.(to_image|deconv1)/n64|article\.D\.conv[12]/n192)/}" \
      >> "$WORK/$STAMP-profile.log" 2>&1 || status=$?
    # An ncu that does not know one of the metrics refuses the whole run: once more without them.
    if [ "$status" -ne 0 ] && [ ${#metrics[@]} -gt 0 ] &&
      grep -qi 'failed to find metric' "$WORK/$STAMP-profile.log"; then
      log "ncu refused PROFILE_METRICS (see $STAMP-profile.log): profiling with the sections only"
      metrics=()
    else
      break
    fi
  done
  if [ -f "$WORK/$STAMP-profile.ncu-rep" ]; then
    "$ncu" --import "$WORK/$STAMP-profile.ncu-rep" --page details --csv \
      > "$WORK/$STAMP-profile.csv" 2>> "$WORK/$STAMP-profile.log" || status=$(worse "$status" 1)
    log "profiled $(grep -c '"Duration"' "$WORK/$STAMP-profile.csv" || true) launches"
    python3 bench/profile_table.py "$WORK/$STAMP-profile.csv" > "$WORK/$STAMP-profile.md" \
      2>> "$WORK/$STAMP-profile.log" || status=$(worse "$status" 1)
  fi
  tail -n 5 "$WORK/$STAMP-profile.log"
  return "$status"
}

# train RECIPE LABELS SEED [FLAGS...]: the run's small outputs (configuration, labeled indices,
# metrics, summary, log, last sample grid) go to $OUT; its checkpoints stay in runs/ on the machine.
stage_train() {
  local recipe=$1 labels=$2 seed=$3
  shift 3
  # A warm machine keeps runs/ from an earlier call, where sgan_train would refuse the directory:
  # each call's run gets its own.
  local run dest="$WORK/$STAMP-train-$recipe-$labels-s$seed"
  run="runs/$recipe-$labels-s$seed-$(date -u +%H%M%S)"
  local status=0
  mkdir -p runs
  bounded "$BUILD_DIR/bin/sgan_train" --recipe "$recipe" --labels "$labels" --seed "$seed" \
    --data "${SGAN_DATA:-data/mnist-gz}" --out "$run" "$@" > "$run.log" 2>&1 || status=$?
  rm -rf "$dest" && mkdir -p "$dest"
  cp "$run.log" "$dest/train.log"
  for f in config.json labeled_indices.json metrics.jsonl summary.json; do
    [ -f "$run/$f" ] && cp "$run/$f" "$dest/"
  done
  local last_grid
  for last_grid in "$run"/samples/*.png; do :; done # the glob sorts: the last is the newest
  [ -f "$last_grid" ] && cp "$last_grid" "$dest/"
  tail -n 3 "$run.log"
  return "$status"
}

[ $# -gt 0 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
for stage in "$@"; do
  case "$stage" in
    build|test|sanitize|bench|profile|train) ;;
    *) log "unknown stage '$stage'"; exit 2 ;;
  esac
  [ "$stage" = train ] && break  # the rest are train's arguments
done
environment
describe_machine
echo "deadline: ${DEADLINE} s" >> "$WORK/$STAMP-machine.txt"
failed=()
while [ $# -gt 0 ]; do
  stage=$1
  shift
  began=$SECONDS
  result=0
  if [ "$(time_left)" -le 0 ]; then
    result=124
    log "deadline reached: stage $stage not started"
  else
    case "$stage" in
      build|test|sanitize|bench|profile) "stage_$stage" || result=$? ;;
      train) stage_train "$@" || result=$?; set -- ;;
    esac
  fi
  # Device time is scarce: every stage's length goes into the machine facts, to plan the next call.
  case $result in
    0) outcome="" ;;
    124) outcome=" (cut short by the deadline)" ;;
    *) outcome=" (failed)" ;;
  esac
  echo "stage $stage: $((SECONDS - began)) s$outcome" | tee -a "$WORK/$STAMP-machine.txt" >&2
  [ $result -eq 0 ] || failed+=("$stage")
  pack
  # Nothing after a failed build can run.
  [ "$stage" != build ] || [ $result -eq 0 ] || break
done
[ ${#failed[@]} -eq 0 ] || { log "failed stages: ${failed[*]}"; exit 1; }
