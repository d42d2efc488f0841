#pragma once
// Weight normalisation (Salimans & Kingma 2016): each row r of a [rows, cols] weight (a dense
// layer's output unit) is a direction v times a trained length g:
//
//   forward   norm[r] = ||v[r, :]||,   w[r, c] = g[r] v[r, c] / norm[r]
//   backward  with dw = dL/dw:  t[r] = sum_c dw[r, c] v[r, c] / norm[r]
//             dg[r]    += t[r]
//             dv[r, c] += (g[r] / norm[r]) (dw[r, c] - t[r] v[r, c] / norm[r])
//
// norm is written by forward and read by backward, so it need not be recomputed.
#include <cstddef>

#include "kernels/backend.h"

namespace sgan {

struct WeightNormShape {
  int rows = 0, cols = 0;

  std::size_t size() const { return std::size_t(rows) * cols; }
};

namespace cpu {
template <typename T>
void weight_norm_forward(const WeightNormShape& s, const T* v, const T* g, T* w, T* norm);
template <typename T>
void weight_norm_backward(const WeightNormShape& s, const T* v, const T* g, const T* norm,
                          const T* dw, T* dv, T* dg);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
// One warp per row.
void weight_norm_forward(const WeightNormShape& s, const float* v, const float* g, float* w,
                         float* norm, cudaStream_t stream);
void weight_norm_backward(const WeightNormShape& s, const float* v, const float* g,
                          const float* norm, const float* dw, float* dv, float* dg,
                          cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
