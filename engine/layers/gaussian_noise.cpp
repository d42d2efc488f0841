#include "engine/layers/gaussian_noise.h"

#include "engine/core/ops.h"
#include "engine/layers/shape_checks.h"

#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

GaussianNoise::GaussianNoise(std::string name, float sigma)
    : Layer(std::move(name)), sigma_(sigma) {
  if (!(sigma >= 0.0f))
    throw std::invalid_argument(fmt::format(
        "gaussian noise layer '{}' needs a non-negative sigma, got {}", this->name(), sigma));
}

Shape GaussianNoise::plan(const Shape& input, ParameterSet&) {
  input_shape_ = input;
  return input;
}

void GaussianNoise::allocate(Arena& arena) { output_ = arena.tensor(input_shape_); }

Tensor GaussianNoise::forward(Context& ctx, const Tensor& x) {
  check_forward_input(name(), input_shape_, x.shape);
  y_shape_ = x.shape;
  if (!training_) return x;
  if (!rng_)
    throw std::logic_error(fmt::format(
        "gaussian noise layer '{}' has no random state in training mode (call Model::set_rng "
        "first)",
        name()));
  const Tensor y = output_.rows(0, x.rows());
  ops::gaussian_noise_forward(ctx, x.size(), sigma_, {rng_->seed, rng_stream_}, rng_->counter,
                              x.data, y.data);
  return y;
}

Tensor GaussianNoise::backward(Context&, const Tensor& dy, const BackwardOptions& options) {
  check_backward_input(name(), y_shape_, dy.shape);
  return options.input_grad ? dy : Tensor{};
}

} // namespace sgan
