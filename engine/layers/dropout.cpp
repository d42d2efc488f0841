#include "engine/layers/dropout.h"

#include "engine/core/ops.h"
#include "engine/layers/shape_checks.h"

#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

Dropout::Dropout(std::string name, float rate) : Layer(std::move(name)), rate_(rate) {
  if (!(rate >= 0.0f && rate < 1.0f))
    throw std::invalid_argument(
        fmt::format("dropout layer '{}' needs a rate in [0, 1), got {}", this->name(), rate));
}

Shape Dropout::plan(const Shape& input, ParameterSet&) {
  input_shape_ = input;
  return input;
}

void Dropout::allocate(Arena& arena) {
  output_ = arena.tensor(input_shape_);
  input_grad_ = arena.tensor(input_shape_);
}

PhiloxStream Dropout::philox_stream() const {
  if (!rng_)
    throw std::logic_error(fmt::format(
        "dropout layer '{}' has no random state in training mode (call Model::set_rng first)",
        name()));
  return {rng_->seed, rng_stream_};
}

Tensor Dropout::forward(Context& ctx, const Tensor& x) {
  check_forward_input(name(), input_shape_, x.shape);
  y_shape_ = x.shape;
  forward_was_training_ = training_;
  if (!training_) return x;
  const PhiloxStream s = philox_stream();
  const Tensor y = output_.rows(0, x.rows());
  ops::dropout_forward(ctx, x.size(), 1.0f - rate_, s, rng_->counter, x.data, y.data);
  return y;
}

Tensor Dropout::backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) {
  check_backward_input(name(), y_shape_, dy.shape);
  if (!options.input_grad) return {};
  if (!forward_was_training_) return dy;
  const PhiloxStream s = philox_stream();
  const Tensor dx = input_grad_.rows(0, dy.rows());
  ops::dropout_backward(ctx, dy.size(), 1.0f - rate_, s, rng_->counter, dy.data, dx.data);
  return dx;
}

} // namespace sgan
