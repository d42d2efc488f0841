// The CPU activations: forward against the textbook formulas (including arguments far enough out
// to overflow a naive exp), backward against central finite differences in double precision.
#include "kernels/activation.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/finite_difference.h"

#include <cmath>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

// Inputs in [-4, 4] kept at least 0.05 away from 0, where relu and leaky_relu have their kink and
// a finite difference straddling it would be meaningless.
std::vector<double> inputs_away_from_zero(std::size_t n, std::uint64_t seed) {
  std::vector<double> x = test::random_uniform<double>(n, seed, -4.0, 4.0);
  for (double& v : x)
    if (std::fabs(v) < 0.05) v = v < 0 ? -0.05 : 0.05;
  return x;
}

TEST(ActivationCpuTest, ForwardMatchesTextbookFormulas) {
  const std::vector<double> x = inputs_away_from_zero(1000, 1);
  for (const Activation& a : test::all_activations) {
    std::vector<double> y(x.size()), expected(x.size());
    cpu::activation_forward(a, x.size(), x.data(), y.data());
    for (std::size_t i = 0; i < x.size(); ++i) expected[i] = test::textbook_activation(a, x[i]);
    EXPECT_TRUE(test::close(expected, y, 1e-14, 1e-14)) << activation_name(a.kind);
  }
}

TEST(ActivationCpuTest, ExtremeArgumentsStayFinite) {
  const std::vector<float> x = {-1000.f, -88.f, -80.f, 80.f, 88.f, 1000.f};
  for (const Activation& a : test::all_activations) {
    std::vector<float> y(x.size()), dx(x.size());
    const std::vector<float> ones(x.size(), 1.0f);
    cpu::activation_forward(a, x.size(), x.data(), y.data());
    cpu::activation_backward(a, x.size(), y.data(), ones.data(), dx.data());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_TRUE(std::isfinite(y[i])) << activation_name(a.kind) << " f(" << x[i] << ")";
      EXPECT_TRUE(std::isfinite(dx[i])) << activation_name(a.kind) << " f'(" << x[i] << ")";
    }
  }
  // Softplus must not overflow where exp(x) does: softplus(1000) = 1000, softplus(-1000) = 0.
  std::vector<float> y(2);
  const float big[] = {1000.f, -1000.f};
  cpu::activation_forward(Activation::softplus(), 2, big, y.data());
  EXPECT_EQ(y[0], 1000.f);
  EXPECT_EQ(y[1], 0.f);
}

TEST(ActivationCpuTest, BackwardMatchesFiniteDifferences) {
  for (const Activation& a : test::all_activations) {
    std::vector<double> x = inputs_away_from_zero(64, 2);
    const std::vector<double> r = test::random_uniform<double>(x.size(), 3);
    std::vector<double> y(x.size());
    auto loss = [&] {
      cpu::activation_forward(a, x.size(), x.data(), y.data());
      return test::dot(y, r);
    };
    const std::vector<double> numeric = test::numeric_gradient(x, loss);
    std::vector<double> analytic(x.size());
    cpu::activation_forward(a, x.size(), x.data(), y.data());
    cpu::activation_backward(a, x.size(), y.data(), r.data(), analytic.data());
    // Central differences with h = 1e-6 in double: truncation and rounding both below 1e-8.
    EXPECT_TRUE(test::close(numeric, analytic, 1e-7, 1e-7)) << activation_name(a.kind);
  }
}

TEST(ActivationCpuTest, BackwardWorksInPlace) {
  const std::vector<float> x = test::random_uniform<float>(100, 4, -3, 3);
  std::vector<float> y(x.size()), expected(x.size());
  std::vector<float> d = test::random_uniform<float>(x.size(), 5);
  cpu::activation_forward(Activation::tanh(), x.size(), x.data(), y.data());
  cpu::activation_backward(Activation::tanh(), x.size(), y.data(), d.data(), expected.data());
  cpu::activation_backward(Activation::tanh(), x.size(), y.data(), d.data(), d.data());
  EXPECT_EQ(d, expected);
}

}  // namespace
}  // namespace sgan
