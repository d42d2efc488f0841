// The CPU bookkeeping ops against their formulas on inputs whose results are exact, and the batch
// gather with repeated and reversed indices for every resident data type.
#include "kernels/elementwise.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

TEST(ElementwiseCpuTest, FillSetsEveryElementAndNothingBeyond) {
  for (const std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(1001)}) {
    std::vector<float> x(n + 1, -7.0f);
    cpu::fill(n, 2.5f, x.data());
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(x[i], 2.5f) << "at " << i;
    EXPECT_EQ(x[n], -7.0f) << "n = " << n;
  }
}

TEST(ElementwiseCpuTest, ScaleMultipliesEveryElement) {
  for (const std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(1001)}) {
    std::vector<float> x(n + 1);
    for (std::size_t i = 0; i <= n; ++i) x[i] = float(i);
    cpu::scale(n, 0.5f, x.data());
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(x[i], float(i) / 2) << "at " << i;
    EXPECT_EQ(x[n], float(n)) << "n = " << n;
  }
  std::vector<float> x = {1.0f, -2.0f};
  cpu::scale(2, 0.0f, x.data());
  EXPECT_EQ(x, (std::vector<float>{0.0f, -0.0f}));
}

TEST(ElementwiseCpuTest, AxpyAddsAlphaTimesX) {
  for (const std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(1001)}) {
    std::vector<float> x(n + 1), y(n + 1);
    for (std::size_t i = 0; i <= n; ++i) {
      x[i] = float(i % 7) - 3.0f;
      y[i] = float(i);
    }
    cpu::axpy(n, -2.0f, x.data(), y.data());
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_EQ(y[i], float(i) - 2.0f * (float(i % 7) - 3.0f)) << "at " << i;
    EXPECT_EQ(y[n], float(n)) << "n = " << n;
  }
}

template <typename T> class GatherRowsCpuTest : public ::testing::Test {};
using GatherTypes = ::testing::Types<float, std::int32_t, std::uint8_t>;
TYPED_TEST_SUITE(GatherRowsCpuTest, GatherTypes);

// Row s of the source holds s * 1000 + j at column j (modulo 256 for bytes), so every element
// names where it came from.
template <typename T> T source_value(std::size_t row, std::size_t column) {
  return static_cast<T>((row * 1000 + column) % (sizeof(T) == 1 ? 256 : 1u << 24));
}

TYPED_TEST(GatherRowsCpuTest, CopiesTheIndexedRowsInOrder) {
  using T = TypeParam;
  const int source_rows = 6;
  const std::size_t row_size = 13;
  std::vector<T> src(source_rows * row_size);
  for (int s = 0; s < source_rows; ++s)
    for (std::size_t j = 0; j < row_size; ++j) src[s * row_size + j] = source_value<T>(s, j);
  // Reversed, then repeated.
  const std::vector<std::int32_t> index = {5, 4, 3, 2, 1, 0, 2, 2, 0, 5};
  const int rows = int(index.size());
  std::vector<T> dst(rows * row_size + 1, T(99));
  cpu::gather_rows<T>(rows, row_size, src.data(), index.data(), dst.data());
  for (int r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < row_size; ++j)
      EXPECT_EQ(dst[r * row_size + j], source_value<T>(index[r], j)) << "row " << r << " col " << j;
  EXPECT_EQ(dst.back(), T(99));
}

TYPED_TEST(GatherRowsCpuTest, NoRowsOrEmptyRowsWriteNothing) {
  using T = TypeParam;
  const std::vector<T> src = {T(1), T(2), T(3)};
  const std::vector<std::int32_t> index = {0, 1, 2};
  std::vector<T> dst(3, T(99));
  cpu::gather_rows<T>(0, 1, src.data(), index.data(), dst.data());
  cpu::gather_rows<T>(3, 0, src.data(), index.data(), dst.data());
  EXPECT_EQ(dst, std::vector<T>(3, T(99)));
}

TYPED_TEST(GatherRowsCpuTest, SingleRowOfOneElement) {
  using T = TypeParam;
  const std::vector<T> src = {T(1), T(2), T(3)};
  const std::int32_t index = 2;
  T dst = T(99);
  cpu::gather_rows<T>(1, 1, src.data(), &index, &dst);
  EXPECT_EQ(dst, T(3));
}

} // namespace
} // namespace sgan
