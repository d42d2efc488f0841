#pragma once
// 2-D transposed convolution, NCHW, float32: the adjoint of conv2d. With x of shape
// [n, c_in, h_in, w_in] and w of shape [c_in, c_out, kh, kw] (PyTorch's ConvTranspose2d layout),
//
//   y[n, co, oh, ow] = act( b[co] + sum over (ci, i, j, ih, iw) with oh = ih*s - pad_top + i,
//                                    ow = iw*s - pad_left + j of x[n, ci, ih, iw] w[ci, co, i, j] )
//
// i.e. each input pixel scatters a weighted kernel into the output. Outputs written outside
// [0, h_out) x [0, w_out) are dropped. It equals conv2d_backward_data of the convolution that maps
// y's shape to x's shape with the same kernel, stride and pads (as_conv2d below), which is how
// Keras/TF define Conv2DTranspose: "same" gives h_out = h_in * s with the pads of the conv2d that
// would map h_out back to h_in (k4 s2: pad_top 1).
//
// Backward:
//   backward_data    dx = conv2d_forward of dy with w (no bias)        (overwrites dx)
//   backward_weight  dw[ci, co, i, j] += sum_{n, ih, iw} x[n, ci, ih, iw] dy[n, co, oh, ow]
//   backward_bias    db[co] += sum_{n, oh, ow} dy[n, co, oh, ow]
#include <cstddef>

#include "kernels/activation.h"
#include "kernels/backend.h"
#include "kernels/conv2d.h"

namespace sgan {

struct ConvTranspose2dShape {
  int n = 0, c_in = 0, h_in = 0, w_in = 0;
  int c_out = 0, kh = 0, kw = 0, stride = 1;
  int pad_top = 0, pad_left = 0;
  int h_out = 0, w_out = 0;

  std::size_t x_size() const { return std::size_t(n) * c_in * h_in * w_in; }
  std::size_t w_size() const { return std::size_t(c_in) * c_out * kh * kw; }
  std::size_t y_size() const { return std::size_t(n) * c_out * h_out * w_out; }
  double macs() const { return double(n) * c_in * h_in * w_in * c_out * kh * kw; }
};

// The shape Keras gives Conv2DTranspose(c_out, (kh, kw), strides=stride, padding=...):
//   same:  h_out = h_in * s, pads of conv2d_shape(h_out -> h_in, same)
//   valid: h_out = (h_in - 1) * s + kh, no padding
ConvTranspose2dShape conv_transpose2d_shape(int n, int c_in, int h_in, int w_in, int c_out, int kh,
                                            int kw, int stride, Padding padding);

// The convolution whose backward_data this transposed convolution is: it maps [n, c_out, h_out,
// w_out] to [n, c_in, h_in, w_in] and its weight [c_in, c_out, kh, kw] is this one's weight.
Conv2dShape as_conv2d(const ConvTranspose2dShape& s);

// Throws std::invalid_argument naming the field if the shape is not a valid transposed convolution.
void validate(const ConvTranspose2dShape& shape);

namespace cpu {
template <typename T>
void conv_transpose2d_forward(const ConvTranspose2dShape& s, const T* x, const T* w, const T* b,
                              T* y, const Activation& epilogue = {});
template <typename T>
void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const T* dy, const T* w, T* dx);
template <typename T>
void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const T* x, const T* dy,
                                      T* dw);
template <typename T>
void conv_transpose2d_backward_bias(const ConvTranspose2dShape& s, const T* dy, T* db);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void conv_transpose2d_forward(const ConvTranspose2dShape& s, const float* x, const float* w,
                              const float* b, float* y, const Activation& epilogue,
                              cudaStream_t stream);
void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const float* dy, const float* w,
                                    float* dx, cudaStream_t stream);
void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const float* x,
                                      const float* dy, float* dw, cudaStream_t stream);
void conv_transpose2d_backward_bias(const ConvTranspose2dShape& s, const float* dy, float* db,
                                    cudaStream_t stream);
}  // namespace cuda
#endif

#if defined(SGAN_WITH_CUDNN)
namespace cudnn {
void conv_transpose2d_forward(const ConvTranspose2dShape& s, const float* x, const float* w,
                              const float* b, float* y, const Activation& epilogue, Handle& h);
void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const float* dy, const float* w,
                                    float* dx, Handle& h);
void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const float* x,
                                      const float* dy, float* dw, Handle& h);
void conv_transpose2d_backward_bias(const ConvTranspose2dShape& s, const float* dy, float* db,
                                    Handle& h);
}  // namespace cudnn
#endif

}  // namespace sgan
