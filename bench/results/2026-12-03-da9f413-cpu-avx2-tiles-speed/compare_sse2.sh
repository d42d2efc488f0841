#!/bin/bash
# Side-by-side on the SSE2 path: old (eeeb018, /tmp/oldtree) vs new with the AVX2 tiles switched off
# (the working tree with has_avx2 forced false, built in /tmp/basetree): what a processor without AVX2 gets.
set -e
cd /work/main
for recipe in improved; do
  for steps in 10 30; do
    for which in old sse2; do
      if [ $which = old ]; then bin=/tmp/oldtree/build/bin/sgan_train; else bin=/tmp/basetree/build/bin/sgan_train; fi
      out=/tmp/cmp4/$recipe-$steps-$which; rm -rf $out
      $bin --device cpu --recipe $recipe --steps $steps --data data/mnist --out $out > $out.log 2>&1
      echo "$recipe $steps $which $(grep 'sgan: done' $out.log)"
    done
  done
done
