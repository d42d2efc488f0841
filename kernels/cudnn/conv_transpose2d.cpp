// The cuDNN twin of conv_transpose2d, through the conv2d twin and the identities with the
// convolution c = as_conv2d(s) that maps y's shape back to x's (kernels/conv_transpose2d.h):
//   forward          y  = act(b + conv2d_backward_data_c(x))   bias and activation a second pass
//   backward_data    dx = conv2d_forward_c(dy)
//   backward_weight  dw += conv2d_backward_weight_c with x and dy in each other's place
//   backward_bias    db += cudnnConvolutionBackwardBias(dy)
#include "kernels/conv_transpose2d.h"

#include "kernels/activation.h"
#include "kernels/cudnn/check.h"
#include "kernels/cudnn/handle.h"

namespace sgan::cudnn {
namespace {

constexpr float one = 1.0f;

class TensorDescriptor {
public:
  TensorDescriptor(int n, int c, int h, int w) {
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  }
  ~TensorDescriptor() { cudnnDestroyTensorDescriptor(desc_); }
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  cudnnTensorDescriptor_t get() const { return desc_; }

private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

} // namespace

// y = act(y + b) in place after the backward_data pass, as in the conv2d twin.
void conv_transpose2d_forward(const ConvTranspose2dShape& s, const float* x, const float* w,
                              const float* b, float* y, const Activation& epilogue, Handle& h) {
  conv2d_backward_data(as_conv2d(s), x, w, y, h);
  if (b) {
    const TensorDescriptor bias(1, s.c_out, 1, 1), out(s.n, s.c_out, s.h_out, s.w_out);
    CUDNN_CHECK(cudnnAddTensor(h.cudnn(), &one, bias.get(), b, &one, out.get(), y));
  }
  if (epilogue.kind == ActivationKind::identity) return;
  if (has_activation(epilogue.kind))
    activation_forward(epilogue, s.y_size(), y, y, h);
  else
    cuda::activation_forward(epilogue, s.y_size(), y, y, h.stream());
}

void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const float* dy, const float* w,
                                    float* dx, Handle& h) {
  conv2d_forward(as_conv2d(s), dy, w, nullptr, dx, Activation::identity(), h);
}

// In c, the input is convT's output (dy here) and the output gradient is convT's input x.
void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const float* x,
                                      const float* dy, float* dw, Handle& h) {
  conv2d_backward_weight(as_conv2d(s), dy, x, dw, h);
}

void conv_transpose2d_backward_bias(const ConvTranspose2dShape& s, const float* dy, float* db,
                                    Handle& h) {
  const TensorDescriptor grad(s.n, s.c_out, s.h_out, s.w_out), bias(1, s.c_out, 1, 1);
  CUDNN_CHECK(cudnnConvolutionBackwardBias(h.cudnn(), &one, grad.get(), dy, &one, bias.get(), db));
}

} // namespace sgan::cudnn
