// cuDNN's activations as a twin of ours, through cudnnActivationForward/Backward on an n-element
// tensor viewed as [1, 1, 1, n].
#include <stdexcept>
#include <string>

#include "kernels/activation.h"
#include "kernels/cudnn/check.h"
#include "kernels/cudnn/handle.h"

namespace sgan::cudnn {
namespace {

cudnnActivationMode_t cudnn_mode(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::relu: return CUDNN_ACTIVATION_RELU;
    case ActivationKind::tanh: return CUDNN_ACTIVATION_TANH;
    case ActivationKind::sigmoid: return CUDNN_ACTIVATION_SIGMOID;
    default:
      throw std::invalid_argument(std::string("cuDNN has no ") + activation_name(kind) +
                                  " activation");
  }
}

// The descriptors of one call, destroyed on every exit path.
class ActivationDescriptors {
 public:
  ActivationDescriptors(const Activation& a, std::size_t n) {
    if (n > static_cast<std::size_t>(INT32_MAX))
      throw std::invalid_argument("cudnn activation: more than 2^31 elements");
    const cudnnActivationMode_t mode = cudnn_mode(a.kind);
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&tensor));
    CUDNN_CHECK(cudnnCreateActivationDescriptor(&activation));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(tensor, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 1, 1,
                                           static_cast<int>(n)));
    CUDNN_CHECK(cudnnSetActivationDescriptor(activation, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  }
  ~ActivationDescriptors() {
    cudnnDestroyActivationDescriptor(activation);
    cudnnDestroyTensorDescriptor(tensor);
  }
  ActivationDescriptors(const ActivationDescriptors&) = delete;
  ActivationDescriptors& operator=(const ActivationDescriptors&) = delete;

  cudnnTensorDescriptor_t tensor = nullptr;
  cudnnActivationDescriptor_t activation = nullptr;
};

}  // namespace

bool has_activation(ActivationKind kind) {
  return kind == ActivationKind::relu || kind == ActivationKind::tanh ||
         kind == ActivationKind::sigmoid;
}

void activation_forward(const Activation& a, std::size_t n, const float* x, float* y, Handle& h) {
  if (n == 0) return;
  const ActivationDescriptors d(a, n);
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnActivationForward(h.cudnn(), d.activation, &one, d.tensor, x, &zero, d.tensor, y));
}

// cuDNN's backward also takes the input x; for relu, tanh and sigmoid the derivative is a function
// of y (relu: x > 0 exactly when y > 0), so y stands in for x, as in our own backward.
void activation_backward(const Activation& a, std::size_t n, const float* y, const float* dy,
                         float* dx, Handle& h) {
  if (n == 0) return;
  const ActivationDescriptors d(a, n);
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnActivationBackward(h.cudnn(), d.activation, &one, d.tensor, y, d.tensor, dy,
                                      d.tensor, y, &zero, d.tensor, dx));
}

}  // namespace sgan::cudnn
