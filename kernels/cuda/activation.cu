// Pointwise activations: one thread per element, grid-stride, the math shared with the CPU
// reference (activation_apply / activation_derivative_from_output in kernels/activation.h).
#include "kernels/activation.h"
#include "kernels/cuda/common.cuh"

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;

// y may alias x (the cuDNN twins apply an activation in place), so neither is __restrict__.
__global__ void activation_forward_kernel(Activation a, std::size_t n, const float* x, float* y) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    y[i] = activation_apply(a, x[i]);
}

// dx may alias dy, so neither is __restrict__.
__global__ void activation_backward_kernel(Activation a, std::size_t n, const float* __restrict__ y,
                                           const float* dy, float* dx) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * activation_derivative_from_output(a, y[i]);
}

} // namespace

void activation_forward(const Activation& a, std::size_t n, const float* x, float* y,
                        cudaStream_t stream) {
  if (n == 0) return;
  launch({elementwise_blocks(n, threads_per_block), threads_per_block, stream},
         activation_forward_kernel, a, n, x, y);
}

void activation_backward(const Activation& a, std::size_t n, const float* y, const float* dy,
                         float* dx, cudaStream_t stream) {
  if (n == 0) return;
  launch({elementwise_blocks(n, threads_per_block), threads_per_block, stream},
         activation_backward_kernel, a, n, y, dy, dx);
}

} // namespace sgan::cuda
