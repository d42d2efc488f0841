// The CPU weight normalisation: forward on a hand-computed example and by its defining property
// (each row of w has length |g| and the direction of v), backward against central finite
// differences in double, with += semantics for both gradients.
#include "kernels/weight_norm.h"
#include "tests/support/compare.h"
#include "tests/support/finite_difference.h"

#include <cmath>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

// v = [[3, 4], [0, -2]], g = [2, -1]: norm = [5, 2], w = [[1.2, 1.6], [0, 1]].
TEST(WeightNormCpuTest, ForwardMatchesHandComputedExample) {
  const WeightNormShape s{2, 2};
  const std::vector<double> v = {3, 4, 0, -2}, g = {2, -1};
  std::vector<double> w(s.size()), norm(s.rows);
  cpu::weight_norm_forward(s, v.data(), g.data(), w.data(), norm.data());
  EXPECT_TRUE(test::close(std::vector<double>{1.2, 1.6, 0, 1}, w, 1e-15, 1e-15));
  EXPECT_EQ(norm, (std::vector<double>{5, 2}));
}

TEST(WeightNormCpuTest, RowsHaveLengthGAndTheDirectionOfV) {
  const WeightNormShape s{7, 37};
  const std::vector<double> v = test::random_uniform<double>(s.size(), 1);
  const std::vector<double> g = test::random_uniform<double>(s.rows, 2, 0.5, 2.0);
  std::vector<double> w(s.size()), norm(s.rows);
  cpu::weight_norm_forward(s, v.data(), g.data(), w.data(), norm.data());
  for (int r = 0; r < s.rows; ++r) {
    double w_sq = 0, v_sq = 0, cross = 0;
    for (int c = 0; c < s.cols; ++c) {
      w_sq += w[r * s.cols + c] * w[r * s.cols + c];
      v_sq += v[r * s.cols + c] * v[r * s.cols + c];
      cross += w[r * s.cols + c] * v[r * s.cols + c];
    }
    EXPECT_NEAR(std::sqrt(w_sq), g[r], 1e-14) << "row " << r;
    EXPECT_NEAR(norm[r], std::sqrt(v_sq), 1e-14) << "row " << r;
    // w parallel to v with g > 0: cos(angle) = 1.
    EXPECT_NEAR(cross / (std::sqrt(w_sq) * std::sqrt(v_sq)), 1.0, 1e-14) << "row " << r;
  }
}

// L = sum w[r, c] R[r, c], so dL/dw = R; its gradients with respect to v and g are what
// backward must add.
struct WeightNormProblem {
  WeightNormShape s{4, 9};
  std::vector<double> v = test::random_uniform<double>(s.size(), 3);
  std::vector<double> g = test::random_uniform<double>(s.rows, 4, -2.0, 2.0);
  std::vector<double> r = test::random_uniform<double>(s.size(), 5);
  std::vector<double> w = std::vector<double>(s.size());
  std::vector<double> norm = std::vector<double>(s.rows);

  double loss() {
    cpu::weight_norm_forward(s, v.data(), g.data(), w.data(), norm.data());
    return test::dot(w, r);
  }
};

// Central differences with h = 1e-6 in double on a smooth O(1) function: truncation O(h^2) and
// rounding O(1e-16 / h) are both about 1e-10.
constexpr double fd_tolerance = 1e-7;

TEST(WeightNormCpuTest, BackwardAddsFiniteDifferenceGradients) {
  WeightNormProblem p;
  const std::vector<double> numeric_v = test::numeric_gradient(p.v, [&] { return p.loss(); });
  const std::vector<double> numeric_g = test::numeric_gradient(p.g, [&] { return p.loss(); });
  p.loss();

  const std::vector<double> dv_initial = test::random_uniform<double>(p.s.size(), 6);
  const std::vector<double> dg_initial = test::random_uniform<double>(p.s.rows, 7);
  std::vector<double> dv = dv_initial, dg = dg_initial;
  cpu::weight_norm_backward(p.s, p.v.data(), p.g.data(), p.norm.data(), p.r.data(), dv.data(),
                            dg.data());
  std::vector<double> expected_dv(p.s.size()), expected_dg(p.s.rows);
  for (std::size_t i = 0; i < dv.size(); ++i) expected_dv[i] = dv_initial[i] + numeric_v[i];
  for (int i = 0; i < p.s.rows; ++i) expected_dg[i] = dg_initial[i] + numeric_g[i];
  EXPECT_TRUE(test::close(expected_dv, dv, fd_tolerance, fd_tolerance));
  EXPECT_TRUE(test::close(expected_dg, dg, fd_tolerance, fd_tolerance));
}

// w does not change when v is scaled, so the gradient of any loss with respect to v is
// orthogonal to v in every row.
TEST(WeightNormCpuTest, GradientOfVIsOrthogonalToV) {
  WeightNormProblem p;
  p.loss();
  std::vector<double> dv(p.s.size(), 0.0), dg(p.s.rows, 0.0);
  cpu::weight_norm_backward(p.s, p.v.data(), p.g.data(), p.norm.data(), p.r.data(), dv.data(),
                            dg.data());
  for (int r = 0; r < p.s.rows; ++r) {
    double dot = 0;
    for (int c = 0; c < p.s.cols; ++c) dot += dv[r * p.s.cols + c] * p.v[r * p.s.cols + c];
    EXPECT_NEAR(dot, 0.0, 1e-14) << "row " << r;
  }
}

} // namespace
} // namespace sgan
