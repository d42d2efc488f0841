// cuDNN's relu, tanh and sigmoid against the CPU reference: the twin used in benchmarks computes
// the same function.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "kernels/activation.h"
#include "kernels/cudnn/handle.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace sgan {
namespace {

TEST(ActivationCudnnTest, ForwardAndBackwardMatchCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const std::size_t n = 64 * 64 * 14 * 14 + 3;
  for (const Activation& a : {Activation::relu(), Activation::tanh(), Activation::sigmoid()}) {
    const std::vector<float> x = test::random_uniform<float>(n, 11, -6, 6);
    const std::vector<float> dy = test::random_uniform<float>(n, 12);
    test::DeviceBuffer<float> x_dev(x), y_dev(n), dy_dev(dy), dx_dev(n);
    cudnn::activation_forward(a, n, x_dev.get(), y_dev.get(), handle);
    const std::vector<float> y = y_dev.to_host();

    std::vector<double> y_ref(n), dx_ref(n);
    const std::vector<double> x_d = test::convert<double>(x), y_d = test::convert<double>(y);
    const std::vector<double> dy_d = test::convert<double>(dy);
    cpu::activation_forward(a, n, x_d.data(), y_ref.data());
    cpu::activation_backward(a, n, y_d.data(), dy_d.data(), dx_ref.data());
    cudnn::activation_backward(a, n, y_dev.get(), dy_dev.get(), dx_dev.get(), handle);
    EXPECT_TRUE(test::close(y_ref, y, 1e-6, 6e-6)) << activation_name(a.kind);
    EXPECT_TRUE(test::close(dx_ref, dx_dev.to_host(), 1e-6, 6e-6)) << activation_name(a.kind);
  }
}

TEST(ActivationCudnnTest, RejectsActivationsCudnnLacks) {
  EXPECT_FALSE(cudnn::has_activation(ActivationKind::leaky_relu));
  EXPECT_FALSE(cudnn::has_activation(ActivationKind::softplus));
  EXPECT_TRUE(cudnn::has_activation(ActivationKind::relu));
}

}  // namespace
}  // namespace sgan
