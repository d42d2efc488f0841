#pragma once
// Small bookkeeping ops over flat buffers, and the batch gather.
//
//   fill         x[i] = value
//   scale        x[i] *= alpha
//   axpy         y[i] += alpha x[i]
//   gather_rows  dst[r, :] = src[index[r], :]   for r < rows, each row row_size elements
//                (assembles a batch from the resident data set by shuffled indices; indices are
//                not checked here, the caller draws them in range)
#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace sgan {

namespace cpu {
void fill(std::size_t n, float value, float* x);
void scale(std::size_t n, float alpha, float* x);
void axpy(std::size_t n, float alpha, const float* x, float* y);
template <typename T>
void gather_rows(int rows, std::size_t row_size, const T* src, const std::int32_t* index, T* dst);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void fill(std::size_t n, float value, float* x, cudaStream_t stream);
void scale(std::size_t n, float alpha, float* x, cudaStream_t stream);
void axpy(std::size_t n, float alpha, const float* x, float* y, cudaStream_t stream);
template <typename T>
void gather_rows(int rows, std::size_t row_size, const T* src, const std::int32_t* index, T* dst,
                 cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
