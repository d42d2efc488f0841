#pragma once
// Additive Gaussian noise (improved-gan's regulariser of D): in training mode y = x + sigma n with
// n ~ N(0, 1) drawn from Philox (the model's seed, this layer's stream, the counter in the
// RngState); eval mode is the identity (x itself is returned, not a copy). The noise does not
// depend on x, so dL/dx = dL/dy and backward returns dy itself.
#include "engine/graph/layer.h"
#include "kernels/philox.h"

#include <string>

namespace sgan {

class GaussianNoise : public Layer {
public:
  // sigma >= 0: the noise's standard deviation.
  GaussianNoise(std::string name, float sigma);

  Shape plan(const Shape& input, ParameterSet& params) override;
  void allocate(Arena& arena) override;
  Tensor forward(Context& ctx, const Tensor& x) override;
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) override;

  float sigma() const { return sigma_; }

private:
  float sigma_;
  Shape input_shape_;
  Shape y_shape_; // the latest forward's output shape
  Tensor output_; // buffer for the planned rows
};

} // namespace sgan
