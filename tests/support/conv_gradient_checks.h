#pragma once
// The CPU reference of a conv op (conv_checks.h's Conv2dOp or ConvTranspose2dOp): each backward
// direction against central finite differences in double precision. The references are what every
// other implementation is checked against, so these checks hold them to the definition itself:
//
//   using Conv2dCpuGradientTest = test::ConvGradientTest<test::Conv2dOp>;
//   SGAN_CONV_GRADIENT_TESTS(Conv2dCpuGradientTest)
//   INSTANTIATE_TEST_SUITE_P(SmallShapes, Conv2dCpuGradientTest, ::testing::Values(...));
//
// L = <forward(x, w, b), r>, so dL/dy = r. L is linear in each of x, w and b, so central
// differences are exact for any step; a large step h = 0.01 keeps the rounding of L (a sum of up
// to ~10^4 products of size O(1), off by ~1e-12) divided by 2h below 1e-9. The weight and bias
// gradients accumulate, so those start from random values that the expectation adds in.
#include "tests/support/compare.h"
#include "tests/support/conv_checks.h"
#include "tests/support/finite_difference.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <gtest/gtest.h>
#include <vector>

namespace sgan::test {

template <class Op>
class ConvGradientTest : public ::testing::TestWithParam<ConvCase<typename Op::Shape>> {
protected:
  using Shape = typename Op::Shape;
  static constexpr double step = 0.01;
  static constexpr double tolerance = 1e-9;

  // Random x, w, b and r (seeds seed .. seed + 3), and L as a function of them.
  struct Problem {
    Shape s;
    std::vector<double> x, w, b, r, y;
    Problem(const Shape& shape, std::uint64_t seed)
        : s(shape), x(random_uniform<double>(s.x_size(), seed)),
          w(random_uniform<double>(s.w_size(), seed + 1)),
          b(random_uniform<double>(s.c_out, seed + 2)),
          r(random_uniform<double>(s.y_size(), seed + 3)), y(s.y_size()) {}
    double loss() {
      Op::reference_forward(s, x.data(), w.data(), b.data(), y.data(), Activation::identity());
      return dot(y, r);
    }
    // dL/dp by central differences, plus `previous` (what an accumulating gradient starts from).
    std::vector<double> numeric(std::vector<double>& p, const std::vector<double>& previous) {
      std::vector<double> g = numeric_gradient(p, [&] { return loss(); }, step);
      for (std::size_t i = 0; i < g.size(); ++i) g[i] += previous[i];
      return g;
    }
  };

  void check_backward_data() {
    Problem p(this->GetParam().shape, 10);
    const std::vector<double> expected = p.numeric(p.x, std::vector<double>(p.x.size(), 0.0));
    std::vector<double> dx(p.x.size(), std::nan(""));
    Op::reference_backward_data(p.s, p.r.data(), p.w.data(), dx.data());
    EXPECT_TRUE(close(expected, dx, tolerance, tolerance));
  }

  void check_backward_weight() {
    Problem p(this->GetParam().shape, 20);
    std::vector<double> dw = random_uniform<double>(p.w.size(), 24);
    const std::vector<double> expected = p.numeric(p.w, dw);
    Op::reference_backward_weight(p.s, p.x.data(), p.r.data(), dw.data());
    EXPECT_TRUE(close(expected, dw, tolerance, tolerance));
  }

  void check_backward_bias() {
    Problem p(this->GetParam().shape, 30);
    std::vector<double> db = random_uniform<double>(p.b.size(), 34);
    const std::vector<double> expected = p.numeric(p.b, db);
    Op::reference_backward_bias(p.s, p.r.data(), db.data());
    EXPECT_TRUE(close(expected, db, tolerance, tolerance));
  }
};

// The checks as tests of Fixture (a test::ConvGradientTest<Op>); each file instantiates them on
// its shapes.
#define SGAN_CONV_GRADIENT_TESTS(Fixture)                                                          \
  TEST_P(Fixture, BackwardDataMatchesFiniteDifferences) { check_backward_data(); }                 \
  TEST_P(Fixture, BackwardWeightAccumulatesFiniteDifferences) { check_backward_weight(); }         \
  TEST_P(Fixture, BackwardBiasAccumulatesFiniteDifferences) { check_backward_bias(); }

}  // namespace sgan::test
