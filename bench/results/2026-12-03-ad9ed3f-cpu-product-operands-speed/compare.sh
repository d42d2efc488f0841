#!/bin/bash
# Interleaved side by side: old = c398122 (built in a git worktree at /tmp/oldtree), new = ad9ed3f (build/).
# usage: compare.sh ROUNDS RECIPES...
set -e
cd /work/main
rounds=$1; shift
for round in $(seq $rounds); do
for recipe in "$@"; do
  for steps in 10 30; do
    for which in old new; do
      if [ $which = old ]; then bin=/tmp/oldtree/build/bin/sgan_train; else bin=build/bin/sgan_train; fi
      out=/tmp/bench/$recipe-$steps-$which-$round; rm -rf $out
      $bin --device cpu --recipe $recipe --steps $steps --data data/mnist --out $out > $out.log 2>&1
      echo "$round $recipe $steps $which $(grep 'sgan: done' $out.log)"
    done
  done
done
done
