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

// The two ways a TF32 subject of the conv checks (tests/support/conv_checks.h) is held. First to
// the function it claims to compute: every product's operands (x, w, dy) rounded to TF32, the
// sums in FP32, so the reference on rounded operands matches it to FP32's tolerance (an operand
// left unrounded is truncated by the tensor cores and fails that).
//
// The sums are not quite FP32's, though: each mma.sync adds its k-slice of 8 exact products to the
// accumulator rounding toward zero, not to nearest (Fasi, Higham, Mikaitis and Pranesh, "Numerical
// behavior of NVIDIA tensor cores", 2021), so every slice loses on average half an ulp (2^-24
// relative), always in the same direction: the loss grows with the number of slices, terms / 8,
// not as a random walk. That allowance is added to FP32's tolerance. Measured on an H200
// (bench/results/2026-12-04-6f1563c-NVIDIA-H200): 1.01e-5 relative at G.to_image's 3,136 terms,
// over FP32's 1e-5 and under this 1e-5 + 2.3e-5; an operand left unrounded errs by 7.8e-4 there
// (emulated on the CPU: the tensor cores truncate it).
template <class Subject> struct Tf32Operands : Subject {
  static double reference_operand(float x) { return tf32_rounded(x); }
  static double relative_tolerance(double terms) {
    return Subject::tolerance + terms / 8 * 0x1p-24;
  }
};
// Then to what it promises against plain FP32: 2e-3 relative, ~5x the ~4e-4 that two operands'
// rounding errors of up to 2^-11 each give a sum of random-signed products.
template <class Subject> struct Tf32Accuracy : Subject {
  static constexpr double tolerance = 2e-3;
};

} // namespace sgan::test
