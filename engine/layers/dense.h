#pragma once
// A fully connected layer, y = f(x W^T + b) on inputs [n, in], W [units, in] (PyTorch's layout).
//
// With weight normalisation (Salimans & Kingma 2016) W is not a parameter: each row is a trained
// direction v times a length g, W[o, :] = g[o] v[o, :] / ||v[o, :]||, recomputed into a layer
// buffer at every forward pass. g is trained only with train_scale; otherwise it is state, set by
// data_dependent_init and saved with the model but never touched by the optimiser (improved-gan
// trains the scale of its output layer only).
//
// The activation f is fused into the forward product; backward undoes it from the layer's output
// y (dz = dy f'(x W^T + b), written in y), then takes the three products.
#include "engine/graph/layer.h"
#include "kernels/activation.h"
#include "kernels/dense.h"
#include "kernels/weight_norm.h"

#include <optional>
#include <string>

namespace sgan {

struct DenseOptions {
  Activation activation{};
  bool bias = true;
  bool weight_norm = false;
  bool train_scale = true; // weight_norm only: whether g is trained
  // Default: Keras' glorot_uniform over (in, units); N(0, 0.05) for v with weight_norm (improved-
  // gan's WeightNormLayer; its MNIST layers draw from N(0, 0.1), the improved recipe's choice).
  // The scale of v does not change W, but Adam moves each element of v by up to ~lr a step
  // whatever its gradient's size, so it sets how fast W turns.
  std::optional<Init> weight_init{};
};

class Dense : public Layer {
public:
  Dense(std::string name, int units, DenseOptions options = {});

  Shape plan(const Shape& input, ParameterSet& params) override;
  void allocate(Arena& arena) override;
  Tensor forward(Context& ctx, const Tensor& x) override;
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) override;

  int units() const { return units_; }
  int in_features() const { return in_; }
  const DenseOptions& options() const { return options_; }
  // The parameters, valid after plan. Without weight_norm: weight() is W, weight_v() and
  // weight_g() are null. With it: weight_v() is v, weight_g() is g, weight() is null. bias() is
  // null without a bias.
  Parameter* weight() const { return weight_; }
  Parameter* weight_v() const { return v_; }
  Parameter* weight_g() const { return g_; }
  Parameter* bias() const { return bias_; }

private:
  DenseShape shape(int rows) const { return {rows, in_, units_}; }
  // W as the products see it: the parameter, or the weight-normalised buffer.
  const float* effective_weight() const;
  void accumulate_weight_grads(Context& ctx, const DenseShape& s, const float* dz);

  int units_;
  DenseOptions options_;
  int in_ = 0;
  Shape input_shape_, output_shape_;
  Parameter* weight_ = nullptr;
  Parameter* v_ = nullptr;
  Parameter* g_ = nullptr;
  Parameter* bias_ = nullptr;

  Tensor x_, y_;                    // the latest forward's input and output (views)
  Tensor output_, input_grad_, dz_; // buffers for the planned rows
  Tensor w_, norm_, dw_, dg_; // weight_norm: W, ||v|| per row, dL/dW scratch, frozen-g scratch
};

} // namespace sgan
