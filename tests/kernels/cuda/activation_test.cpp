// The CUDA activations against the CPU reference (computed in double), forward and backward, on
// sizes that do and do not fill whole blocks.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/activation.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace sgan {
namespace {

const Activation all_activations[] = {Activation::identity(), Activation::relu(),
                                      Activation::leaky_relu(0.2f), Activation::tanh(),
                                      Activation::sigmoid(), Activation::softplus()};

// CUDA's expf/tanhf/log1pf are within 2 ulp of the correctly rounded float; against a double
// reference that is ~2.4e-7 relative per element.
constexpr double tolerance = 1e-6;

TEST(ActivationCudaTest, ForwardAndBackwardMatchCpu) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n : {std::size_t(1), std::size_t(3), std::size_t(12544 * 64),
                              std::size_t(1000003)}) {
    for (const Activation& a : all_activations) {
      const std::vector<float> x = test::random_uniform<float>(n, n, -6, 6);
      const std::vector<float> dy = test::random_uniform<float>(n, n + 1);

      std::vector<double> y_ref(n), dx_ref(n);
      const std::vector<double> x_d = test::convert<double>(x), dy_d = test::convert<double>(dy);
      cpu::activation_forward(a, n, x_d.data(), y_ref.data());
      // The backward is checked on the device's own y, so forward rounding does not propagate.
      test::DeviceBuffer<float> x_dev(x), y_dev(n), dy_dev(dy), dx_dev(n);
      cuda::activation_forward(a, n, x_dev.get(), y_dev.get(), nullptr);
      const std::vector<float> y = y_dev.to_host();
      EXPECT_TRUE(test::close(y_ref, y, tolerance, tolerance * 6)) << activation_name(a.kind) << " n=" << n;

      const std::vector<double> y_d = test::convert<double>(y);
      cpu::activation_backward(a, n, y_d.data(), dy_d.data(), dx_ref.data());
      cuda::activation_backward(a, n, y_dev.get(), dy_dev.get(), dx_dev.get(), nullptr);
      EXPECT_TRUE(test::close(dx_ref, dx_dev.to_host(), tolerance, tolerance))
          << activation_name(a.kind) << " n=" << n;
    }
  }
}

TEST(ActivationCudaTest, BackwardWorksInPlace) {
  SGAN_REQUIRE_GPU();
  const std::size_t n = 4097;
  const std::vector<float> x = test::random_uniform<float>(n, 7, -3, 3);
  const std::vector<float> dy = test::random_uniform<float>(n, 8);
  test::DeviceBuffer<float> x_dev(x), y_dev(n), d_dev(dy), dx_dev(n);
  cuda::activation_forward(Activation::sigmoid(), n, x_dev.get(), y_dev.get(), nullptr);
  cuda::activation_backward(Activation::sigmoid(), n, y_dev.get(), d_dev.get(), dx_dev.get(), nullptr);
  cuda::activation_backward(Activation::sigmoid(), n, y_dev.get(), d_dev.get(), d_dev.get(), nullptr);
  EXPECT_EQ(d_dev.to_host(), dx_dev.to_host());
}

}  // namespace
}  // namespace sgan
