#pragma once
// Pointwise activations, forward and backward, and the same math as an epilogue that conv2d,
// conv_transpose2d, batchnorm and dense forwards apply to their outputs.
//
//   identity    y = x
//   relu        y = max(x, 0)
//   leaky_relu  y = x > 0 ? x : slope * x            (slope >= 0)
//   tanh        y = tanh(x)
//   sigmoid     y = 1 / (1 + exp(-x))
//   softplus    y = log(1 + exp(x))
//
// Backward takes the forward *output* y, not the input: every derivative above can be written in
// y (relu/leaky_relu: y > 0; tanh: 1 - y^2; sigmoid: y (1 - y); softplus: sigmoid(x) = 1 - exp(-y)),
// so a layer with a fused epilogue need not keep its pre-activation. dx may alias dy.
#include <cmath>
#include <cstddef>

#include "kernels/backend.h"

namespace sgan {

enum class ActivationKind { identity, relu, leaky_relu, tanh, sigmoid, softplus };

struct Activation {
  ActivationKind kind = ActivationKind::identity;
  float slope = 0.0f;  // leaky_relu only

  static Activation identity() { return {}; }
  static Activation relu() { return {ActivationKind::relu, 0.0f}; }
  static Activation leaky_relu(float slope) { return {ActivationKind::leaky_relu, slope}; }
  static Activation tanh() { return {ActivationKind::tanh, 0.0f}; }
  static Activation sigmoid() { return {ActivationKind::sigmoid, 0.0f}; }
  static Activation softplus() { return {ActivationKind::softplus, 0.0f}; }
};

const char* activation_name(ActivationKind kind);

// y = f(x). Softplus is written max(x, 0) + log1p(exp(-|x|)) so it never overflows.
template <typename T>
SGAN_HOST_DEVICE inline T activation_apply(const Activation& a, T x) {
  using std::exp, std::log1p, std::tanh, std::fabs;
  switch (a.kind) {
    case ActivationKind::identity: return x;
    case ActivationKind::relu: return x > T(0) ? x : T(0);
    case ActivationKind::leaky_relu: return x > T(0) ? x : T(a.slope) * x;
    case ActivationKind::tanh: return tanh(x);
    case ActivationKind::sigmoid: return T(1) / (T(1) + exp(-x));
    case ActivationKind::softplus: return (x > T(0) ? x : T(0)) + log1p(exp(-fabs(x)));
  }
  return x;
}

// f'(x) written in y = f(x). Softplus: sigmoid(x) = 1 - exp(-y) = -expm1(-y), exact for small y.
template <typename T>
SGAN_HOST_DEVICE inline T activation_derivative_from_output(const Activation& a, T y) {
  using std::expm1;
  switch (a.kind) {
    case ActivationKind::identity: return T(1);
    case ActivationKind::relu: return y > T(0) ? T(1) : T(0);
    case ActivationKind::leaky_relu: return y > T(0) ? T(1) : T(a.slope);
    // (1 - y)(1 + y), not 1 - y^2: near |y| = 1 the product is exact to a rounding or two, where
    // 1 - y*y in float loses the digits y*y's rounding took (1e-4 relative at y = 0.9997) unless
    // the compiler fuses it into an FMA.
    case ActivationKind::tanh: return (T(1) - y) * (T(1) + y);
    case ActivationKind::sigmoid: return y * (T(1) - y);
    case ActivationKind::softplus: return -expm1(-y);
  }
  return T(1);
}

namespace cpu {
template <typename T>
void activation_forward(const Activation& a, std::size_t n, const T* x, T* y);
template <typename T>
void activation_backward(const Activation& a, std::size_t n, const T* y, const T* dy, T* dx);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void activation_forward(const Activation& a, std::size_t n, const float* x, float* y,
                        cudaStream_t stream);
void activation_backward(const Activation& a, std::size_t n, const float* y, const float* dy,
                         float* dx, cudaStream_t stream);
}  // namespace cuda
#endif

#if defined(SGAN_WITH_CUDNN)
namespace cudnn {
// cuDNN has relu, tanh and sigmoid (cudnnActivationForward/Backward); leaky_relu and softplus have
// no cuDNN twin and are rejected with std::invalid_argument.
bool has_activation(ActivationKind kind);
void activation_forward(const Activation& a, std::size_t n, const float* x, float* y, Handle& h);
void activation_backward(const Activation& a, std::size_t n, const float* y, const float* dy,
                         float* dx, Handle& h);
}  // namespace cudnn
#endif

}  // namespace sgan
