#include "engine/graph/model.h"

#include <fmt/format.h>

#include <stdexcept>

namespace sgan {

Model::Model(std::string name, std::uint32_t rng_stream_base)
    : name_(std::move(name)), rng_stream_base_(rng_stream_base) {}

void Model::build(Arena& arena, const Shape& input) {
  if (built_) throw std::logic_error(fmt::format("model {} built twice", name_));
  if (layers_.empty()) throw std::logic_error(fmt::format("model {} has no layers", name_));
  input_shape_ = input;
  Shape shape = input;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (layers_[j]->name() == layers_[i]->name())
        throw std::logic_error(fmt::format("model {} has two layers named '{}'", name_,
                                           layers_[i]->name()));
    shape = layers_[i]->plan(shape, params_);
    planned_shapes_.push_back(shape);
    layers_[i]->set_rng(rng_stream_base_ + static_cast<std::uint32_t>(i), nullptr);
  }
  output_shape_ = shape;
  params_.allocate(arena);
  for (auto& layer : layers_) layer->allocate(arena);
  outputs_.assign(layers_.size(), Tensor{});
  built_ = true;
}

Tensor Model::forward(Context& ctx, const Tensor& x) {
  if (!built_) throw std::logic_error(fmt::format("model {} used before build", name_));
  if (x.shape.rank() != input_shape_.rank() || x.rows() > input_shape_[0] ||
      x.shape.row_size() != input_shape_.row_size())
    throw std::invalid_argument(fmt::format("model {} was built for inputs {} (at most {} rows), got {}",
                                            name_, input_shape_.str(), input_shape_[0],
                                            x.shape.str()));
  Tensor h = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) outputs_[i] = h = layers_[i]->forward(ctx, h);
  return h;
}

Tensor Model::backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) {
  return backward_from(ctx, layers_.back()->name(), dy, options);
}

Tensor Model::backward_from(Context& ctx, std::string_view from, const Tensor& dy,
                            const BackwardOptions& options) {
  const std::size_t start = index_of(from);
  Tensor g = dy;
  for (std::size_t i = start + 1; i-- > 0;) {
    BackwardOptions layer_options = options;
    if (i > 0) layer_options.input_grad = true;
    g = layers_[i]->backward(ctx, g, layer_options);
  }
  return g;
}

Tensor Model::output(std::string_view name) const { return outputs_[index_of(name)]; }

const Shape& Model::planned_output_shape(std::string_view name) const {
  return planned_shapes_[index_of(name)];
}

Layer& Model::layer(std::string_view name) const { return *layers_[index_of(name)]; }

void Model::set_training(bool training) {
  for (auto& layer : layers_) layer->set_training(training);
}

void Model::set_rng(const RngState* rng) {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    layers_[i]->set_rng(rng_stream_base_ + static_cast<std::uint32_t>(i), rng);
}

std::size_t Model::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i]->name() == name) return i;
  throw std::invalid_argument(fmt::format("model {} has no layer named '{}'", name_, name));
}

}  // namespace sgan
