// CUDA dropout and Gaussian noise against the host: dropout outputs (mask and 1 / keep_prob
// scaling) bitwise equal in forward and backward, in place too; the noise within a few ulps of
// sigma times the host's normals.
#include "kernels/dropout.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

// Partial Philox blocks, whole ones, and the article D's hidden activations at batch 3 x 64
// (64 x 14 x 14 and 128 x 7 x 7 per row).
const std::size_t sizes[] = {1, 3, 6, 4096, 192 * 64 * 14 * 14, 192 * 128 * 7 * 7 + 1};

TEST(DropoutCudaTest, ForwardAndBackwardAreBitwiseEqualToCpu) {
  SGAN_REQUIRE_GPU();
  const PhiloxStream s{2718, 4};
  const std::uint64_t counter = 31;
  test::DeviceBuffer<std::uint64_t> counter_dev(std::vector<std::uint64_t>{counter});
  for (const std::size_t n : sizes)
    for (const float keep_prob : {0.7f, 0.5f, 1.0f}) {
      const std::vector<float> x = test::random_uniform<float>(n, n);
      const std::vector<float> dy = test::random_uniform<float>(n, n + 1);
      std::vector<float> y(n), dx(n);
      cpu::dropout_forward(n, keep_prob, s, &counter, x.data(), y.data());
      cpu::dropout_backward(n, keep_prob, s, &counter, dy.data(), dx.data());

      test::DeviceBuffer<float> x_dev(x), y_dev(n), dy_dev(dy), dx_dev(n);
      cuda::dropout_forward(n, keep_prob, s, counter_dev.get(), x_dev.get(), y_dev.get(), nullptr);
      cuda::dropout_backward(n, keep_prob, s, counter_dev.get(), dy_dev.get(), dx_dev.get(),
                             nullptr);
      EXPECT_TRUE(test::bitwise_equal(y, y_dev.to_host()))
          << "n=" << n << " keep_prob=" << keep_prob;
      EXPECT_TRUE(test::bitwise_equal(dx, dx_dev.to_host()))
          << "n=" << n << " keep_prob=" << keep_prob;
    }
}

TEST(DropoutCudaTest, WorksInPlace) {
  SGAN_REQUIRE_GPU();
  const PhiloxStream s{1, 2};
  const std::uint64_t counter = 3;
  const std::size_t n = 100003;
  const std::vector<float> x = test::random_uniform<float>(n, 4);
  std::vector<float> y(n), noisy(n);
  cpu::dropout_forward(n, 0.7f, s, &counter, x.data(), y.data());
  cpu::gaussian_noise_forward(n, 0.5f, s, &counter, x.data(), noisy.data());

  test::DeviceBuffer<std::uint64_t> counter_dev(std::vector<std::uint64_t>{counter});
  test::DeviceBuffer<float> d_dev(x), noise_dev(x);
  cuda::dropout_forward(n, 0.7f, s, counter_dev.get(), d_dev.get(), d_dev.get(), nullptr);
  cuda::gaussian_noise_forward(n, 0.5f, s, counter_dev.get(), noise_dev.get(), noise_dev.get(),
                               nullptr);
  EXPECT_TRUE(test::bitwise_equal(y, d_dev.to_host()));
  EXPECT_TRUE(test::close(noisy, noise_dev.to_host(), 1e-6, 1e-5));
}

// The noise is fma(sigma, n_e, x) on both; n_e differs by a few ulps (|n| < 6, ~2e-6 absolute),
// scaled by sigma.
TEST(GaussianNoiseCudaTest, ForwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  const PhiloxStream s{77, 0};
  const std::uint64_t counter = 8;
  test::DeviceBuffer<std::uint64_t> counter_dev(std::vector<std::uint64_t>{counter});
  for (const std::size_t n : sizes)
    for (const float sigma : {0.3f, 0.5f}) {
      const std::vector<float> x = test::random_uniform<float>(n, n + 2);
      std::vector<float> y(n);
      cpu::gaussian_noise_forward(n, sigma, s, &counter, x.data(), y.data());
      test::DeviceBuffer<float> x_dev(x), y_dev(n);
      cuda::gaussian_noise_forward(n, sigma, s, counter_dev.get(), x_dev.get(), y_dev.get(),
                                   nullptr);
      EXPECT_TRUE(test::close(y, y_dev.to_host(), 1e-6, 1e-5)) << "n=" << n << " sigma=" << sigma;
    }
}

TEST(DropoutCudaTest, RejectsKeepProbOutsideUnitInterval) {
  SGAN_REQUIRE_GPU();
  test::DeviceBuffer<std::uint64_t> counter_dev(std::vector<std::uint64_t>{0});
  test::DeviceBuffer<float> x_dev(16);
  EXPECT_THROW(cuda::dropout_forward(16, 0.0f, PhiloxStream{}, counter_dev.get(), x_dev.get(),
                                     x_dev.get(), nullptr),
               std::invalid_argument);
}

} // namespace
} // namespace sgan
