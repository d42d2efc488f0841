// Deterministic reductions. sum and count run in two stages: a grid of at most
// max_partial_blocks blocks, each summing a grid-stride slice per thread and then its threads in
// block_sum's fixed tree, writes one partial per block into a fixed device scratch; one block then
// sums the partials in the same tree. The grid depends only on n, so the order of additions, and
// with it the rounding, is the same on every run. No atomics and no host synchronisation: the
// pair can be captured in a CUDA graph.
#include "kernels/cuda/column_sums.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/reduce.h"

#include <cstdint>

namespace sgan::cuda {
namespace {

constexpr int partial_threads = 256;
// Also the thread count of the final block, which takes one partial per thread.
constexpr int max_partial_blocks = 1024;

__device__ float sum_partials[max_partial_blocks];
__device__ std::int32_t count_partials[max_partial_blocks];

template <typename T> __device__ T* partials();
template <> __device__ float* partials<float>() { return sum_partials; }
template <> __device__ std::int32_t* partials<std::int32_t>() { return count_partials; }

// Stage 1: partials<T>()[block] = the sum of this block's grid-stride slices.
template <typename T> __global__ void partial_sums_kernel(std::size_t n, const T* __restrict__ x) {
  __shared__ T scratch[warp_size];
  T total = T(0);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    total += x[i];
  total = block_sum(total, scratch);
  if (threadIdx.x == 0) partials<T>()[blockIdx.x] = total;
}

// Stage 2, one block of max_partial_blocks threads: out[0] = the sum of the first partial_count
// partials (0 when there are none).
template <typename T> __global__ void final_sum_kernel(int partial_count, T* __restrict__ out) {
  __shared__ T scratch[warp_size];
  T value = int(threadIdx.x) < partial_count ? partials<T>()[threadIdx.x] : T(0);
  value = block_sum(value, scratch);
  if (threadIdx.x == 0) out[0] = value;
}

template <typename T> void two_stage_sum(std::size_t n, const T* x, T* out, cudaStream_t stream) {
  const std::size_t blocks_needed = (n + partial_threads - 1) / partial_threads;
  const int blocks = int(blocks_needed < max_partial_blocks ? blocks_needed : max_partial_blocks);
  if (blocks > 0) {
    launch({blocks, partial_threads, stream}, partial_sums_kernel<T>, n, x);
  }
  launch({1, max_partial_blocks, stream}, final_sum_kernel<T>, blocks, out);
}

// out[c] = (sum_r x[r, c]) / rows, the rows summed in block_column_sum's fixed order.
__global__ void column_mean_kernel(int rows, int cols, const float* __restrict__ x,
                                   float* __restrict__ out) {
  const float total = block_column_sum(rows, cols, x);
  const int c = blockIdx.x * column_sum_columns + threadIdx.x;
  if (threadIdx.y == 0 && c < cols) out[c] = total / float(rows);
}

} // namespace

void sum(std::size_t n, const float* x, float* out, cudaStream_t stream) {
  two_stage_sum(n, x, out, stream);
}

void count(std::size_t n, const std::int32_t* flags, std::int32_t* out, cudaStream_t stream) {
  two_stage_sum(n, flags, out, stream);
}

void column_mean(int rows, int cols, const float* x, float* out, cudaStream_t stream) {
  if (cols <= 0) return;
  launch({column_sum_grid(cols), column_sum_block(), stream}, column_mean_kernel, rows, cols, x,
         out);
}

} // namespace sgan::cuda
