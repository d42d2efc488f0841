#pragma once
// A 2-D convolution layer, NCHW: y = f(conv(x, W) + b) with W [filters, c_in, k, k] (PyTorch's
// layout), Keras' glorot_uniform weights and zero bias, Keras "same"/"valid" padding. The
// activation f is fused into the forward pass; backward undoes it from the output y first.
#include "engine/graph/layer.h"
#include "kernels/activation.h"
#include "kernels/conv2d.h"

#include <string>

namespace sgan {

class Conv2d : public Layer {
public:
  Conv2d(std::string name, int filters, int kernel, int stride, Padding padding,
         Activation activation = {}, bool bias = true);

  Shape plan(const Shape& input, ParameterSet& params) override;
  void allocate(Arena& arena) override;
  Tensor forward(Context& ctx, const Tensor& x) override;
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) override;

  Parameter* weight() const { return weight_; }
  Parameter* bias() const { return bias_; }

private:
  Conv2dShape shape(int rows) const;

  int filters_, kernel_, stride_;
  Padding padding_;
  Activation activation_;
  bool has_bias_;
  Conv2dShape planned_;
  Shape input_shape_, output_shape_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;

  Tensor x_, y_;                    // the latest forward's input and output (views)
  Tensor output_, input_grad_, dz_; // buffers for the planned rows
};

} // namespace sgan
