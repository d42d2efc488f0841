// Pointwise activations: grid-stride, the math shared with the CPU reference (activation_apply /
// activation_derivative_from_output in kernels/activation.h). Each kernel takes `quads`: elements
// [0, 4 quads) go as float4s (the four_floats_a_thread variant, elementwise_variants.h, from
// 2^19 elements where the pointers are 16-byte aligned), the rest one float a trip (all of them
// where quads = 0).
#include "kernels/activation.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/elementwise_variants.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;

// y may alias x (the cuDNN twins apply an activation in place), so neither is __restrict__; each
// thread reads its element (or float4) before it writes it.
__global__ void activation_forward_kernel(Activation a, std::size_t n, std::size_t quads,
                                          const float* x, float* y) {
  const std::size_t first = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = first; i < quads; i += stride) {
    float4 v = reinterpret_cast<const float4*>(x)[i];
    v.x = activation_apply(a, v.x);
    v.y = activation_apply(a, v.y);
    v.z = activation_apply(a, v.z);
    v.w = activation_apply(a, v.w);
    reinterpret_cast<float4*>(y)[i] = v;
  }
  for (std::size_t i = 4 * quads + first; i < n; i += stride) y[i] = activation_apply(a, x[i]);
}

// dx may alias dy, so neither is __restrict__.
__global__ void activation_backward_kernel(Activation a, std::size_t n, std::size_t quads,
                                           const float* __restrict__ y, const float* dy,
                                           float* dx) {
  const std::size_t first = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = first; i < quads; i += stride) {
    const float4 y4 = reinterpret_cast<const float4*>(y)[i];
    float4 d4 = reinterpret_cast<const float4*>(dy)[i];
    d4.x *= activation_derivative_from_output(a, y4.x);
    d4.y *= activation_derivative_from_output(a, y4.y);
    d4.z *= activation_derivative_from_output(a, y4.z);
    d4.w *= activation_derivative_from_output(a, y4.w);
    reinterpret_cast<float4*>(dx)[i] = d4;
  }
  for (std::size_t i = 4 * quads + first; i < n; i += stride)
    dx[i] = dy[i] * activation_derivative_from_output(a, y[i]);
}

// The float4s the variant moves of n elements at these pointers.
std::size_t quads_for(ElementwiseVariant variant, std::size_t n,
                      std::initializer_list<const void*> pointers) {
  return variant == ElementwiseVariant::four_floats_a_thread ? aligned_quads(n, pointers) : 0;
}

unsigned int blocks_for(std::size_t n, std::size_t quads) {
  return elementwise_blocks(std::int64_t(quads + (n - 4 * quads)), threads_per_block);
}

} // namespace

void activation_forward(ElementwiseVariant variant, const Activation& a, std::size_t n,
                        const float* x, float* y, cudaStream_t stream) {
  if (n == 0) return;
  const std::size_t quads = quads_for(variant, n, {x, y});
  launch({blocks_for(n, quads), threads_per_block, stream}, activation_forward_kernel, a, n, quads,
         x, y);
}

void activation_backward(ElementwiseVariant variant, const Activation& a, std::size_t n,
                         const float* y, const float* dy, float* dx, cudaStream_t stream) {
  if (n == 0) return;
  const std::size_t quads = quads_for(variant, n, {y, dy, dx});
  launch({blocks_for(n, quads), threads_per_block, stream}, activation_backward_kernel, a, n, quads,
         y, dy, dx);
}

void activation_forward(const Activation& a, std::size_t n, const float* x, float* y,
                        cudaStream_t stream) {
  activation_forward(activation_variant_for(n), a, n, x, y, stream);
}

void activation_backward(const Activation& a, std::size_t n, const float* y, const float* dy,
                         float* dx, cudaStream_t stream) {
  activation_backward(activation_variant_for(n), a, n, y, dy, dx, stream);
}

} // namespace sgan::cuda
