#!/usr/bin/env bash
# ctest: records our first iteration of RECIPE on DEVICE and replays it in PyTorch
# (sgan_torch.py check). Exit 77 (skipped) where the device or PyTorch is not usable here.
#
#   bench/pytorch/first_iteration_test.sh RECORDER RECIPE DEVICE WORKDIR
set -euo pipefail
recorder=$1 recipe=$2 device=$3 workdir=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$workdir"
"$recorder" --recipe "$recipe" --device "$device" --out "$workdir"
exec "$here/with_torch.sh" "$here/sgan_torch.py" check "$workdir"
