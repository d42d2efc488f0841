#pragma once
// Batch normalisation per channel, y = f(gamma (x - mean) / sqrt(var + eps) + beta):
// BatchNorm1d on [n, c] (statistics over the batch), BatchNorm2d on [n, c, h, w] (over the batch
// and the h * w positions). Training mode normalises with the batch's statistics and updates the
// running ones (kernels/batchnorm.h gives the momentum convention); eval mode uses the running
// ones.
//
// Parameters, under PyTorch's names: weight (gamma, ones) and bias (beta, zeros) are trained;
// running_mean (zeros) and running_var (ones) are state. With scale = false gamma stays at 1 and is
// state, as lasagne's batch_norm(g=None) in improved-gan's generator.
//
// The activation f is fused into the forward pass; backward undoes it from the output y, then
// backpropagates through the batch statistics. Backward needs a training-mode forward (the batch
// statistics are what it differentiates through).
#include "engine/graph/layer.h"
#include "kernels/activation.h"
#include "kernels/batchnorm.h"

#include <string>

namespace sgan {

class BatchNorm : public Layer {
public:
  BatchNorm(std::string name, BatchNormHyper hyper = {}, Activation activation = {},
            bool scale = true);

  Shape plan(const Shape& input, ParameterSet& params) override;
  void allocate(Arena& arena) override;
  Tensor forward(Context& ctx, const Tensor& x) override;
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) override;

  Parameter* gamma() const { return gamma_; }
  Parameter* beta() const { return beta_; }
  Parameter* running_mean() const { return running_mean_; }
  Parameter* running_var() const { return running_var_; }

private:
  BatchNormShape shape(int rows) const { return {rows, channels_, spatial_}; }

  BatchNormHyper hyper_;
  Activation activation_;
  bool scale_;
  int channels_ = 0, spatial_ = 1;
  Shape input_shape_;
  Parameter* gamma_ = nullptr;
  Parameter* beta_ = nullptr;
  Parameter* running_mean_ = nullptr;
  Parameter* running_var_ = nullptr;

  Tensor x_, y_; // the latest forward's input and output (views)
  bool forward_was_training_ = false;
  Tensor output_, input_grad_, dz_;  // buffers for the planned rows
  Tensor saved_mean_, saved_invstd_; // the latest training batch's statistics, per channel
  // Where dgamma/dbeta go when they are not wanted (the kernel always writes both).
  Tensor dgamma_scratch_, dbeta_scratch_;
};

} // namespace sgan
