#include "engine/layers/batchnorm.h"

#include "engine/core/ops.h"
#include "engine/layers/shape_checks.h"

#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

BatchNorm::BatchNorm(std::string name, BatchNormHyper hyper, Activation activation, bool scale)
    : Layer(std::move(name)), hyper_(hyper), activation_(activation), scale_(scale) {}

Shape BatchNorm::plan(const Shape& input, ParameterSet& params) {
  if (input.rank() == 2) {
    channels_ = input[1];
    spatial_ = 1;
  } else if (input.rank() == 4) {
    channels_ = input[1];
    spatial_ = input[2] * input[3];
  } else {
    throw std::invalid_argument(fmt::format(
        "batchnorm layer '{}' expects inputs [n, c] or [n, c, h, w], got {}", name(), input.str()));
  }
  input_shape_ = input;
  const Shape c{channels_};
  gamma_ = &params.declare(name() + ".weight", c, Init::constant(1.0f), scale_);
  beta_ = &params.declare(name() + ".bias", c, Init::constant(0.0f));
  running_mean_ = &params.declare(name() + ".running_mean", c, Init::constant(0.0f), false);
  running_var_ = &params.declare(name() + ".running_var", c, Init::constant(1.0f), false);
  return input;
}

void BatchNorm::allocate(Arena& arena) {
  output_ = arena.tensor(input_shape_);
  input_grad_ = arena.tensor(input_shape_);
  if (activation_.kind != ActivationKind::identity) dz_ = arena.tensor(input_shape_);
  const Shape c{channels_};
  saved_mean_ = arena.tensor(c);
  saved_invstd_ = arena.tensor(c);
  dgamma_scratch_ = arena.tensor(c);
  dbeta_scratch_ = arena.tensor(c);
}

Tensor BatchNorm::forward(Context& ctx, const Tensor& x) {
  check_forward_input(name(), input_shape_, x.shape);
  x_ = x;
  y_ = output_.rows(0, x.rows());
  forward_was_training_ = training_;
  if (training_)
    ops::batchnorm_forward_train(ctx, shape(x.rows()), hyper_, x.data, gamma_->value.data,
                                 beta_->value.data, y_.data, running_mean_->value.data,
                                 running_var_->value.data, saved_mean_.data, saved_invstd_.data,
                                 activation_);
  else
    ops::batchnorm_forward_eval(ctx, shape(x.rows()), hyper_, x.data, gamma_->value.data,
                                beta_->value.data, running_mean_->value.data,
                                running_var_->value.data, y_.data, activation_);
  return y_;
}

Tensor BatchNorm::backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) {
  check_backward_input(name(), y_.shape, dy.shape);
  if (!forward_was_training_)
    throw std::logic_error(fmt::format(
        "batchnorm layer '{}': backward needs a training-mode forward pass (eval mode uses the "
        "running statistics, which have no gradient path here)",
        name()));
  if (!options.param_grads && !options.input_grad) return {};
  const BatchNormShape s = shape(dy.rows());
  // dz = dL/d(gamma xhat + beta) = dy f'(.), with f' written in the output y.
  const float* dz = dy.data;
  if (activation_.kind != ActivationKind::identity) {
    ops::activation_backward(ctx, activation_, s.size(), y_.data, dy.data, dz_.data);
    dz = dz_.data;
  }
  const bool gamma_grad = options.param_grads && gamma_->trainable;
  if (!gamma_grad) ctx.zero(dgamma_scratch_.data, dgamma_scratch_.size() * sizeof(float));
  if (!options.param_grads) ctx.zero(dbeta_scratch_.data, dbeta_scratch_.size() * sizeof(float));
  const Tensor dx = input_grad_.rows(0, s.n);
  ops::batchnorm_backward(ctx, s, x_.data, dz, gamma_->value.data, saved_mean_.data,
                          saved_invstd_.data, dx.data,
                          gamma_grad ? gamma_->grad.data : dgamma_scratch_.data,
                          options.param_grads ? beta_->grad.data : dbeta_scratch_.data);
  return options.input_grad ? dx : Tensor{};
}

} // namespace sgan
