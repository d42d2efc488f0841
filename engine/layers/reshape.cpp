#include "engine/layers/reshape.h"

#include "engine/layers/shape_checks.h"

#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

Reshape::Reshape(std::string name, Shape row_shape)
    : Layer(std::move(name)), row_shape_(row_shape) {}

Shape Reshape::plan(const Shape& input, ParameterSet&) {
  if (input.rank() < 2 || input.row_size() != row_shape_.size())
    throw std::invalid_argument(
        fmt::format("reshape layer '{}' cannot view inputs {} as rows of {}", name(), input.str(),
                    row_shape_.str()));
  input_shape_ = input;
  output_shape_ = with_leading_rows(input[0], row_shape_);
  return output_shape_;
}

Tensor Reshape::forward(Context&, const Tensor& x) {
  check_forward_input(name(), input_shape_, x.shape);
  const Tensor y = x.reshaped(output_shape_.with_rows(x.rows()));
  y_shape_ = y.shape;
  return y;
}

Tensor Reshape::backward(Context&, const Tensor& dy, const BackwardOptions& options) {
  check_backward_input(name(), y_shape_, dy.shape);
  if (!options.input_grad) return {};
  return dy.reshaped(input_shape_.with_rows(dy.rows()));
}

Flatten::Flatten(std::string name) : Reshape(std::move(name), Shape{}) {}

Shape Flatten::plan(const Shape& input, ParameterSet& params) {
  row_shape_ = Shape{static_cast<int>(input.row_size())};
  return Reshape::plan(input, params);
}

} // namespace sgan
