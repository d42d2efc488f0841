#pragma once
// Fully connected layer, row-major, float32: x is [n, in], w is [out, in] (PyTorch's Linear layout),
// b is [out] or null, y is [n, out].
//
//   forward          y[r, o] = act( b[o] + sum_i x[r, i] w[o, i] )        y = act(x W^T + b)
//   backward_data    dx[r, i] = sum_o dy[r, o] w[o, i]                      dx = dy W   (overwrites)
//   backward_weight  dw[o, i] += sum_r dy[r, o] x[r, i]                     dW += dy^T x
//   backward_bias    db[o] += sum_r dy[r, o]
//
// The GPU forms need in, out >= 1 (std::invalid_argument otherwise); n = 0 does nothing.
#include <cstddef>

#include "kernels/activation.h"
#include "kernels/backend.h"

namespace sgan {

struct DenseShape {
  int n = 0, in = 0, out = 0;

  std::size_t x_size() const { return std::size_t(n) * in; }
  std::size_t w_size() const { return std::size_t(out) * in; }
  std::size_t y_size() const { return std::size_t(n) * out; }
  double macs() const { return double(n) * in * out; }
};

namespace cpu {
template <typename T>
void dense_forward(const DenseShape& s, const T* x, const T* w, const T* b, T* y,
                   const Activation& epilogue = {});
template <typename T>
void dense_backward_data(const DenseShape& s, const T* dy, const T* w, T* dx);
template <typename T>
void dense_backward_weight(const DenseShape& s, const T* x, const T* dy, T* dw);
template <typename T>
void dense_backward_bias(const DenseShape& s, const T* dy, T* db);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
// The products are cuBLAS SGEMM calls (on the handle's stream); bias + activation is one pass of
// our own, and the bias gradient a fixed-order column reduction of our own.
void dense_forward(const DenseShape& s, const float* x, const float* w, const float* b, float* y,
                   const Activation& epilogue, cublasHandle_t handle);
void dense_backward_data(const DenseShape& s, const float* dy, const float* w, float* dx,
                         cublasHandle_t handle);
void dense_backward_weight(const DenseShape& s, const float* x, const float* dy, float* dw,
                           cublasHandle_t handle);
void dense_backward_bias(const DenseShape& s, const float* dy, float* db, cublasHandle_t handle);
}  // namespace cuda
#endif

#if defined(SGAN_WITH_CUDNN)
namespace cudnn {
// The vendor twin: cublasLt matmuls with the bias (and relu where asked) fused in their epilogue;
// other activations run as a separate pass. The bias gradient is a cuBLAS GEMV against ones.
void dense_forward(const DenseShape& s, const float* x, const float* w, const float* b, float* y,
                   const Activation& epilogue, Handle& h);
void dense_backward_data(const DenseShape& s, const float* dy, const float* w, float* dx,
                         Handle& h);
void dense_backward_weight(const DenseShape& s, const float* x, const float* dy, float* dw,
                           Handle& h);
void dense_backward_bias(const DenseShape& s, const float* dy, float* db, Handle& h);
}  // namespace cudnn
#endif

}  // namespace sgan
