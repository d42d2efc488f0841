// Philox draws on the device: one thread per Philox block, writing the block's (up to) four
// elements e = 4 b + k, k = word index (kernels/philox.h). The counter is read from device memory
// inside the kernel, so a captured graph draws fresh numbers once the counter has been advanced.
#include "kernels/cuda/common.cuh"
#include "kernels/philox.h"

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;

// lo + (hi - lo) u as one fused multiply-add, as on the host, so the two agree bitwise.
__global__ void philox_uniform_kernel(std::uint64_t n, PhiloxStream s,
                                      const std::uint64_t* __restrict__ counter, float lo, float hi,
                                      float* __restrict__ out) {
  const std::uint64_t step = *counter;
  const std::uint64_t blocks = (n + 3) / 4;
  for (std::uint64_t b = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; b < blocks;
       b += std::uint64_t(gridDim.x) * blockDim.x) {
    const PhiloxBlock r = philox_block(s, step, b);
#pragma unroll
    for (int k = 0; k < 4; ++k)
      if (4 * b + k < n) out[4 * b + k] = fmaf(hi - lo, philox_uniform01(r.word[k]), lo);
  }
}

// Words (0, 1) give elements 0 (cosine) and 1 (sine), words (2, 3) elements 2 and 3.
__global__ void philox_normal_kernel(std::uint64_t n, PhiloxStream s,
                                     const std::uint64_t* __restrict__ counter, float mean,
                                     float stddev, float* __restrict__ out) {
  const std::uint64_t step = *counter;
  const std::uint64_t blocks = (n + 3) / 4;
  for (std::uint64_t b = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; b < blocks;
       b += std::uint64_t(gridDim.x) * blockDim.x) {
    const PhiloxBlock r = philox_block(s, step, b);
#pragma unroll
    for (int k = 0; k < 4; ++k)
      if (4 * b + k < n)
        out[4 * b + k] =
            fmaf(stddev, sgan::philox_normal(r.word[k & 2], r.word[(k & 2) + 1], k & 1), mean);
  }
}

unsigned int philox_grid(std::size_t n) {
  return elementwise_blocks(static_cast<std::int64_t>((n + 3) / 4), threads_per_block);
}

} // namespace

void philox_uniform(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float lo,
                    float hi, float* out, cudaStream_t stream) {
  if (n == 0) return;
  launch({philox_grid(n), threads_per_block, stream}, philox_uniform_kernel, n, s, counter, lo, hi,
         out);
}

void philox_normal(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float mean,
                   float stddev, float* out, cudaStream_t stream) {
  if (n == 0) return;
  launch({philox_grid(n), threads_per_block, stream}, philox_normal_kernel, n, s, counter, mean,
         stddev, out);
}

} // namespace sgan::cuda
