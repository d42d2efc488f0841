#include "engine/layers/shape_checks.h"

#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

void check_forward_input(std::string_view layer, const Shape& planned, const Shape& x) {
  bool ok = x.rank() == planned.rank() && x.rank() > 0 && x[0] <= planned[0];
  for (int i = 1; ok && i < x.rank(); ++i) ok = x[i] == planned[i];
  if (!ok)
    throw std::invalid_argument(
        fmt::format("layer '{}' was planned for inputs {} (at most {} rows), got {}", layer,
                    planned.str(), planned.rank() > 0 ? planned[0] : 0, x.str()));
}

void check_backward_input(std::string_view layer, const Shape& y, const Shape& dy) {
  if (y.rank() == 0)
    throw std::logic_error(fmt::format("layer '{}': backward called before forward", layer));
  if (!(dy == y))
    throw std::invalid_argument(
        fmt::format("layer '{}': the output gradient has shape {}, the output had {}", layer,
                    dy.str(), y.str()));
}

Shape with_leading_rows(int rows, const Shape& row) {
  switch (row.rank()) {
  case 1:
    return Shape{rows, row[0]};
  case 2:
    return Shape{rows, row[0], row[1]};
  case 3:
    return Shape{rows, row[0], row[1], row[2]};
  }
  throw std::invalid_argument(
      fmt::format("a row shape has 1 to {} dimensions, got {}", Shape::max_rank - 1, row.str()));
}

} // namespace sgan
