#!/usr/bin/env bash
# ctest: records our first ITERATIONS iterations of RECIPE on DEVICE (with the recorder's further
# FLAGS) and replays them in PyTorch (sgan_torch.py check). Exit 77 (skipped) where the device or
# PyTorch is not usable here.
#
#   bench/pytorch/replay_test.sh RECORDER RECIPE DEVICE ITERATIONS WORKDIR [FLAGS...]
set -euo pipefail
recorder=$1 recipe=$2 device=$3 iterations=$4 workdir=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$workdir"
"$recorder" --recipe "$recipe" --device "$device" --iterations "$iterations" --out "$workdir" "$@"
exec "$here/with_torch.sh" "$here/sgan_torch.py" check "$workdir"
