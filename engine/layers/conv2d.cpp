#include "engine/layers/conv2d.h"

#include "engine/core/ops.h"
#include "engine/layers/shape_checks.h"

#include <cstdint>
#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

Conv2d::Conv2d(std::string name, int filters, int kernel, int stride, Padding padding,
               Activation activation, bool bias)
    : Layer(std::move(name)), filters_(filters), kernel_(kernel), stride_(stride),
      padding_(padding), activation_(activation), has_bias_(bias) {}

Conv2dShape Conv2d::shape(int rows) const {
  Conv2dShape s = planned_;
  s.n = rows;
  return s;
}

Shape Conv2d::plan(const Shape& input, ParameterSet& params) {
  if (input.rank() != 4)
    throw std::invalid_argument(
        fmt::format("conv2d layer '{}' expects inputs [n, channels, height, width], got {}", name(),
                    input.str()));
  try {
    planned_ = conv2d_shape(input[0], input[1], input[2], input[3], filters_, kernel_, kernel_,
                            stride_, padding_);
    validate(planned_);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(
        fmt::format("conv2d layer '{}' on inputs {}: {}", name(), input.str(), e.what()));
  }
  input_shape_ = input;
  output_shape_ = Shape{input[0], filters_, planned_.h_out, planned_.w_out};
  // Keras' fans for a conv kernel: channels times the receptive field.
  const std::int64_t field = std::int64_t(kernel_) * kernel_;
  weight_ = &params.declare(name() + ".weight", Shape{filters_, input[1], kernel_, kernel_},
                            Init::glorot_uniform(input[1] * field, filters_ * field));
  if (has_bias_) bias_ = &params.declare(name() + ".bias", Shape{filters_}, Init::constant(0.0f));
  return output_shape_;
}

void Conv2d::allocate(Arena& arena) {
  output_ = arena.tensor(output_shape_);
  input_grad_ = arena.tensor(input_shape_);
  if (activation_.kind != ActivationKind::identity) dz_ = arena.tensor(output_shape_);
}

Tensor Conv2d::forward(Context& ctx, const Tensor& x) {
  check_forward_input(name(), input_shape_, x.shape);
  x_ = x;
  y_ = output_.rows(0, x.rows());
  ops::conv2d_forward(ctx, shape(x.rows()), x.data, weight_->value.data,
                      bias_ ? bias_->value.data : nullptr, y_.data, activation_);
  return y_;
}

Tensor Conv2d::backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) {
  check_backward_input(name(), y_.shape, dy.shape);
  const Conv2dShape s = shape(dy.rows());
  // dz = dL/d(conv + b) = dy f'(.), with f' written in the output y.
  const float* dz = dy.data;
  if (activation_.kind != ActivationKind::identity) {
    ops::activation_backward(ctx, activation_, s.y_size(), y_.data, dy.data, dz_.data);
    dz = dz_.data;
  }
  if (options.param_grads) {
    ops::conv2d_backward_weight(ctx, s, x_.data, dz, weight_->grad.data);
    if (bias_) ops::conv2d_backward_bias(ctx, s, dz, bias_->grad.data);
  }
  if (!options.input_grad) return {};
  const Tensor dx = input_grad_.rows(0, s.n);
  ops::conv2d_backward_data(ctx, s, dz, weight_->value.data, dx.data);
  return dx;
}

} // namespace sgan
