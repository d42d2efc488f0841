#pragma once
// The shape checks every layer makes on the tensors it is handed, with one wording for the errors.
#include "engine/core/tensor.h"

#include <string_view>

namespace sgan {

// forward(x): x must have the planned shape with at most the planned rows; otherwise throws
// std::invalid_argument naming the layer, the shape it was planned for and the shape it got.
void check_forward_input(std::string_view layer, const Shape& planned, const Shape& x);

// backward(dy): dy must have exactly the shape of the latest forward's output; throws
// std::logic_error if there was no forward yet, std::invalid_argument if the shape differs.
void check_backward_input(std::string_view layer, const Shape& y, const Shape& dy);

// The same shape with `rows` prepended: {rows, row[0], row[1], ...} (row has rank 3 at most).
Shape with_leading_rows(int rows, const Shape& row);

} // namespace sgan
