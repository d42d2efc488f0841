// The CPU dense layer: forward on a hand-computed example and with every epilogue, each backward
// against central finite differences in double, and += semantics of the parameter gradients.
#include "kernels/dense.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/finite_difference.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

// x = [[1, 2, 3], [-1, 0, 2]], w = [[1, 0, -1], [0.5, 0.5, 0.5]], b = [0.25, -1]:
//   x W^T = [[1 - 3, 0.5 + 1 + 1.5], [-1 - 2, -0.5 + 0 + 1]] = [[-2, 3], [-3, 0.5]]
TEST(DenseCpuTest, ForwardMatchesHandComputedExample) {
  const DenseShape s{2, 3, 2};
  const std::vector<double> x = {1, 2, 3, -1, 0, 2};
  const std::vector<double> w = {1, 0, -1, 0.5, 0.5, 0.5};
  const std::vector<double> b = {0.25, -1};
  std::vector<double> y(s.y_size());

  cpu::dense_forward(s, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<double>{-1.75, 2, -2.75, -0.5}));

  cpu::dense_forward<double>(s, x.data(), w.data(), nullptr, y.data());
  EXPECT_EQ(y, (std::vector<double>{-2, 3, -3, 0.5}));

  cpu::dense_forward(s, x.data(), w.data(), b.data(), y.data(), Activation::relu());
  EXPECT_EQ(y, (std::vector<double>{0, 2, 0, 0}));
}

TEST(DenseCpuTest, ForwardAppliesEachEpilogueToTheAffineOutput) {
  const DenseShape s{5, 7, 6};
  const std::vector<double> x = test::random_uniform<double>(s.x_size(), 1);
  const std::vector<double> w = test::random_uniform<double>(s.w_size(), 2);
  const std::vector<double> b = test::random_uniform<double>(s.out, 3);
  for (const Activation& a : test::all_activations) {
    std::vector<double> y(s.y_size()), expected(s.y_size());
    cpu::dense_forward(s, x.data(), w.data(), b.data(), y.data(), a);
    for (int r = 0; r < s.n; ++r)
      for (int o = 0; o < s.out; ++o) {
        double affine = b[o];
        for (int i = 0; i < s.in; ++i) affine += x[r * s.in + i] * w[o * s.in + i];
        expected[r * s.out + o] = test::textbook_activation(a, affine);
      }
    EXPECT_TRUE(test::close(expected, y, 1e-14, 1e-14)) << activation_name(a.kind);
  }
}

TEST(DenseCpuTest, FloatMatchesDouble) {
  const DenseShape s{3, 29, 37};
  const std::vector<double> x = test::random_uniform<double>(s.x_size(), 4);
  const std::vector<double> w = test::random_uniform<double>(s.w_size(), 5);
  const std::vector<double> b = test::random_uniform<double>(s.out, 6);
  std::vector<double> y_double(s.y_size());
  std::vector<float> y_float(s.y_size());
  cpu::dense_forward(s, x.data(), w.data(), b.data(), y_double.data(), Activation::tanh());
  const std::vector<float> xf = test::convert<float>(x), wf = test::convert<float>(w),
                           bf = test::convert<float>(b);
  cpu::dense_forward(s, xf.data(), wf.data(), bf.data(), y_float.data(), Activation::tanh());
  // Inputs rounded to float (relative 6e-8 each) over 29 products, summed in double.
  EXPECT_TRUE(test::close(y_double, y_float, 1e-6, 1e-6));
}

// Backward passes are checked on L = sum_{r,o} y[r, o] R[r, o] with the identity epilogue, whose
// gradient with respect to y is R: so dy = R.
struct DenseProblem {
  DenseShape s{3, 5, 4};
  std::vector<double> x = test::random_uniform<double>(s.x_size(), 10);
  std::vector<double> w = test::random_uniform<double>(s.w_size(), 11);
  std::vector<double> b = test::random_uniform<double>(s.out, 12);
  std::vector<double> r = test::random_uniform<double>(s.y_size(), 13);
  std::vector<double> y = std::vector<double>(s.y_size());

  double loss() {
    cpu::dense_forward(s, x.data(), w.data(), b.data(), y.data());
    return test::dot(y, r);
  }
};

// Central differences with h = 1e-6 in double: L is linear in each parameter, so only rounding
// (about 1e-10) remains.
constexpr double fd_tolerance = 1e-8;

TEST(DenseCpuTest, BackwardDataMatchesFiniteDifferences) {
  DenseProblem p;
  const std::vector<double> numeric = test::numeric_gradient(p.x, [&] { return p.loss(); });
  std::vector<double> dx(p.s.x_size(), std::nan(""));
  cpu::dense_backward_data(p.s, p.r.data(), p.w.data(), dx.data());
  EXPECT_TRUE(test::close(numeric, dx, fd_tolerance, fd_tolerance));
}

TEST(DenseCpuTest, BackwardWeightAddsFiniteDifferenceGradient) {
  DenseProblem p;
  const std::vector<double> numeric = test::numeric_gradient(p.w, [&] { return p.loss(); });
  const std::vector<double> initial = test::random_uniform<double>(p.s.w_size(), 14);
  std::vector<double> dw = initial, expected(p.s.w_size());
  cpu::dense_backward_weight(p.s, p.x.data(), p.r.data(), dw.data());
  for (std::size_t i = 0; i < dw.size(); ++i) expected[i] = initial[i] + numeric[i];
  EXPECT_TRUE(test::close(expected, dw, fd_tolerance, fd_tolerance));
}

TEST(DenseCpuTest, BackwardBiasAddsFiniteDifferenceGradient) {
  DenseProblem p;
  const std::vector<double> numeric = test::numeric_gradient(p.b, [&] { return p.loss(); });
  const std::vector<double> initial = test::random_uniform<double>(p.s.out, 15);
  std::vector<double> db = initial, expected(p.s.out);
  cpu::dense_backward_bias(p.s, p.r.data(), db.data());
  for (int o = 0; o < p.s.out; ++o) expected[o] = initial[o] + numeric[o];
  EXPECT_TRUE(test::close(expected, db, fd_tolerance, fd_tolerance));
}

TEST(DenseCpuTest, BackwardDataOverwritesItsOutput) {
  DenseProblem p;
  std::vector<double> dx_fresh(p.s.x_size(), 0.0), dx_dirty(p.s.x_size(), 123.0);
  cpu::dense_backward_data(p.s, p.r.data(), p.w.data(), dx_fresh.data());
  cpu::dense_backward_data(p.s, p.r.data(), p.w.data(), dx_dirty.data());
  EXPECT_EQ(dx_fresh, dx_dirty);
}

// The register tiles (4 rows x 8, then 2, then 1 columns) and the threads must not change a single
// bit: each element is the plain loop's double sum over its index in ascending order, rounded to
// float once. Shapes with every kind of remainder tile, and one large enough to be split across
// threads.
TEST(DenseCpuTest, EveryDirectionEqualsThePlainLoopsBitwise) {
  for (const DenseShape s : {DenseShape{7, 37, 13}, DenseShape{9, 3, 21}, DenseShape{1, 1, 1},
                             DenseShape{66, 515, 97}}) {
    SCOPED_TRACE(testing::Message() << "n " << s.n << ", in " << s.in << ", out " << s.out);
    const std::vector<float> x = test::random_uniform<float>(s.x_size(), 21);
    const std::vector<float> w = test::random_uniform<float>(s.w_size(), 22);
    const std::vector<float> b = test::random_uniform<float>(s.out, 23);
    const std::vector<float> dy = test::random_uniform<float>(s.y_size(), 24);
    const std::vector<float> dw_initial = test::random_uniform<float>(s.w_size(), 25);
    std::vector<float> y_plain(s.y_size()), dx_plain(s.x_size()), dw_plain = dw_initial;
    for (int r = 0; r < s.n; ++r)
      for (int o = 0; o < s.out; ++o) {
        double sum = b[o];
        for (int i = 0; i < s.in; ++i) sum += double(x[r * s.in + i]) * double(w[o * s.in + i]);
        y_plain[r * s.out + o] = float(activation_apply(Activation::tanh(), sum));
      }
    for (int r = 0; r < s.n; ++r)
      for (int i = 0; i < s.in; ++i) {
        double sum = 0;
        for (int o = 0; o < s.out; ++o) sum += double(dy[r * s.out + o]) * double(w[o * s.in + i]);
        dx_plain[r * s.in + i] = float(sum);
      }
    for (int o = 0; o < s.out; ++o)
      for (int i = 0; i < s.in; ++i) {
        double sum = 0;
        for (int r = 0; r < s.n; ++r) sum += double(dy[r * s.out + o]) * double(x[r * s.in + i]);
        dw_plain[o * s.in + i] = float(double(dw_initial[o * s.in + i]) + sum);
      }

    std::vector<float> y(s.y_size(), std::nanf("")), dx(s.x_size(), std::nanf("")), dw = dw_initial;
    cpu::dense_forward(s, x.data(), w.data(), b.data(), y.data(), Activation::tanh());
    cpu::dense_backward_data(s, dy.data(), w.data(), dx.data());
    cpu::dense_backward_weight(s, x.data(), dy.data(), dw.data());
    EXPECT_EQ(y, y_plain);
    EXPECT_EQ(dx, dx_plain);
    EXPECT_EQ(dw, dw_plain);
  }
}

} // namespace
} // namespace sgan
