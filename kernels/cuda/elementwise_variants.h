#pragma once
// The two layouts of the activation kernels and the choice between them by element count.
// cuda::activation_forward and activation_backward (kernels/activation.h) run
// activation_variant_for(n); the overloads that take a variant run that one, so the tests hold
// each to the CPU reference. Both compute each element with the same float operations, so their
// results are bitwise equal. (The parameter average, cuda::ema_update, moves four floats a thread
// at every size: 1.37x and 1.22x faster at 1.5M and 33.5M floats on an H200.)
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

// four_floats_a_thread from this many elements. On an H200
// (bench/results/2026-12-04-6f1563c-NVIDIA-H200/), every case of 768000 elements or more ran
// faster four floats a thread, 1.09-1.18x at 768000 (relu, improved D's fc1 at 768 rows),
// 1.25-1.81x from 1.2M (relu, leaky_relu) to 33.5M (every kind); at 401408 elements and below
// the launch (about 3.7 us) dominates: relu and tanh tie (geometric mean 1.00 over 20 cases) and
// sigmoid and softplus (32000 to 200704 elements, forward and backward) are 0.74-0.80x, about
// 1.1 us slower. No sigmoid, softplus or tanh case lies between 200704 and 33.5M elements.
inline constexpr std::size_t four_floats_min_elements = std::size_t(1) << 19;

constexpr ElementwiseVariant activation_variant_for(std::size_t n) {
  return n >= four_floats_min_elements ? ElementwiseVariant::four_floats_a_thread
                                       : ElementwiseVariant::one_float_a_thread;
}

void activation_forward(ElementwiseVariant variant, const Activation& a, std::size_t n,
                        const float* x, float* y, cudaStream_t stream);
void activation_backward(ElementwiseVariant variant, const Activation& a, std::size_t n,
                         const float* y, const float* dy, float* dx, cudaStream_t stream);

} // namespace sgan::cuda
#endif
