#pragma once
// A tensor is a view: a float pointer into memory someone else owns (an Arena), the device that
// memory lives on, and a row-major shape of at most four dimensions. Dimension 0 is the batch.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace sgan {

enum class Device { cpu, cuda };

class Shape {
public:
  static constexpr int max_rank = 4;

  Shape() = default;
  Shape(std::initializer_list<int> dims);

  int rank() const { return rank_; }
  int operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  std::size_t size() const;
  // Elements per batch row: the product of every dimension after the first.
  std::size_t row_size() const;
  // The same shape with `rows` in dimension 0.
  Shape with_rows(int rows) const;
  std::string str() const; // "[64, 1, 28, 28]"

  bool operator==(const Shape& other) const;

private:
  std::array<int, max_rank> dims_{};
  int rank_ = 0;
};

struct Tensor {
  float* data = nullptr;
  Shape shape;
  Device device = Device::cpu;

  std::size_t size() const { return shape.size(); }
  int rows() const { return shape[0]; }
  // Rows [begin, begin + count) of dimension 0, sharing this tensor's memory.
  Tensor rows(int begin, int count) const;
  // The same memory seen with another shape of the same size.
  Tensor reshaped(const Shape& to) const;
};

} // namespace sgan
