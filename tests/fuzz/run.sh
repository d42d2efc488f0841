#!/usr/bin/env bash
# Fuzzes the readers of what a user hands sgan (checkpoints, MNIST files, a run's config.json)
# with libFuzzer under AddressSanitizer and UndefinedBehaviorSanitizer. Not part of ctest: a
# finding becomes a case in the reader's own test (tests/engine/*, tests/apps/*).
#
#   tests/fuzz/run.sh [SECONDS_EACH] [OUT_DIR]      (defaults: 60, build-fuzz in the repository)
#
# Needs clang++ with libFuzzer (Debian: clang, libclang-rt-14-dev), python3, and the build's fmt,
# nlohmann-json and zlib. Each target starts from a few valid inputs written here and runs for
# SECONDS_EACH; a crash, an uncaught exception or a sanitizer report stops it and leaves its input
# as OUT_DIR/<target>/crash-*. Exits 1 if any target found something.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/build-fuzz}
out=$(mkdir -p "$out" && cd "$out" && pwd)
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  "-I$root")
log() { printf '[fuzz] %s\n' "$*" >&2; }

# Valid inputs to start from.
mkdir -p "$out/safetensors/seeds" "$out/idx/seeds" "$out/config/seeds"
python3 - "$out" <<'PY'
import gzip, json, struct, sys
out = sys.argv[1]
header = {"__metadata__": {"format": "sgan", "epoch": "3"},
          "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
          "b": {"dtype": "I64", "shape": [], "data_offsets": [24, 32]},
          "c": {"dtype": "U8", "shape": [0, 4], "data_offsets": [32, 32]}}
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(f"{out}/safetensors/seeds/three-tensors", "wb").write(
    struct.pack("<Q", len(text)) + text + bytes(range(32)))
images = bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 3, 3) + bytes(range(18))
labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + bytes(5)
# The first byte chooses the rank the reader expects: 1 + byte % 4.
open(f"{out}/idx/seeds/images", "wb").write(bytes([2]) + images)
open(f"{out}/idx/seeds/images-gz", "wb").write(bytes([2]) + gzip.compress(images))
open(f"{out}/idx/seeds/labels-gz", "wb").write(bytes([0]) + gzip.compress(labels))
config = {"batch_size": 100, "beta1": 0.5, "checkpoint_every": 0, "cuda_graph": True,
          "data_dir": "data/mnist", "decay_start_epoch": 0, "device": "cpu", "ema_rate": 0.0001,
          "epochs": 300, "eval_every": 0, "fake_logit": "zero", "final_lr": 0.003,
          "g_loss": "feature-matching", "init_batch": 500, "labels": 100, "lr": 0.003,
          "out_dir": "runs/improved-100-s1", "recipe": "improved", "resume": "",
          "sample_every": 0, "seed": 1, "steps": 0, "supervised_only": False, "tf32": False,
          "unsup_weight": 0.5}
open(f"{out}/config/seeds/improved", "w").write(json.dumps(config))
PY

found=0
# fuzz TARGET SOURCES... LIBRARIES: builds tests/fuzz/TARGET_fuzz.cpp with the engine SOURCES
# and runs it.
fuzz() {
  local target=$1 sources=() libraries=()
  shift
  for arg in "$@"; do
    case $arg in -l*) libraries+=("$arg") ;; *) sources+=("$root/$arg") ;; esac
  done
  log "$target: building"
  clang++ "${flags[@]}" "$root/tests/fuzz/${target}_fuzz.cpp" "${sources[@]}" "${libraries[@]}" \
    -o "$out/$target/fuzz"
  log "$target: fuzzing for $seconds s"
  mkdir -p "$out/$target/corpus"
  if (cd "$out/$target" && ./fuzz -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
        corpus seeds > fuzz.log 2>&1); then
    log "$target: nothing found ($(grep -o 'Done [0-9]* runs' "$out/$target/fuzz.log"))"
  else
    log "$target: FOUND something: $out/$target/fuzz.log, input in $out/$target/"
    found=1
  fi
}

fuzz safetensors engine/io/safetensors.cpp engine/io/atomic_file.cpp -lfmt
fuzz idx engine/data/idx.cpp -lfmt -lz
fuzz config engine/sgan/config.cpp -lfmt
exit "$found"
