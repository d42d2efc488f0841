#include "engine/core/tensor.h"

#include <fmt/format.h>

namespace sgan {

Shape::Shape(std::initializer_list<int> dims) {
  if (dims.size() > max_rank)
    throw std::invalid_argument(
        fmt::format("a shape has at most {} dimensions, got {}", max_rank, dims.size()));
  for (int d : dims) {
    if (d < 0) throw std::invalid_argument(fmt::format("a shape dimension is negative ({})", d));
    dims_[static_cast<std::size_t>(rank_++)] = d;
  }
}

std::size_t Shape::size() const {
  if (rank_ == 0) return 0;
  std::size_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= static_cast<std::size_t>(dims_[static_cast<std::size_t>(i)]);
  return n;
}

std::size_t Shape::row_size() const {
  std::size_t n = 1;
  for (int i = 1; i < rank_; ++i) n *= static_cast<std::size_t>(dims_[static_cast<std::size_t>(i)]);
  return n;
}

Shape Shape::with_rows(int rows) const {
  Shape s = *this;
  s.dims_[0] = rows;
  return s;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i)
    s += (i ? ", " : "") + std::to_string(dims_[static_cast<std::size_t>(i)]);
  return s + "]";
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<std::size_t>(i)] != other.dims_[static_cast<std::size_t>(i)])
      return false;
  return true;
}

Tensor Tensor::rows(int begin, int count) const {
  if (begin < 0 || count < 0 || begin + count > shape[0])
    throw std::out_of_range(
        fmt::format("rows [{}, {}) of a tensor of shape {}", begin, begin + count, shape.str()));
  return {data + static_cast<std::size_t>(begin) * shape.row_size(), shape.with_rows(count),
          device};
}

Tensor Tensor::reshaped(const Shape& to) const {
  if (to.size() != size())
    throw std::invalid_argument(
        fmt::format("cannot view a tensor of shape {} as {}", shape.str(), to.str()));
  return {data, to, device};
}

} // namespace sgan
