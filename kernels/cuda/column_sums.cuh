#pragma once
// Column sums of a row-major [rows, cols] float matrix in a fixed order, so that every run gives
// the same bits (the dense bias gradient's sum over rows of dy, column_mean). A block covers
// column_sum_columns adjacent columns, so a warp reads 32 consecutive floats of a row, and
// column_sum_row_slices interleaved row sets: thread (c, s) sums rows s, s + 8, s + 16, ... of its
// column in order, and thread (c, 0) then adds the 8 slice sums in order.
#include "kernels/cuda/common.cuh"

#include <cstddef>

namespace sgan::cuda {

constexpr int column_sum_columns = 32;
constexpr int column_sum_row_slices = 8;

inline unsigned int column_sum_grid(int cols) { return ceil_div(cols, column_sum_columns); }
inline dim3 column_sum_block() { return dim3(column_sum_columns, column_sum_row_slices); }

// The sum of column blockIdx.x * column_sum_columns + threadIdx.x, returned to thread (c, 0) of a
// column c < cols (other threads get 0 or a partial). Every thread of the block must call it: it
// synchronises the block.
__device__ inline float block_column_sum(int rows, int cols, const float* __restrict__ x) {
  __shared__ float slice_sums[column_sum_row_slices][column_sum_columns];
  const int c = blockIdx.x * column_sum_columns + threadIdx.x;
  float slice = 0.0f;
  if (c < cols)
    for (int r = threadIdx.y; r < rows; r += column_sum_row_slices)
      slice += x[std::size_t(r) * cols + c];
  slice_sums[threadIdx.y][threadIdx.x] = slice;
  __syncthreads();
  float total = 0.0f;
  if (threadIdx.y == 0 && c < cols)
    for (int s = 0; s < column_sum_row_slices; ++s) total += slice_sums[s][threadIdx.x];
  return total;
}

} // namespace sgan::cuda
