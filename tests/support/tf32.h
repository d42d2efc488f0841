#pragma once
// TF32 rounding as the tests' references compute it: on the value, not its bits, so that it is a
// second derivation of what kernels/cuda/tensor_cores.cuh's round_to_tf32 does with bits.
#include <cmath>

namespace sgan::test {

// x to the nearest value with an 11-bit significand (TF32's implicit bit and 10 stored ones),
// ties away from zero (std::round); zeros, infinities and NaNs as they are. For normal floats
// (TF32 and FP32 share the exponent range; subnormals are left out of the tests).
inline double tf32_rounded(double x) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  int exponent = 0;
  const double significand = std::frexp(x, &exponent); // |significand| in [0.5, 1)
  return std::ldexp(std::round(std::ldexp(significand, 11)), exponent - 11);
}

} // namespace sgan::test
