// The CUDA reductions against the CPU reference (double) and against closed forms, on empty,
// one-element and odd sizes, sizes around the block and grid caps, and the SGAN batch shapes;
// repeated runs must agree bitwise, and sum and count must work inside a captured CUDA graph.
#include "kernels/reduce.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan {
namespace {

// 256 threads per block, at most 1024 blocks: the sizes straddle both limits.
const std::size_t sum_sizes[] = {0,   1,     3,      255,        256,     257,
                                 300, 12544, 262144, 262144 + 1, 1000003, 3000017};

constexpr double float_unit_roundoff = 1.0 / (1 << 24);

double sum_of_magnitudes(const std::vector<float>& x) {
  double total = 0;
  for (const float v : x) total += std::fabs(v);
  return total;
}

TEST(ReduceCudaTest, SumMatchesCpu) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n : sum_sizes) {
    const std::vector<float> x = test::random_uniform<float>(n, n);
    float expected = 0;
    cpu::sum(n, x.data(), &expected);
    const test::DeviceBuffer<float> x_dev(x);
    test::DeviceBuffer<float> out(1);
    cuda::sum(n, x_dev.get(), out.get(), nullptr);
    // A float sum taken along a tree of depth d is within d u sum |x_i| of the exact one; here
    // d <= 12 + 8 + 10 = 30 (a thread's grid-stride slice, at most 12 long for n = 3000017, then
    // 8 tree levels in its block and 10 in the final block), and the CPU's result is within
    // u |sum| of exact.
    const double bound = 32 * float_unit_roundoff * sum_of_magnitudes(x);
    EXPECT_NEAR(out.to_host()[0], expected, bound) << "n = " << n;
  }
}

TEST(ReduceCudaTest, SumOfOneToNIsExactWhilePartialSumsAreBelowTwoToThe24) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n :
       {std::size_t(1), std::size_t(3), std::size_t(1000), std::size_t(4096)}) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = float(i + 1);
    const test::DeviceBuffer<float> x_dev(x);
    test::DeviceBuffer<float> out(1);
    cuda::sum(n, x_dev.get(), out.get(), nullptr);
    EXPECT_EQ(out.to_host()[0], float(n * (n + 1) / 2)) << "n = " << n;
  }
}

TEST(ReduceCudaTest, SumIsBitwiseRepeatable) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n : {std::size_t(300), std::size_t(1000003)}) {
    const test::DeviceBuffer<float> x_dev(test::random_uniform<float>(n, 5));
    test::DeviceBuffer<float> out(1);
    cuda::sum(n, x_dev.get(), out.get(), nullptr);
    const std::uint32_t first = std::bit_cast<std::uint32_t>(out.to_host()[0]);
    for (int run = 0; run < 10; ++run) {
      out.poison();
      cuda::sum(n, x_dev.get(), out.get(), nullptr);
      EXPECT_EQ(std::bit_cast<std::uint32_t>(out.to_host()[0]), first) << "n = " << n;
    }
  }
}

TEST(ReduceCudaTest, CountMatchesCpuExactly) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n : sum_sizes) {
    std::vector<std::int32_t> flags(n);
    const std::vector<float> u = test::random_uniform<float>(n, n + 1, 0.0, 1.0);
    for (std::size_t i = 0; i < n; ++i) flags[i] = u[i] < 0.9f ? 1 : 0;
    std::int32_t expected = -1;
    cpu::count(n, flags.data(), &expected);
    const test::DeviceBuffer<std::int32_t> flags_dev(flags);
    test::DeviceBuffer<std::int32_t> out(1); // poisoned to -1
    cuda::count(n, flags_dev.get(), out.get(), nullptr);
    EXPECT_EQ(out.to_host()[0], expected) << "n = " << n;
  }
}

// sum and count, run once eagerly and then captured into a graph (no host synchronisation, no
// allocation), replay with the inputs present at replay.
TEST(ReduceCudaTest, SumAndCountReplayInACapturedGraph) {
  SGAN_REQUIRE_GPU();
  const std::size_t n = 100003;
  test::DeviceBuffer<float> x_dev(n);
  test::DeviceBuffer<std::int32_t> flags_dev(n);
  test::DeviceBuffer<float> total(1);
  test::DeviceBuffer<std::int32_t> hits(1);
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  auto reduce_on_device = [&] {
    cuda::sum(n, x_dev.get(), total.get(), stream);
    cuda::count(n, flags_dev.get(), hits.get(), stream);
  };
  // Every element `value` and every `period`-th flag set (sums exact below 2^24); outputs poisoned.
  auto set_inputs = [&](float value, std::size_t period) {
    x_dev.upload(std::vector<float>(n, value));
    std::vector<std::int32_t> flags(n, 0);
    for (std::size_t i = 0; i < n; i += period) flags[i] = 1;
    flags_dev.upload(flags);
    total.poison();
    hits.poison();
  };

  set_inputs(1.0f, 1);
  reduce_on_device();
  EXPECT_EQ(total.to_host()[0], float(n));
  EXPECT_EQ(hits.to_host()[0], std::int32_t(n));

  cudaGraph_t graph;
  cudaGraphExec_t replay;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  reduce_on_device();
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  CUDA_CHECK(cudaGraphInstantiate(&replay, graph, 0));
  for (const std::size_t period : {std::size_t(2), std::size_t(3)}) {
    const float value = float(period);
    set_inputs(value, period);
    CUDA_CHECK(cudaGraphLaunch(replay, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    EXPECT_EQ(total.to_host()[0], value * float(n));
    EXPECT_EQ(hits.to_host()[0], std::int32_t((n + period - 1) / period));
  }

  CUDA_CHECK(cudaGraphExecDestroy(replay));
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(cudaStreamDestroy(stream));
}

struct MatrixShape {
  int rows, cols;
};
// Feature matching over D's penultimate activation: 64 or 100 rows (one batch) by 6272 (article,
// the flattened conv features) or 250 (improved); then 3n rows, one row or column, odd tiles.
const MatrixShape column_shapes[] = {{64, 6272}, {100, 250}, {192, 6272}, {300, 250}, {1, 1},
                                     {1, 1000},  {257, 1},   {3, 33},     {10000, 10}};

TEST(ReduceCudaTest, ColumnMeanMatchesCpu) {
  SGAN_REQUIRE_GPU();
  for (const MatrixShape& s : column_shapes) {
    const std::vector<float> x =
        test::random_uniform<float>(std::size_t(s.rows) * s.cols, s.rows * 7 + s.cols);
    std::vector<float> expected(s.cols);
    cpu::column_mean(s.rows, s.cols, x.data(), expected.data());
    const test::DeviceBuffer<float> x_dev(x);
    test::DeviceBuffer<float> out(s.cols + 1); // one NaN guard after the means
    cuda::column_mean(s.rows, s.cols, x_dev.get(), out.get(), nullptr);
    std::vector<float> result = out.to_host();
    EXPECT_TRUE(std::isnan(result.back())) << "wrote past the last column";
    result.pop_back();
    // Worst case per column: a float sum of ceil(rows / 8) terms in order and then of 8 partials
    // is within (ceil(rows / 8) + 8) u sum_r |x| of exact; divided by rows, with |x| <= 1, plus
    // the divisions' roundings. Over all columns, rounding errors of random sign grow like the
    // square root of the count, so the relative L2 error stays far below 1e-5.
    const double bound = ((s.rows + 7) / 8 + 10) * float_unit_roundoff;
    EXPECT_TRUE(test::close(expected, result, 1e-5, bound)) << s.rows << "x" << s.cols;
  }
}

TEST(ReduceCudaTest, ColumnMeanIsBitwiseRepeatable) {
  SGAN_REQUIRE_GPU();
  const MatrixShape s{300, 6272};
  const test::DeviceBuffer<float> x_dev(
      test::random_uniform<float>(std::size_t(s.rows) * s.cols, 9));
  test::DeviceBuffer<float> out(s.cols);
  cuda::column_mean(s.rows, s.cols, x_dev.get(), out.get(), nullptr);
  const std::vector<float> first = out.to_host();
  for (int run = 0; run < 5; ++run) {
    out.poison();
    cuda::column_mean(s.rows, s.cols, x_dev.get(), out.get(), nullptr);
    ASSERT_TRUE(test::bitwise_equal(first, out.to_host())) << "run " << run;
  }
}

} // namespace
} // namespace sgan
