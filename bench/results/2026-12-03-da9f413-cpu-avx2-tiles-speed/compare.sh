#!/bin/bash
# Side-by-side: old (eeeb018, built in a worktree at /tmp/oldtree) vs new (working tree with AVX2 tiles, build/) sgan_train on the CPU backend.
set -e
cd /work/main
for recipe in improved article; do
  for steps in 10 30; do
    for which in old new; do
      if [ $which = old ]; then bin=/tmp/oldtree/build/bin/sgan_train; else bin=build/bin/sgan_train; fi
      out=/tmp/cmp3/$recipe-$steps-$which; rm -rf $out
      $bin --device cpu --recipe $recipe --steps $steps --data data/mnist --out $out > $out.log 2>&1
      echo "$recipe $steps $which $(grep 'sgan: done' $out.log)"
    done
  done
done
