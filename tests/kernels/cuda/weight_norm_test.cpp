// The CUDA weight normalisation against the CPU reference run in double, forward and backward
// (+= into dv and dg), on the improved recipe's weight-normalised layers and on awkward shapes:
// one column, rows that do not fill a block, rows longer and shorter than a warp.
#include "kernels/weight_norm.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan {
namespace {

// A dense weight is [out, in]: one row per output unit. Improved D: 784-1000-500-250-250-250-10;
// improved G's last layer: 500 -> 784.
const WeightNormShape shapes[] = {{1000, 784}, {500, 1000}, {250, 500}, {250, 250}, {10, 250},
                                  {784, 500},  {1, 1},      {3, 29},    {37, 29},   {33, 1},
                                  {1, 1000},   {7, 33},     {9, 32}};

// Float sums of up to 1000 squares or products, each lane's share in order and then across the
// warp: a few ulps, about 1e-6 relative; the backward also inherits the device's norm.
constexpr double tolerance = 1e-5;

std::string describe(const WeightNormShape& s) {
  return std::to_string(s.rows) + "x" + std::to_string(s.cols);
}

TEST(WeightNormCudaTest, ForwardAndBackwardMatchCpu) {
  SGAN_REQUIRE_GPU();
  for (const WeightNormShape& s : shapes) {
    const std::uint64_t seed = std::uint64_t(s.rows) * 1009 + s.cols;
    const std::vector<float> v = test::random_uniform<float>(s.size(), seed, -1, 1);
    const std::vector<float> g = test::random_uniform<float>(s.rows, seed + 1, -2, 2);
    const std::vector<float> dw = test::random_uniform<float>(s.size(), seed + 2, -1, 1);
    const std::vector<float> dv0 = test::random_uniform<float>(s.size(), seed + 3, -1, 1);
    const std::vector<float> dg0 = test::random_uniform<float>(s.rows, seed + 4, -1, 1);

    const std::vector<double> v_d = test::convert<double>(v), g_d = test::convert<double>(g),
                              dw_d = test::convert<double>(dw);
    std::vector<double> w_ref(s.size()), norm_ref(s.rows);
    std::vector<double> dv_ref = test::convert<double>(dv0), dg_ref = test::convert<double>(dg0);
    cpu::weight_norm_forward(s, v_d.data(), g_d.data(), w_ref.data(), norm_ref.data());
    cpu::weight_norm_backward(s, v_d.data(), g_d.data(), norm_ref.data(), dw_d.data(),
                              dv_ref.data(), dg_ref.data());

    test::DeviceBuffer<float> v_dev(v), g_dev(g), dw_dev(dw), dv_dev(dv0), dg_dev(dg0);
    test::DeviceBuffer<float> w_dev(s.size()), norm_dev(s.rows);
    cuda::weight_norm_forward(s, v_dev.get(), g_dev.get(), w_dev.get(), norm_dev.get(), nullptr);
    cuda::weight_norm_backward(s, v_dev.get(), g_dev.get(), norm_dev.get(), dw_dev.get(),
                               dv_dev.get(), dg_dev.get(), nullptr);
    EXPECT_TRUE(test::close(w_ref, w_dev.to_host(), tolerance, tolerance)) << describe(s);
    EXPECT_TRUE(test::close(norm_ref, norm_dev.to_host(), tolerance, tolerance * 20))
        << describe(s);
    EXPECT_TRUE(test::close(dv_ref, dv_dev.to_host(), tolerance, tolerance)) << describe(s);
    EXPECT_TRUE(test::close(dg_ref, dg_dev.to_host(), tolerance, tolerance * 20)) << describe(s);
  }
}

TEST(WeightNormCudaTest, IsDeterministic) {
  SGAN_REQUIRE_GPU();
  const WeightNormShape s{1000, 784};
  const std::vector<float> v = test::random_uniform<float>(s.size(), 1, -1, 1);
  const std::vector<float> g = test::random_uniform<float>(s.rows, 2, -2, 2);
  test::DeviceBuffer<float> v_dev(v), g_dev(g), w1(s.size()), w2(s.size()), n1(s.rows), n2(s.rows);
  cuda::weight_norm_forward(s, v_dev.get(), g_dev.get(), w1.get(), n1.get(), nullptr);
  cuda::weight_norm_forward(s, v_dev.get(), g_dev.get(), w2.get(), n2.get(), nullptr);
  EXPECT_EQ(w1.to_host(), w2.to_host());
  EXPECT_EQ(n1.to_host(), n2.to_host());
}

} // namespace
} // namespace sgan
