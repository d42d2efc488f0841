// The CUDA bookkeeping ops against the CPU reference on sizes 1, 3 and an odd million, at aligned
// and one-float-offset pointers, with NaN guards around every output; the batch gather for each
// resident data type with repeated and reversed indices, MNIST-sized rows and a row longer than
// one grid covers.
#include "kernels/elementwise.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"
#include "tests/support/guarded_slices.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <string>
#include <type_traits>
#include <vector>

namespace sgan {
namespace {

const std::size_t sizes[] = {1, 3, 1000003};
const std::size_t offsets[] = {0, 1};
using test::download_at;
using test::guard;
using test::upload_at;

TEST(ElementwiseCudaTest, FillWritesEveryElementAndNoGuard) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n : sizes)
    for (const std::size_t offset : offsets) {
      test::DeviceBuffer<float> x(offset + n + guard); // all NaN
      cuda::fill(n, -1.5f, x.get() + offset, nullptr);
      EXPECT_EQ(download_at(x, offset, n, "x"), std::vector<float>(n, -1.5f)) << "n = " << n;
    }
}

// x alpha and y + alpha x are single float operations on the GPU; the CPU rounds the product
// (exact in double) once, so scale agrees bitwise, and axpy (a fused multiply-add on the GPU,
// double then float on the CPU) within one float ulp of values below 2.
TEST(ElementwiseCudaTest, ScaleAndAxpyMatchCpu) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n : sizes)
    for (const std::size_t offset : offsets) {
      const std::vector<float> x = test::random_uniform<float>(n, n);
      std::vector<float> y = test::random_uniform<float>(n, n + 1);
      const std::string where = "n = " + std::to_string(n) + ", offset " + std::to_string(offset);

      std::vector<float> scaled = x;
      cpu::scale(n, 0.3f, scaled.data());
      test::DeviceBuffer<float> x_dev = upload_at(x, offset);
      cuda::scale(n, 0.3f, x_dev.get() + offset, nullptr);
      EXPECT_EQ(download_at(x_dev, offset, n, "scale's x"), scaled) << where;

      test::DeviceBuffer<float> y_dev = upload_at(y, offset);
      const test::DeviceBuffer<float> source(x);
      cuda::axpy(n, -0.7f, source.get(), y_dev.get() + offset, nullptr);
      cpu::axpy(n, -0.7f, x.data(), y.data());
      EXPECT_TRUE(test::close(y, download_at(y_dev, offset, n, "axpy's y"), 1.2e-7, 2.4e-7))
          << where;
    }
}

TEST(ElementwiseCudaTest, EmptyBuffersAreLeftAlone) {
  SGAN_REQUIRE_GPU();
  test::DeviceBuffer<float> x(guard), y(guard);
  cuda::fill(0, 1.0f, x.get(), nullptr);
  cuda::scale(0, 2.0f, x.get(), nullptr);
  cuda::axpy(0, 2.0f, y.get(), x.get(), nullptr);
  download_at(x, 0, 0, "x");
  download_at(y, 0, 0, "y");
}

template <typename T> class GatherRowsCudaTest : public ::testing::Test {};
using GatherTypes = ::testing::Types<float, std::int32_t, std::uint8_t>;
TYPED_TEST_SUITE(GatherRowsCudaTest, GatherTypes);

// Every source element names its row and column (modulo 251 for bytes, so none is 255, the
// poison of an unwritten byte).
template <typename T> std::vector<T> numbered_source(int source_rows, std::size_t row_size) {
  std::vector<T> src(std::size_t(source_rows) * row_size);
  for (std::size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<T>(sizeof(T) == 1 ? i % 251 : i % (1u << 24));
  return src;
}

// Indices stepping backwards through the source by 7 (wrapping round), every fifth one repeating
// its predecessor.
std::vector<std::int32_t> reversed_with_repeats(int rows, int source_rows) {
  std::vector<std::int32_t> index(rows);
  for (int r = 0; r < rows; ++r) index[r] = (source_rows - 1 - r * 7) % source_rows;
  for (int r = 0; r < rows; ++r)
    if (index[r] < 0) index[r] += source_rows;
  for (int r = 2; r < rows; r += 5) index[r] = index[r - 1];
  return index;
}

TYPED_TEST(GatherRowsCudaTest, MatchesCpuForBatchShapes) {
  SGAN_REQUIRE_GPU();
  using T = TypeParam;
  struct Shape {
    int rows, source_rows;
    std::size_t row_size;
  };
  // MNIST pixel rows of 784 and label rows of 1; batch sizes 1, 3, 64, 100, 300 and the whole test
  // set; a row that is not a multiple of the block.
  const Shape shapes[] = {{1, 1, 1},       {3, 5, 1},           {64, 1000, 784}, {100, 1000, 1},
                          {300, 600, 784}, {10000, 10000, 784}, {7, 9, 1000003}};
  for (const Shape& s : shapes) {
    const std::vector<T> src = numbered_source<T>(s.source_rows, s.row_size);
    const std::vector<std::int32_t> index = reversed_with_repeats(s.rows, s.source_rows);
    std::vector<T> expected(std::size_t(s.rows) * s.row_size + 1, T(-1));
    cpu::gather_rows<T>(s.rows, s.row_size, src.data(), index.data(), expected.data());
    expected.back() = T(-1); // the guard element keeps the poison

    const test::DeviceBuffer<T> src_dev(src);
    const test::DeviceBuffer<std::int32_t> index_dev(index);
    test::DeviceBuffer<T> dst(expected.size());
    cuda::gather_rows<T>(s.rows, s.row_size, src_dev.get(), index_dev.get(), dst.get(), nullptr);
    const std::vector<T> result = dst.to_host();
    if constexpr (std::is_floating_point_v<T>) {
      EXPECT_TRUE(std::isnan(result.back())) << "wrote past the last row";
      EXPECT_TRUE(std::equal(expected.begin(), expected.end() - 1, result.begin()))
          << s.rows << " rows of " << s.row_size;
    } else {
      EXPECT_EQ(result, expected) << s.rows << " rows of " << s.row_size;
    }
  }
}

// The grid covers at most 65535 x 256 elements of a row per pass; a longer row loops.
TEST(ElementwiseCudaTest, GatherRowLongerThanOneGridPass) {
  SGAN_REQUIRE_GPU();
  const std::size_t row_size = 65535 * 256 + 1001;
  const std::vector<std::uint8_t> src = numbered_source<std::uint8_t>(2, row_size);
  const std::vector<std::int32_t> index = {1, 0, 1};
  std::vector<std::uint8_t> expected(3 * row_size);
  cpu::gather_rows<std::uint8_t>(3, row_size, src.data(), index.data(), expected.data());
  const test::DeviceBuffer<std::uint8_t> src_dev(src);
  const test::DeviceBuffer<std::int32_t> index_dev(index);
  test::DeviceBuffer<std::uint8_t> dst(expected.size());
  cuda::gather_rows<std::uint8_t>(3, row_size, src_dev.get(), index_dev.get(), dst.get(), nullptr);
  EXPECT_TRUE(dst.to_host() == expected);
}

} // namespace
} // namespace sgan
