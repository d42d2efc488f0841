#include "kernels/optimizers.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace sgan {

// Computed in double: 1 - beta2^t for beta2 = 0.999 is about 1e-3 at t = 1, and rounding
// beta^t in float first would cost the correction three of its seven digits.
AdamStepScalars adam_step_scalars(const AdamHyper& hyper, float lr, std::int64_t step) {
  if (step < 1)
    throw std::invalid_argument("Adam step must be 1 or more, got " + std::to_string(step) + ".");
  const double t = static_cast<double>(step);
  AdamStepScalars scalars;
  scalars.lr = lr;
  scalars.bias_correction1 = static_cast<float>(1.0 - std::pow(double(hyper.beta1), t));
  scalars.bias_correction2 = static_cast<float>(1.0 - std::pow(double(hyper.beta2), t));
  return scalars;
}

} // namespace sgan
