// The optimisers as one grid-stride launch each over the flat parameter buffer. Adam reads four
// streams and writes three, so it is memory bound: where all four pointers are 16-byte aligned it
// moves float4s (a quarter of the load/store instructions) and finishes the n % 4 tail one float
// at a time in the same launch; so does the parameter average (1.37x faster than one float a
// thread at improved D's 1.5M parameters, 1.22x at 33.5M, on an H200:
// bench/results/2026-12-04-6f1563c-NVIDIA-H200/). The step scalars are loaded from device
// memory inside the kernel, so a captured graph picks up each step's values.
#include "kernels/cuda/common.cuh"
#include "kernels/optimizers.h"

#include <cstdint>

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;

// One Adam element in float, the formulas of kernels/optimizers.h.
__device__ inline void adam_element(const AdamHyper& h, const AdamStepScalars& s, float& p, float g,
                                    float& m, float& v) {
  g += h.weight_decay * p;
  m = h.beta1 * m + (1.0f - h.beta1) * g;
  v = h.beta2 * v + (1.0f - h.beta2) * g * g;
  const float v_hat = v / s.bias_correction2;
  const float denominator = h.eps_inside_sqrt ? sqrtf(v_hat + h.eps) : sqrtf(v_hat) + h.eps;
  p -= s.lr * (m / s.bias_correction1) / denominator;
}

// Elements [0, 4 quads) go as float4s and the tail [4 quads, n) one by one (quads = 0: all of
// [0, n) one by one).
__global__ void adam_kernel(AdamHyper h, const AdamStepScalars* __restrict__ scalars, std::size_t n,
                            std::size_t quads, float* __restrict__ params,
                            const float* __restrict__ grads, float* __restrict__ m,
                            float* __restrict__ v) {
  const AdamStepScalars s = *scalars;
  const std::size_t first = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = first; i < quads; i += stride) {
    float4 p4 = reinterpret_cast<float4*>(params)[i];
    const float4 g4 = reinterpret_cast<const float4*>(grads)[i];
    float4 m4 = reinterpret_cast<float4*>(m)[i];
    float4 v4 = reinterpret_cast<float4*>(v)[i];
    adam_element(h, s, p4.x, g4.x, m4.x, v4.x);
    adam_element(h, s, p4.y, g4.y, m4.y, v4.y);
    adam_element(h, s, p4.z, g4.z, m4.z, v4.z);
    adam_element(h, s, p4.w, g4.w, m4.w, v4.w);
    reinterpret_cast<float4*>(params)[i] = p4;
    reinterpret_cast<float4*>(m)[i] = m4;
    reinterpret_cast<float4*>(v)[i] = v4;
  }
  for (std::size_t i = 4 * quads + first; i < n; i += stride)
    adam_element(h, s, params[i], grads[i], m[i], v[i]);
}

// u = momentum u + g' (velocity untouched when momentum is 0), p -= lr u.
__global__ void sgd_kernel(SgdHyper h, std::size_t n, const float* __restrict__ lr,
                           float* __restrict__ params, const float* __restrict__ grads,
                           float* __restrict__ velocity) {
  const float rate = *lr;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float p = params[i];
    float u = grads[i] + h.weight_decay * p;
    if (h.momentum != 0.0f) {
      u += h.momentum * velocity[i];
      velocity[i] = u;
    }
    params[i] = p - rate * u;
  }
}

// ema += rate (p - ema): elements [0, 4 quads) as float4s, the rest one by one (quads = 0: all).
__global__ void ema_kernel(std::size_t n, std::size_t quads, float rate,
                           const float* __restrict__ params, float* __restrict__ ema) {
  const std::size_t first = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = first; i < quads; i += stride) {
    const float4 p4 = reinterpret_cast<const float4*>(params)[i];
    float4 e4 = reinterpret_cast<float4*>(ema)[i];
    e4.x += rate * (p4.x - e4.x);
    e4.y += rate * (p4.y - e4.y);
    e4.z += rate * (p4.z - e4.z);
    e4.w += rate * (p4.w - e4.w);
    reinterpret_cast<float4*>(ema)[i] = e4;
  }
  for (std::size_t i = 4 * quads + first; i < n; i += stride) ema[i] += rate * (params[i] - ema[i]);
}

} // namespace

void adam_update(const AdamHyper& hyper, std::size_t n, const AdamStepScalars* scalars,
                 float* params, const float* grads, float* m, float* v, cudaStream_t stream) {
  if (n == 0) return;
  const std::size_t quads = aligned_quads(n, {params, grads, m, v});
  const std::size_t work_items = quads + (n - 4 * quads);
  launch(
      {elementwise_blocks(std::int64_t(work_items), threads_per_block), threads_per_block, stream},
      adam_kernel, hyper, scalars, n, quads, params, grads, m, v);
}

void sgd_update(const SgdHyper& hyper, std::size_t n, const float* lr, float* params,
                const float* grads, float* velocity, cudaStream_t stream) {
  if (n == 0) return;
  launch({elementwise_blocks(std::int64_t(n), threads_per_block), threads_per_block, stream},
         sgd_kernel, hyper, n, lr, params, grads, velocity);
}

void ema_update(std::size_t n, float rate, const float* params, float* ema, cudaStream_t stream) {
  if (n == 0) return;
  const std::size_t quad_count = aligned_quads(n, {params, ema});
  const std::size_t work_items = quad_count + (n - 4 * quad_count);
  launch(
      {elementwise_blocks(std::int64_t(work_items), threads_per_block), threads_per_block, stream},
      ema_kernel, n, quad_count, rate, params, ema);
}

} // namespace sgan::cuda
