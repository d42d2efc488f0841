// The CPU reductions against closed forms: sums of known series, column means of a matrix whose
// entries are a formula of their position, counts of a known pattern; empty and one-element inputs.
#include "kernels/reduce.h"

#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <limits>
#include <vector>

namespace sgan {
namespace {

constexpr float poison = std::numeric_limits<float>::quiet_NaN();

TEST(ReduceCpuTest, SumOfOneToNIsNTimesNPlusOneOverTwo) {
  // Up to n = 4096 every partial sum is an integer below 2^24, so exact in float.
  for (const std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(7), std::size_t(4096)}) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = float(i + 1);
    float total = poison;
    cpu::sum(n, x.data(), &total);
    EXPECT_EQ(total, float(n * (n + 1) / 2)) << "n = " << n;
  }
}

TEST(ReduceCpuTest, SumOfNothingIsZero) {
  float total = poison;
  cpu::sum(0, nullptr, &total);
  EXPECT_EQ(total, 0.0f);
}

TEST(ReduceCpuTest, SumOfGeometricSeriesIsTwoMinusTheLastTerm) {
  // sum_{i<n} 2^-i = 2 - 2^(1-n), every term and partial sum exact.
  const int n = 30;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = std::ldexp(1.0f, -i);
  float total = poison;
  cpu::sum(n, x.data(), &total);
  EXPECT_EQ(total, 2.0f - std::ldexp(1.0f, 1 - n));
}

TEST(ReduceCpuTest, SumAccumulatesInDouble) {
  // A million times 0.1f is 100000.0015 (0.1f is 1.5e-9 above 0.1), which rounds to 100000 in
  // float; a float accumulator drifts to about 100958.
  const std::vector<float> x(1000000, 0.1f);
  float total = poison;
  cpu::sum(x.size(), x.data(), &total);
  EXPECT_EQ(total, 100000.0f);
}

TEST(ReduceCpuTest, ColumnMeanOfPositionMatrix) {
  // x[r, c] = r cols + c, so the mean over r of column c is cols (rows - 1) / 2 + c.
  for (const auto& [rows, cols] :
       {std::pair{1, 1}, std::pair{1, 5}, std::pair{4, 1}, std::pair{7, 3}, std::pair{300, 250}}) {
    std::vector<float> x(std::size_t(rows) * cols);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
    std::vector<float> mean(cols, poison);
    cpu::column_mean(rows, cols, x.data(), mean.data());
    for (int c = 0; c < cols; ++c)
      EXPECT_EQ(mean[c], float(cols * (rows - 1) / 2.0 + c))
          << rows << "x" << cols << " column " << c;
  }
}

TEST(ReduceCpuTest, ColumnMeanOfOneRowIsThatRow) {
  const std::vector<float> x = {0.25f, -3.5f, 1e-20f, 7.0f};
  std::vector<float> mean(x.size(), poison);
  cpu::column_mean(1, int(x.size()), x.data(), mean.data());
  EXPECT_EQ(mean, x);
}

TEST(ReduceCpuTest, CountIsTheNumberOfSetFlags) {
  // Every third flag set: ceil(n / 3) of them.
  for (const std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(10000)}) {
    std::vector<std::int32_t> flags(n);
    for (std::size_t i = 0; i < n; ++i) flags[i] = i % 3 == 0 ? 1 : 0;
    std::int32_t total = -1;
    cpu::count(n, flags.data(), &total);
    EXPECT_EQ(total, std::int32_t((n + 2) / 3)) << "n = " << n;
  }
}

TEST(ReduceCpuTest, CountOfNothingIsZeroAndCountAddsAnyValues) {
  std::int32_t total = -1;
  cpu::count(0, nullptr, &total);
  EXPECT_EQ(total, 0);
  const std::int32_t values[] = {2, -1, 5};
  cpu::count(3, values, &total);
  EXPECT_EQ(total, 6);
}

} // namespace
} // namespace sgan
