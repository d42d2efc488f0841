#!/usr/bin/env bash
# ctest: bench/run_on_gpu.sh's test stage, on stand-in test binaries (no GPU needed): every GPU
# test binary runs as gtest shards, each shard's end is logged, a failing case is named, a failing
# shard fails the stage, a shard that skipped every case is counted apart, and the deadline stops
# shards still running and counts them unfinished.
#
#   bench/run_on_gpu_test.sh WORKDIR
set -euo pipefail
work=$1
script="$(cd "$(dirname "$0")" && pwd)/run_on_gpu.sh"
rm -rf "$work" && mkdir -p "$work/build/tests"
: > "$work/build/CTestTestfile.cmake" # no pytorch-gpu tests in the stand-in build
# A stand-in for a gtest binary: shard FAIL_SHARD fails a case, shard SKIP_SHARD skips every case
# (exit 77, as tests/support/test_main.cpp), the others pass after SLEEP s.
for name in kernels_cuda_stand_in_test engine_gpu_stand_in_test; do
  cat > "$work/build/tests/$name" <<'STAND_IN'
#!/usr/bin/env bash
if [ "$GTEST_SHARD_INDEX" = "${FAIL_SHARD:-}" ]; then
  echo "[  FAILED  ] StandIn.Case$GTEST_SHARD_INDEX"
  exit 1
fi
if [ "$GTEST_SHARD_INDEX" = "${SKIP_SHARD:-}" ]; then
  echo "[  SKIPPED ] 1 test, listed below:"
  exit 77
fi
sleep "${SLEEP:-0}"
echo "[  PASSED  ] 1 test."
STAND_IN
  chmod +x "$work/build/tests/$name"
done
: > "$work/build/tests/kernels_cuda_stand_in_test[1]_tests.cmake" # not a binary: skipped

# run NAME [VAR=VALUE...]: the test stage in $work/NAME; its exit code in $rc, its log in $log.
run() {
  local name=$1
  shift
  rc=0
  env "$@" BUILD_DIR="$work/build" SGAN_WORK="$work/$name" SGAN_COMMIT=stand-in \
    "$script" test > "$work/$name.out" 2>&1 || rc=$?
  log=$(ls "$work/$name"/*-test.log 2>/dev/null || true)
}
fail() { echo "$1"; cat "$work/$2.out"; exit 1; }

run passing
[ "$rc" -eq 0 ] || fail "passing shards: exit $rc, expected 0" passing
grep -q 'tests: 8 shards passed, 0 skipped, 0 failed, 0 unfinished' "$work/passing.out" ||
  fail "passing shards: not 8 passed" passing

run failing FAIL_SHARD=1
[ "$rc" -eq 1 ] || fail "a failing shard: exit $rc, expected 1" failing
grep -q '^=== FAILED kernels_cuda_stand_in_test-2of4 (exit 1)$' "$log" ||
  fail "a failing shard: not logged as failed" failing
grep -q '^\[  FAILED  \] StandIn.Case1$' "$log" || fail "a failing shard: case not named" failing
grep -q 'tests: 6 shards passed, 0 skipped, 2 failed, 0 unfinished; 1 failing cases' "$work/failing.out" ||
  fail "a failing shard: wrong counts" failing

run skipping SKIP_SHARD=2
[ "$rc" -eq 0 ] || fail "a skipping shard: exit $rc, expected 0" skipping
grep -q '^=== SKIPPED kernels_cuda_stand_in_test-3of4 (every case skipped)$' "$log" ||
  fail "a skipping shard: not logged as skipped" skipping
grep -q 'tests: 6 shards passed, 2 skipped, 0 failed, 0 unfinished' "$work/skipping.out" ||
  fail "a skipping shard: wrong counts" skipping

# 40 s of deadline leave ~20 s after the packing reserve, less the start: every shard sleeps 60.
run deadline SLEEP=60 SGAN_DEADLINE_S=40
[ "$rc" -eq 1 ] || fail "the deadline: exit $rc, expected 1" deadline
grep -q 'stage test: .*(cut short by the deadline)' "$work/deadline.out" ||
  fail "the deadline: stage not cut short" deadline
grep -q 'tests: 0 shards passed, 0 skipped, 0 failed, 8 unfinished' "$work/deadline.out" ||
  fail "the deadline: shards not counted unfinished" deadline
echo "the test stage runs shards, names failures, counts skips, and stops at the deadline"
