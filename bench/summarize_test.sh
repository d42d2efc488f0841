#!/usr/bin/env bash
# ctest: the bench stage's pipeline end to end in smoke mode (bench/run_on_gpu.sh without a GPU):
# sgan_bench_kernels, sgan_bench_step and the PyTorch twin write their outputs, summarize.py
# merges them into one markdown report and one JSON file, and the report holds each one's rows.
#
#   bench/summarize_test.sh KERNELS_BINARY STEP_BINARY WORKDIR
set -euo pipefail
kernels=$1 step=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out"
echo "gpu: none (smoke test)" > "$out/machine.txt"
"$kernels" --smoke --benchmark_out="$out/kernels.json" --benchmark_out_format=json > /dev/null
"$step" --smoke --benchmark_out="$out/step.json" --benchmark_out_format=json > /dev/null
"$here/pytorch/with_torch.sh" "$here/pytorch/sgan_torch.py" time --smoke > "$out/pytorch.json"
python3 "$here/summarize.py" "$out/machine.txt" "$out/kernels.json" "$out/step.json" \
  "$out/pytorch.json" --json "$out/merged.json" > "$out/summary.md"
for expected in '^\* gpu: none (smoke test)$' '^## Whole iteration' '| pytorch-eager |' \
  '^| step/improved/' '^## sgan_bench_kernels'; do
  grep -q -- "$expected" "$out/summary.md" ||
    { echo "summary.md lacks '$expected':"; cat "$out/summary.md"; exit 1; }
done
python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); assert m["step"] and m["pytorch"]' \
  "$out/merged.json"
echo "summary.md and merged.json hold the step benchmark's and the twin's rows"
