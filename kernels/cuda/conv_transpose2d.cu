// conv_transpose2d on the GPU through the conv2d kernels, by its identities with the convolution
// c = as_conv2d(s) that maps y's shape back to x's (kernels/conv_transpose2d.h), whose weight is
// this op's weight:
//   forward          y  = act(b + conv2d_backward_data_c(x))   one launch, bias and act fused
//   backward_data    dx = conv2d_forward_c(dy)
//   backward_weight  dw += conv2d_backward_weight_c with x and dy in each other's place
//   backward_bias    db += per-channel sums of dy
#include "kernels/conv_transpose2d.h"
#include "kernels/cuda/conv_implicit_gemm.cuh"
#include "kernels/cuda/conv_variants.h"

namespace sgan::cuda {

void conv_transpose2d_forward(ConvVariant variant, const ConvTranspose2dShape& s, const float* x,
                              const float* w, const float* b, float* y, const Activation& epilogue,
                              cudaStream_t stream) {
  conv2d_backward_data_epilogue(variant, as_conv2d(s), x, w, b, epilogue, y, stream);
}

void conv_transpose2d_backward_data(ConvVariant variant, const ConvTranspose2dShape& s,
                                    const float* dy, const float* w, float* dx,
                                    cudaStream_t stream) {
  conv2d_forward(variant, as_conv2d(s), dy, w, nullptr, dx, Activation::identity(), stream);
}

// In c, the input is convT's output (dy here) and the output gradient is convT's input x:
// dw[ci, co, i, j] += sum x[n, ci, ih, iw] dy[n, co, ih s - pad_top + i, iw s - pad_left + j].
void conv_transpose2d_backward_weight(ConvVariant variant, const ConvTranspose2dShape& s,
                                      const float* x, const float* dy, float* dw,
                                      cudaStream_t stream) {
  conv2d_backward_weight(variant, as_conv2d(s), dy, x, dw, stream);
}

void conv_transpose2d_forward(const ConvTranspose2dShape& s, const float* x, const float* w,
                              const float* b, float* y, const Activation& epilogue,
                              cudaStream_t stream) {
  conv_transpose2d_forward(default_conv_variant, s, x, w, b, y, epilogue, stream);
}

void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const float* dy, const float* w,
                                    float* dx, cudaStream_t stream) {
  conv_transpose2d_backward_data(default_conv_variant, s, dy, w, dx, stream);
}

void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const float* x,
                                      const float* dy, float* dw, cudaStream_t stream) {
  conv_transpose2d_backward_weight(default_conv_variant, s, x, dy, dw, stream);
}

void conv_transpose2d_backward_bias(const ConvTranspose2dShape& s, const float* dy, float* db,
                                    cudaStream_t stream) {
  channel_sum_accumulate(s.n, s.c_out, std::int64_t(s.h_out) * s.w_out, dy, db, stream);
}

} // namespace sgan::cuda
