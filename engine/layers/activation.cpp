#include "engine/layers/activation.h"

#include "engine/core/ops.h"
#include "engine/layers/shape_checks.h"

namespace sgan {

ActivationLayer::ActivationLayer(std::string name, Activation activation)
    : Layer(std::move(name)), activation_(activation) {}

Shape ActivationLayer::plan(const Shape& input, ParameterSet&) {
  input_shape_ = input;
  return input;
}

void ActivationLayer::allocate(Arena& arena) {
  output_ = arena.tensor(input_shape_);
  input_grad_ = arena.tensor(input_shape_);
}

Tensor ActivationLayer::forward(Context& ctx, const Tensor& x) {
  check_forward_input(name(), input_shape_, x.shape);
  y_ = output_.rows(0, x.rows());
  ops::activation_forward(ctx, activation_, x.size(), x.data, y_.data);
  return y_;
}

Tensor ActivationLayer::backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) {
  check_backward_input(name(), y_.shape, dy.shape);
  if (!options.input_grad) return {};
  const Tensor dx = input_grad_.rows(0, dy.rows());
  ops::activation_backward(ctx, activation_, dy.size(), y_.data, dy.data, dx.data);
  return dx;
}

} // namespace sgan
