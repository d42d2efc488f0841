#pragma once
// Inverted dropout: in training mode each element is kept with probability keep = 1 - rate and
// scaled by 1 / keep, y = mask x / keep, so eval mode is the identity (x itself is returned, not a
// copy). The mask is drawn from Philox (the model's seed, this layer's stream, the counter in the
// RngState) and drawn again in backward, dx = mask dy / keep, never stored: the counter must not
// change between a forward pass and its backward pass.
#include "engine/graph/layer.h"
#include "kernels/philox.h"

#include <string>

namespace sgan {

class Dropout : public Layer {
public:
  // rate in [0, 1): the probability of dropping an element.
  Dropout(std::string name, float rate);

  Shape plan(const Shape& input, ParameterSet& params) override;
  void allocate(Arena& arena) override;
  Tensor forward(Context& ctx, const Tensor& x) override;
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) override;

  float rate() const { return rate_; }

private:
  PhiloxStream philox_stream() const;

  float rate_;
  Shape input_shape_;
  Shape y_shape_; // the latest forward's output shape
  bool forward_was_training_ = false;
  Tensor output_, input_grad_; // buffers for the planned rows
};

} // namespace sgan
