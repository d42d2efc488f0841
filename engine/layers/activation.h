#pragma once
// A pointwise activation as a layer of its own (LeakyReLU, ReLU, Tanh, Sigmoid, Softplus; see
// kernels/activation.h for the formulas), for the places where it is not fused into the layer
// before it. Backward takes f' from the output y.
#include "engine/graph/layer.h"
#include "kernels/activation.h"

#include <string>

namespace sgan {

class ActivationLayer : public Layer {
public:
  ActivationLayer(std::string name, Activation activation);

  Shape plan(const Shape& input, ParameterSet& params) override;
  void allocate(Arena& arena) override;
  Tensor forward(Context& ctx, const Tensor& x) override;
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) override;

  const Activation& activation() const { return activation_; }

private:
  Activation activation_;
  Shape input_shape_;
  Tensor y_;                   // the latest forward's output (a view)
  Tensor output_, input_grad_; // buffers for the planned rows
};

} // namespace sgan
