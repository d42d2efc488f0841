#pragma once
// The exponential moving average of a model's flat parameter buffer that evaluation uses instead
// of the raw weights (REFERENCES.md: rate 1e-4 per step for the improved recipe).
//
// The average starts at zero and is bias-corrected as Adam's moments are. After t updates
//   a_t = rate sum_{s=1..t} (1 - rate)^(t-s) p_s,   average_t = a_t / (1 - (1 - rate)^t),
// a weighted mean of the iterates p_1..p_t alone (the weights sum to 1), with no share of the
// initial weights. An uncorrected average started from the initial weights would, at rate 1e-4,
// still be 94% initial weights after the improved recipe's first epoch (600 steps); late in a
// run the correction tends to 1 and the two agree.
#include "engine/core/arena.h"
#include "engine/core/context.h"

#include <cstdint>

namespace sgan {

class ParameterAverage {
public:
  // Zero-filled storage for parameters of `shape` (a flat buffer's) from `arena`; rate in (0, 1].
  ParameterAverage(Arena& arena, const Shape& shape, float rate);

  // a += rate (params - a): one launch, nothing read back, so it can sit in a captured graph.
  void update(Context& ctx, const float* params);
  // out = a / (1 - (1 - rate)^updates), the average after `updates` calls of update (>= 1).
  void write_average(Context& ctx, std::int64_t updates, float* out) const;

  // The raw accumulator a (what a checkpoint stores).
  Tensor accumulator() const { return accumulator_; }
  float rate() const { return rate_; }

private:
  Tensor accumulator_;
  float rate_;
};

} // namespace sgan
