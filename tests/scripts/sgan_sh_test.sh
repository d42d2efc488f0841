#!/usr/bin/env bash
# ctest: what `./sgan.sh train FLAGS` fetches and runs: MNIST goes where sgan_train will read it
# (its own --data, else SGAN_DATA, else data/mnist) and --data reaches sgan_train once; asking for
# help fetches nothing. sgan.sh is sourced with its build and fetch replaced by recorders.
#
#   tests/scripts/sgan_sh_test.sh WORKDIR
set -euo pipefail
work=$1
rm -rf "$work" && mkdir -p "$work/bin"
# shellcheck source=../../sgan.sh
source "$(dirname "$0")/../../sgan.sh"
build() { :; }
fetch_mnist() { printf '%s\n' "$1" >> "$work/fetched"; }
BUILD_DIR=$work
cat > "$work/bin/sgan_train" <<'STAND_IN'
#!/usr/bin/env bash
printf '%s\n' "$@" > "$(dirname "$0")/../ran"
STAND_IN
chmod +x "$work/bin/sgan_train"

# expect "FLAGS" FETCHED "ARGS": `train FLAGS` fetched into FETCHED (nothing: none) and ran
# sgan_train with ARGS (one per line).
expect() {
  local flags=$1 fetched=$2 args=$3
  rm -f "$work/fetched" "$work/ran"
  eval "train $flags"
  local got_fetched got_args
  got_fetched=$(cat "$work/fetched" 2>/dev/null || true)
  got_args=$(cat "$work/ran")
  [ "$got_fetched" = "$fetched" ] ||
    { echo "train $flags fetched into '$got_fetched', expected '$fetched'"; exit 1; }
  [ "$got_args" = "$args" ] || {
    printf 'train %s ran sgan_train with:\n%s\nexpected:\n%s\n' "$flags" "$got_args" "$args"
    exit 1
  }
}

unset SGAN_DATA
expect "--steps 2" data/mnist $'--data\ndata/mnist\n--steps\n2'
expect "--data /d/mnist --steps 2" /d/mnist $'--data\n/d/mnist\n--steps\n2'
expect "--steps 2 --data=/d/mnist" /d/mnist $'--steps\n2\n--data=/d/mnist'
expect "--out x --data '/d/my mnist'" "/d/my mnist" $'--out\nx\n--data\n/d/my mnist'
expect "--help" "" $'--data\ndata/mnist\n--help'
SGAN_DATA=/env/mnist expect "--labels 20" /env/mnist $'--data\n/env/mnist\n--labels\n20'
SGAN_DATA=/env/mnist expect "--data /d/mnist" /d/mnist $'--data\n/d/mnist'
echo "sgan.sh train: ok"
