#pragma once
// 2-D convolution (cross-correlation, as in every framework), NCHW, float32.
//
//   y[n, co, oh, ow] = act( b[co] + sum_{ci, i, j} x[n, ci, oh*s - pad_top + i, ow*s - pad_left + j]
//                                                  * w[co, ci, i, j] )
//
// x is [n, c_in, h_in, w_in], w is [c_out, c_in, kh, kw] (PyTorch's layout), b is [c_out] or null,
// y is [n, c_out, h_out, w_out]. Reads outside x are zeros. Only pad_top/pad_left are stored: the
// bottom/right padding is whatever h_out/w_out imply, which is how Keras "same" puts the odd pad
// on the bottom/right.
//
// Backward (for loss L, dy = dL/dy taken after the activation has been undone by the caller):
//   backward_data    dx[n, ci, ih, iw] = sum over (co, i, j, oh, ow) with ih = oh*s - pad_top + i,
//                                        iw = ow*s - pad_left + j of dy[n, co, oh, ow] w[co, ci, i, j]
//                    (overwrites dx)
//   backward_weight  dw[co, ci, i, j] += sum_{n, oh, ow} dy[n, co, oh, ow] x[n, ci, ih, iw]
//   backward_bias    db[co]           += sum_{n, oh, ow} dy[n, co, oh, ow]
// Parameter gradients accumulate (+=) so several backward passes can add into one gradient buffer;
// data gradients overwrite.
#include <cstddef>

#include "kernels/activation.h"
#include "kernels/backend.h"

namespace sgan {

enum class Padding { same, valid };

struct Conv2dShape {
  int n = 0, c_in = 0, h_in = 0, w_in = 0;
  int c_out = 0, kh = 0, kw = 0, stride = 1;
  int pad_top = 0, pad_left = 0;
  int h_out = 0, w_out = 0;

  std::size_t x_size() const { return std::size_t(n) * c_in * h_in * w_in; }
  std::size_t w_size() const { return std::size_t(c_out) * c_in * kh * kw; }
  std::size_t y_size() const { return std::size_t(n) * c_out * h_out * w_out; }
  // Multiply-adds of the forward pass (each direction does the same number).
  double macs() const { return double(n) * c_out * h_out * w_out * c_in * kh * kw; }
};

// The shape Keras gives Conv2D(c_out, (kh, kw), strides=stride, padding=...):
//   same:  h_out = ceil(h_in / s), total pad = max((h_out - 1) s + kh - h_in, 0), top = total / 2
//   valid: h_out = (h_in - kh) / s + 1, no padding
Conv2dShape conv2d_shape(int n, int c_in, int h_in, int w_in, int c_out, int kh, int kw, int stride,
                         Padding padding);

// Throws std::invalid_argument naming the field if a shape is not a valid convolution (non-positive
// sizes, a pad as large as the kernel, an output that reads no input row or column).
void validate(const Conv2dShape& shape);

namespace cpu {
template <typename T>
void conv2d_forward(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y,
                    const Activation& epilogue = {});
template <typename T>
void conv2d_backward_data(const Conv2dShape& s, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_backward_weight(const Conv2dShape& s, const T* x, const T* dy, T* dw);
template <typename T>
void conv2d_backward_bias(const Conv2dShape& s, const T* dy, T* db);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
// Implicit GEMM with shared-memory tiles and register blocking; no im2col buffer.
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                    const Activation& epilogue, cudaStream_t stream);
void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx,
                          cudaStream_t stream);
void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                            cudaStream_t stream);
void conv2d_backward_bias(const Conv2dShape& s, const float* dy, float* db, cudaStream_t stream);
}  // namespace cuda
#endif

#if defined(SGAN_WITH_CUDNN)
namespace cudnn {
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                    const Activation& epilogue, Handle& h);
void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx,
                          Handle& h);
void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                            Handle& h);
void conv2d_backward_bias(const Conv2dShape& s, const float* dy, float* db, Handle& h);
}  // namespace cudnn
#endif

}  // namespace sgan
