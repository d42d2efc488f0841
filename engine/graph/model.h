#pragma once
// A model is an ordered chain of named layers. Any layer's latest output can be read by name
// (feature matching reads D's penultimate activation), and the backward pass can start at any
// layer (the gradient of a loss on that layer's output) and run the chain in reverse to the input.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/graph/layer.h"
#include "engine/graph/parameters.h"

namespace sgan {

class Model {
 public:
  // `rng_stream_base` keeps the Philox streams of different models apart (layer i draws from
  // stream base + i).
  Model(std::string name, std::uint32_t rng_stream_base);

  template <typename L, typename... Args>
  L& add(Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    layers_.push_back(std::move(layer));
    return ref;
  }

  // Plans every layer for inputs of up to input[0] rows, allocates parameters and activations.
  void build(Arena& arena, const Shape& input);
  void initialize(Context& ctx, std::uint64_t seed) { params_.initialize(ctx, seed); }

  Tensor forward(Context& ctx, const Tensor& x);
  // dy is the gradient with respect to the model's output (backward) or to layer `from`'s output.
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options = {});
  Tensor backward_from(Context& ctx, std::string_view from, const Tensor& dy,
                       const BackwardOptions& options = {});

  // The output of layer `name` in the latest forward pass, and its planned shape (most rows).
  Tensor output(std::string_view name) const;
  const Shape& planned_output_shape(std::string_view name) const;
  Layer& layer(std::string_view name) const;
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }

  void set_training(bool training);
  void set_rng(const RngState* rng);

  const std::string& name() const { return name_; }
  ParameterSet& parameters() { return params_; }
  const ParameterSet& parameters() const { return params_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }

 private:
  std::size_t index_of(std::string_view name) const;

  std::string name_;
  std::uint32_t rng_stream_base_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> outputs_;
  std::vector<Shape> planned_shapes_;
  ParameterSet params_;
  Shape input_shape_, output_shape_;
  bool built_ = false;
};

}  // namespace sgan
