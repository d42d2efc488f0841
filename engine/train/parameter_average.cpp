#include "engine/train/parameter_average.h"

#include "engine/core/ops.h"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

ParameterAverage::ParameterAverage(Arena& arena, const Shape& shape, float rate)
    : accumulator_(arena.tensor(shape)), rate_(rate) {
  if (!(rate > 0.0f && rate <= 1.0f))
    throw std::invalid_argument(
        fmt::format("parameter average: rate must be in (0, 1], got {}", rate));
}

void ParameterAverage::update(Context& ctx, const float* params) {
  ops::ema_update(ctx, accumulator_.size(), rate_, params, accumulator_.data);
}

void ParameterAverage::write_average(Context& ctx, std::int64_t updates, float* out) const {
  if (updates < 1)
    throw std::invalid_argument("parameter average: there is no average before the first update");
  // 1 - (1 - rate)^t, without the cancellation of the direct form at small rates.
  const double weight_of_iterates = -std::expm1(double(updates) * std::log1p(-double(rate_)));
  ctx.copy(out, accumulator_.data, accumulator_.size() * sizeof(float));
  ops::scale(ctx, accumulator_.size(), float(1.0 / weight_of_iterates), out);
}

} // namespace sgan
