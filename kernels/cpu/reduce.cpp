// The reduction references: plain loops accumulating in double (int64 for counts), in index order.
#include "kernels/reduce.h"

namespace sgan::cpu {

void sum(std::size_t n, const float* x, float* out) {
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += x[i];
  out[0] = static_cast<float>(total);
}

void column_mean(int rows, int cols, const float* x, float* out) {
  for (int c = 0; c < cols; ++c) {
    double total = 0;
    for (int r = 0; r < rows; ++r) total += x[std::size_t(r) * std::size_t(cols) + c];
    out[c] = static_cast<float>(total / rows);
  }
}

void count(std::size_t n, const std::int32_t* flags, std::int32_t* out) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += flags[i];
  out[0] = static_cast<std::int32_t>(total);
}

} // namespace sgan::cpu
