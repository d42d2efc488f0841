#!/usr/bin/env bash
# Runs a Python script of the twin with the first Python that has PyTorch and numpy: the GPU
# machine's python3 (its venv holds torch), else Debian's /usr/bin/python3 (python3-torch, which
# ./sgan.sh test installs). Exits 77 (ctest: skipped) where neither has them.
#
#   bench/pytorch/with_torch.sh SCRIPT [ARGS...]
set -euo pipefail
for python in python3 /usr/bin/python3; do
  if command -v "$python" >/dev/null && "$python" -c 'import torch, numpy' 2>/dev/null; then
    exec "$python" "$@"
  fi
done
echo "with_torch.sh: no python3 with torch and numpy here" \
  "(Debian: apt-get install python3-torch): skipped" >&2
exit 77
