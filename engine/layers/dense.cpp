#include "engine/layers/dense.h"

#include "engine/core/ops.h"
#include "engine/layers/shape_checks.h"

#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

Dense::Dense(std::string name, int units, DenseOptions options)
    : Layer(std::move(name)), units_(units), options_(options) {
  if (units <= 0)
    throw std::invalid_argument(fmt::format(
        "dense layer '{}' needs a positive number of units, got {}", this->name(), units));
}

Shape Dense::plan(const Shape& input, ParameterSet& params) {
  if (input.rank() != 2)
    throw std::invalid_argument(fmt::format(
        "dense layer '{}' expects inputs [n, features], got {} (add a Flatten layer before it)",
        name(), input.str()));
  in_ = input[1];
  input_shape_ = input;
  output_shape_ = Shape{input[0], units_};
  const Shape w_shape{units_, in_};
  if (options_.weight_norm) {
    v_ = &params.declare(name() + ".weight_v", w_shape,
                         options_.weight_init.value_or(Init::normal(0.0f, 0.05f)));
    g_ = &params.declare(name() + ".weight_g", Shape{units_}, Init::constant(1.0f),
                         options_.train_scale);
  } else {
    weight_ = &params.declare(name() + ".weight", w_shape,
                              options_.weight_init.value_or(Init::glorot_uniform(in_, units_)));
  }
  if (options_.bias) bias_ = &params.declare(name() + ".bias", Shape{units_}, Init::constant(0.0f));
  return output_shape_;
}

void Dense::allocate(Arena& arena) {
  output_ = arena.tensor(output_shape_);
  input_grad_ = arena.tensor(input_shape_);
  if (options_.activation.kind != ActivationKind::identity) dz_ = arena.tensor(output_shape_);
  if (options_.weight_norm) {
    w_ = arena.tensor(Shape{units_, in_});
    norm_ = arena.tensor(Shape{units_});
    dw_ = arena.tensor(Shape{units_, in_});
    if (!options_.train_scale) dg_ = arena.tensor(Shape{units_});
  }
}

const float* Dense::effective_weight() const {
  return options_.weight_norm ? w_.data : weight_->value.data;
}

Tensor Dense::forward(Context& ctx, const Tensor& x) {
  check_forward_input(name(), input_shape_, x.shape);
  x_ = x;
  if (options_.weight_norm)
    ops::weight_norm_forward(ctx, {units_, in_}, v_->value.data, g_->value.data, w_.data,
                             norm_.data);
  y_ = output_.rows(0, x.rows());
  ops::dense_forward(ctx, shape(x.rows()), x.data, effective_weight(),
                     bias_ ? bias_->value.data : nullptr, y_.data, options_.activation);
  return y_;
}

Tensor Dense::backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) {
  check_backward_input(name(), y_.shape, dy.shape);
  const DenseShape s = shape(dy.rows());
  // dz = dL/d(x W^T + b) = dy f'(.), with f' written in the output y.
  const float* dz = dy.data;
  if (options_.activation.kind != ActivationKind::identity) {
    ops::activation_backward(ctx, options_.activation, s.y_size(), y_.data, dy.data, dz_.data);
    dz = dz_.data;
  }
  if (options.param_grads) {
    accumulate_weight_grads(ctx, s, dz);
    if (bias_) ops::dense_backward_bias(ctx, s, dz, bias_->grad.data);
  }
  if (!options.input_grad) return {};
  const Tensor dx = input_grad_.rows(0, s.n);
  ops::dense_backward_data(ctx, s, dz, effective_weight(), dx.data);
  return dx;
}

void Dense::accumulate_weight_grads(Context& ctx, const DenseShape& s, const float* dz) {
  if (!options_.weight_norm) {
    ops::dense_backward_weight(ctx, s, x_.data, dz, weight_->grad.data);
    return;
  }
  // dL/dW into a scratch, then through W = g v / ||v|| into dv (and dg) by the chain rule.
  // A frozen g's gradient goes to a scratch that is never read.
  ctx.zero(dw_.data, dw_.size() * sizeof(float));
  ops::dense_backward_weight(ctx, s, x_.data, dz, dw_.data);
  float* dg = options_.train_scale ? g_->grad.data : dg_.data;
  if (!options_.train_scale) ctx.zero(dg_.data, dg_.size() * sizeof(float));
  ops::weight_norm_backward(ctx, {units_, in_}, v_->value.data, g_->value.data, norm_.data,
                            dw_.data, v_->grad.data, dg);
}

} // namespace sgan
