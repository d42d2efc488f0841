#pragma once
// Variants of the one-pass elementwise kernels (the activations, the parameter average) that wait
// for a GPU measurement, as conv_variants.h does for the convolutions: sgan_bench_kernels times
// each beside the default on every case of those ops in the same run (bench/TUNING.md,
// prediction 9), and the tests hold each to the CPU reference. The cuda:: functions of
// kernels/activation.h and kernels/optimizers.h run the default. Both variants compute each
// element with the same float operations, so their results are bitwise equal.
#include "kernels/activation.h"

#include <cstddef>

#if defined(SGAN_WITH_CUDA)
namespace sgan::cuda {

enum class ElementwiseVariant {
  // A thread loads, computes and stores one float per trip of its grid-stride loop.
  one_float_a_thread,
  // Four adjacent floats a trip, as 16-byte loads and stores, where every pointer is 16-byte
  // aligned (else one float a trip); the n % 4 tail one float at a time, as Adam does.
  four_floats_a_thread,
};

inline constexpr ElementwiseVariant default_elementwise_variant =
    ElementwiseVariant::one_float_a_thread;
inline constexpr ElementwiseVariant elementwise_variants[] = {
    ElementwiseVariant::one_float_a_thread, ElementwiseVariant::four_floats_a_thread};

constexpr const char* elementwise_variant_name(ElementwiseVariant v) {
  switch (v) {
  case ElementwiseVariant::one_float_a_thread:
    return "one_float_a_thread";
  case ElementwiseVariant::four_floats_a_thread:
    return "four_floats_a_thread";
  }
  return "unknown";
}

void activation_forward(ElementwiseVariant variant, const Activation& a, std::size_t n,
                        const float* x, float* y, cudaStream_t stream);
void activation_backward(ElementwiseVariant variant, const Activation& a, std::size_t n,
                         const float* y, const float* dy, float* dx, cudaStream_t stream);
void ema_update(ElementwiseVariant variant, std::size_t n, float rate, const float* params,
                float* ema, cudaStream_t stream);

} // namespace sgan::cuda
#endif
