// The bookkeeping references: direct loops; scale and axpy compute in double and round to float
// at the end.
#include "kernels/elementwise.h"

namespace sgan::cpu {

void fill(std::size_t n, float value, float* x) {
  for (std::size_t i = 0; i < n; ++i) x[i] = value;
}

void scale(std::size_t n, float alpha, float* x) {
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(double(alpha) * x[i]);
}

void axpy(std::size_t n, float alpha, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<float>(y[i] + double(alpha) * x[i]);
}

template <typename T>
void gather_rows(int rows, std::size_t row_size, const T* src, const std::int32_t* index, T* dst) {
  for (int r = 0; r < rows; ++r) {
    const T* from = src + std::size_t(index[r]) * row_size;
    T* to = dst + std::size_t(r) * row_size;
    for (std::size_t j = 0; j < row_size; ++j) to[j] = from[j];
  }
}

template void gather_rows<float>(int, std::size_t, const float*, const std::int32_t*, float*);
template void gather_rows<std::int32_t>(int, std::size_t, const std::int32_t*, const std::int32_t*,
                                        std::int32_t*);
template void gather_rows<std::uint8_t>(int, std::size_t, const std::uint8_t*, const std::int32_t*,
                                        std::uint8_t*);

} // namespace sgan::cpu
