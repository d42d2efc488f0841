#pragma once
// Deterministic reductions: every sum is taken in a fixed order that does not depend on timing,
// so repeated runs give bitwise the same totals, and CPU and GPU agree to rounding.
//
//   sum           out[0] = sum_i x[i]
//   column_mean   out[c] = (1/rows) sum_r x[r, c]        (x is [rows, cols]: the mean over a batch;
//                                                          rows >= 1)
//   count         out[0] = sum_i flags[i]                (int32: correct predictions, say)
// The CPU reference accumulates in double; the GPU in float with pairwise (tree) order.
// The GPU sum and count keep their per-block partials in one fixed device scratch each (so they
// allocate nothing and can be captured in a CUDA graph): calls must not overlap on two streams.
#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace sgan {

namespace cpu {
void sum(std::size_t n, const float* x, float* out);
void column_mean(int rows, int cols, const float* x, float* out);
void count(std::size_t n, const std::int32_t* flags, std::int32_t* out);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void sum(std::size_t n, const float* x, float* out, cudaStream_t stream);
void column_mean(int rows, int cols, const float* x, float* out, cudaStream_t stream);
void count(std::size_t n, const std::int32_t* flags, std::int32_t* out, cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
