// Bookkeeping ops, one thread per element and grid-stride. The batch gather runs grid x over the
// gathered rows and grid y (with a stride loop) along each row; offsets are 64-bit so that
// index * row_size cannot wrap for a resident data set of any size.
#include "kernels/cuda/common.cuh"
#include "kernels/elementwise.h"

#include <cstdint>

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;
// The grid's y dimension is limited to 65535 blocks; longer rows loop.
constexpr std::size_t max_row_chunks = 65535;

__global__ void fill_kernel(std::size_t n, float value, float* __restrict__ x) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    x[i] = value;
}

__global__ void scale_kernel(std::size_t n, float alpha, float* __restrict__ x) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    x[i] *= alpha;
}

__global__ void axpy_kernel(std::size_t n, float alpha, const float* __restrict__ x,
                            float* __restrict__ y) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    y[i] += alpha * x[i];
}

template <typename T>
__global__ void gather_rows_kernel(std::size_t row_size, const T* __restrict__ src,
                                   const std::int32_t* __restrict__ index, T* __restrict__ dst) {
  const std::size_t row = blockIdx.x;
  const T* from = src + std::size_t(index[row]) * row_size;
  T* to = dst + row * row_size;
  for (std::size_t j = blockIdx.y * std::size_t(blockDim.x) + threadIdx.x; j < row_size;
       j += std::size_t(gridDim.y) * blockDim.x)
    to[j] = from[j];
}

} // namespace

void fill(std::size_t n, float value, float* x, cudaStream_t stream) {
  if (n == 0) return;
  launch({elementwise_blocks(std::int64_t(n), threads_per_block), threads_per_block, stream},
         fill_kernel, n, value, x);
}

void scale(std::size_t n, float alpha, float* x, cudaStream_t stream) {
  if (n == 0) return;
  launch({elementwise_blocks(std::int64_t(n), threads_per_block), threads_per_block, stream},
         scale_kernel, n, alpha, x);
}

void axpy(std::size_t n, float alpha, const float* x, float* y, cudaStream_t stream) {
  if (n == 0) return;
  launch({elementwise_blocks(std::int64_t(n), threads_per_block), threads_per_block, stream},
         axpy_kernel, n, alpha, x, y);
}

template <typename T>
void gather_rows(int rows, std::size_t row_size, const T* src, const std::int32_t* index, T* dst,
                 cudaStream_t stream) {
  if (rows <= 0 || row_size == 0) return;
  // Short rows (labels: one element) get one warp per row rather than a mostly idle block.
  const int threads = row_size < std::size_t(threads_per_block)
                          ? int((row_size + warp_size - 1) / warp_size) * warp_size
                          : threads_per_block;
  const std::size_t chunks = (row_size + threads - 1) / threads;
  const dim3 grid(unsigned(rows), unsigned(chunks < max_row_chunks ? chunks : max_row_chunks));
  launch({grid, threads, stream}, gather_rows_kernel<T>, row_size, src, index, dst);
}

template void gather_rows<float>(int, std::size_t, const float*, const std::int32_t*, float*,
                                 cudaStream_t);
template void gather_rows<std::int32_t>(int, std::size_t, const std::int32_t*, const std::int32_t*,
                                        std::int32_t*, cudaStream_t);
template void gather_rows<std::uint8_t>(int, std::size_t, const std::uint8_t*, const std::int32_t*,
                                        std::uint8_t*, cudaStream_t);

} // namespace sgan::cuda
