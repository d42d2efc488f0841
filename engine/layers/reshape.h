#pragma once
// Reshape and Flatten: the same memory seen with another shape (row-major, so NCHW flattens to
// [n, c * h * w] in c, h, w order, as PyTorch's flatten and Keras' channels_first Flatten). Both
// directions return views of the tensor handed in; nothing is copied.
#include "engine/graph/layer.h"

#include <string>

namespace sgan {

class Reshape : public Layer {
public:
  // row_shape: the shape of one output row, e.g. {128, 7, 7}; it must hold as many elements as
  // an input row.
  Reshape(std::string name, Shape row_shape);

  Shape plan(const Shape& input, ParameterSet& params) override;
  void allocate(Arena&) override {}
  Tensor forward(Context& ctx, const Tensor& x) override;
  Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) override;

protected:
  Shape row_shape_;

private:
  Shape input_shape_, output_shape_;
  Shape y_shape_; // the latest forward's output shape
};

// Reshape to one dimension per row: [n, ...] -> [n, row size].
class Flatten : public Reshape {
public:
  explicit Flatten(std::string name);

  Shape plan(const Shape& input, ParameterSet& params) override;
};

} // namespace sgan
