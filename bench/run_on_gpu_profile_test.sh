#!/usr/bin/env bash
# ctest: bench/run_on_gpu.sh's profile stage with a stand-in ncu (no GPU needed): ncu is asked for
# the stall and FFMA metrics beside its sections, the details page becomes <stamp>-profile.md, an
# ncu that knows none of those metric names gets a second run with the sections only, and any
# other ncu failure fails the stage without a second run; profile.md comes back beside the tarball.
#
#   bench/run_on_gpu_profile_test.sh WORKDIR
set -euo pipefail
work=$1
script="$(cd "$(dirname "$0")" && pwd)/run_on_gpu.sh"
rm -rf "$work" && mkdir -p "$work/bin"

# The stand-in: a profiling run logs its arguments to $work/ncu-calls (one line a call) and writes
# the --export report, unless NCU_REFUSE says to refuse the metrics (as an ncu without them does)
# or to fail; --import prints a details page of one launch with every stall metric asked for.
cat > "$work/bin/ncu" <<'STAND_IN'
#!/usr/bin/env bash
if [ "$1" = --import ]; then
  echo '"ID","Kernel Name","Grid Size","Block Size","Section Name","Metric Name","Metric Unit","Metric Value"'
  k='"0","void conv::weight_grad_kernel<conv::Tile<64, 64, 16, 4, 4, 1>>(conv::WeightGradProblem, int, float *, float *)","(9, 2, 14)","(256, 1, 1)"'
  echo "$k,\"GPU Speed Of Light Throughput\",\"Duration\",\"us\",\"75.74\""
  echo "$k,\"Command line profiler metrics\",\"smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio\",\"\",\"2.10\""
  echo "$k,\"Command line profiler metrics\",\"smsp__average_warps_issue_stalled_mio_throttle_per_issue_active.ratio\",\"\",\"0.90\""
  exit 0
fi
echo "$*" >> "$NCU_CALLS"
case "${NCU_REFUSE:-}:$*" in
  metrics:*--metrics*) echo "==ERROR== Failed to find metric smsp__average_warps_issue_stalled_x"; exit 1 ;;
  all:*) echo "==ERROR== the profiled process failed"; exit 2 ;;
esac
while [ $# -gt 0 ]; do
  [ "$1" = --export ] && : > "$2.ncu-rep"
  shift
done
STAND_IN
chmod +x "$work/bin/ncu"

# run NAME [VAR=VALUE...]: the profile stage in $work/NAME; its exit code in $rc.
run() {
  local name=$1
  shift
  rc=0
  : > "$work/$name.calls"
  env "$@" PATH="$work/bin:$PATH" NCU_CALLS="$work/$name.calls" BUILD_DIR="$work/build" \
    SGAN_WORK="$work/$name" SGAN_COMMIT=stand-in "$script" profile > "$work/$name.out" 2>&1 || rc=$?
}
fail() { echo "$1"; cat "$work/$2.out"; exit 1; }

run metrics OUT="$work/metrics-out"
[ "$rc" -eq 0 ] || fail "ncu with the metrics: exit $rc, expected 0" metrics
[ "$(wc -l < "$work/metrics.calls")" -eq 1 ] || fail "ncu with the metrics: not one call" metrics
for metric in smsp__inst_executed.sum smsp__sass_thread_inst_executed_op_ffma_pred_on.sum \
  smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio \
  smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio; do
  grep -q -- "--metrics [^ ]*$metric" "$work/metrics.calls" || fail "ncu not asked for $metric" metrics
done
# shellcheck disable=SC2016 # the backquotes are the markdown's
grep -q '^| 0 | `weight_grad_kernel<Tile<64, 64, 16, 4, 4, 1>>` | (9, 2, 14) | .* | barrier 2.10, mio_throttle 0.90 |$' \
  "$work"/metrics/*-profile.md || fail "no profile.md line for the launch" metrics
cmp -s "$work"/metrics/*-profile.md "$work"/metrics-out/*-profile.md ||
  fail "profile.md not beside the tarball in \$OUT" metrics

run refused NCU_REFUSE=metrics
[ "$rc" -eq 0 ] || fail "ncu refusing the metrics: exit $rc, expected 0" refused
[ "$(wc -l < "$work/refused.calls")" -eq 2 ] || fail "ncu refusing the metrics: not two calls" refused
sed -n 2p "$work/refused.calls" | grep -qv -- --metrics ||
  fail "ncu refusing the metrics: the second call asked for them again" refused
grep -q 'ncu refused PROFILE_METRICS' "$work/refused.out" || fail "the refusal not reported" refused

run failing NCU_REFUSE=all
[ "$rc" -eq 1 ] || fail "ncu failing: exit $rc, expected 1" failing
[ "$(wc -l < "$work/failing.calls")" -eq 1 ] || fail "ncu failing: not one call" failing
grep -q 'stage profile: .*(failed)' "$work/failing.out" || fail "ncu failing: stage not failed" failing
echo "the profile stage asks ncu for the stall metrics, tables them, and falls back without them"
