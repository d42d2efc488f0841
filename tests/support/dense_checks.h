#pragma once
// What every GPU dense implementation is checked on against the CPU reference run in double: the
// SGAN recipes' dense layers and awkward shapes, the inputs drawn for a case, the reference's four
// outputs, and the tolerance. The test of an implementation runs its four calls on the same float
// inputs and hands the results to DenseCheck::expect_matches.
#include "kernels/activation.h"
#include "kernels/dense.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"

#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan::test {

struct DenseCase {
  DenseShape s;
  Activation epilogue;
};

inline std::string describe(const DenseCase& c) {
  return "n=" + std::to_string(c.s.n) + " in=" + std::to_string(c.s.in) +
         " out=" + std::to_string(c.s.out) + " " + activation_name(c.epilogue.kind);
}

// The recipes' dense layers (SGAN.md), D at 3n rows (labeled + unlabeled + fake), n = 64 and 100,
// each with the epilogue it has or could have fused.
inline std::vector<DenseCase> dense_sgan_cases() {
  std::vector<DenseCase> cases;
  for (const int n : {64, 100}) {
    cases.push_back({{3 * n, 6272, 11}, Activation::identity()}); // article D logits
    cases.push_back({{n, 100, 6272}, Activation::relu()});        // article G
    const int improved_d[] = {784, 1000, 500, 250, 250, 250, 10};
    for (int i = 0; i + 1 < 7; ++i)
      cases.push_back({{3 * n, improved_d[i], improved_d[i + 1]},
                       i + 2 < 7 ? Activation::leaky_relu(0.2f) : Activation::identity()});
    cases.push_back({{n, 100, 500}, Activation::softplus()}); // improved G
    cases.push_back({{n, 500, 500}, Activation::softplus()});
    cases.push_back({{n, 500, 784}, Activation::sigmoid()});
  }
  return cases;
}

// Awkward shapes (one row, one input, one output, sizes that fit no tile), each with every
// epilogue.
inline std::vector<DenseCase> dense_awkward_cases() {
  const DenseShape shapes[] = {{1, 1, 1}, {1, 37, 29}, {3, 29, 37},   {3, 1, 5},
                               {5, 7, 1}, {37, 29, 1}, {1, 6272, 11}, {33, 65, 129}};
  std::vector<DenseCase> cases;
  for (const DenseShape& s : shapes)
    for (const Activation& a : all_activations) cases.push_back({s, a});
  return cases;
}

// One case's float inputs, drawn from a seed the shape gives (weights scaled by 1/sqrt(in), as at
// initialisation; dw0 and db0 the gradients the backward directions add to), and the CPU
// reference's outputs computed in double from those same floats.
struct DenseCheck {
  std::vector<float> x, w, b, dy, dw0, db0;
  std::vector<double> y, dx, dw, db;

  DenseCheck(const DenseCase& c, bool with_bias) {
    const DenseShape& s = c.s;
    const std::uint64_t seed = std::uint64_t(s.n) * 7919 + s.in * 31 + s.out;
    const double scale = 1 / std::sqrt(double(s.in));
    x = random_uniform<float>(s.x_size(), seed, -1, 1);
    w = random_uniform<float>(s.w_size(), seed + 1, -scale, scale);
    b = random_uniform<float>(s.out, seed + 2, -0.5, 0.5);
    dy = random_uniform<float>(s.y_size(), seed + 3, -1, 1);
    dw0 = random_uniform<float>(s.w_size(), seed + 4, -1, 1);
    db0 = random_uniform<float>(s.out, seed + 5, -1, 1);

    const std::vector<double> xd = convert<double>(x), wd = convert<double>(w),
                              bd = convert<double>(b), dyd = convert<double>(dy);
    y.resize(s.y_size());
    dx.resize(s.x_size());
    dw = convert<double>(dw0);
    db = convert<double>(db0);
    cpu::dense_forward(s, xd.data(), wd.data(), with_bias ? bd.data() : nullptr, y.data(),
                       c.epilogue);
    cpu::dense_backward_data(s, dyd.data(), wd.data(), dx.data());
    cpu::dense_backward_weight(s, xd.data(), dyd.data(), dw.data());
    cpu::dense_backward_bias(s, dyd.data(), db.data());
  }

  // FP32 products of O(1) terms summed over up to 6272 terms: rounding error grows like sqrt(k)
  // ulps, about 1e-6 relative; 1e-5 leaves room for split-k orderings. The max-abs bound is
  // relative to the largest reference value.
  static constexpr double rel_tolerance = 1e-5;

  static ::testing::AssertionResult matches(const std::vector<double>& reference,
                                            const std::vector<float>& result) {
    return close(reference, result, rel_tolerance,
                 rel_tolerance * (1 + largest_magnitude(reference)));
  }

  // The implementation's y, dx and accumulated dw and db, as the host got them back.
  void expect_matches(const std::vector<float>& y_got, const std::vector<float>& dx_got,
                      const std::vector<float>& dw_got, const std::vector<float>& db_got,
                      const std::string& what) const {
    EXPECT_TRUE(matches(y, y_got)) << "forward " << what;
    EXPECT_TRUE(matches(dx, dx_got)) << "backward_data " << what;
    EXPECT_TRUE(matches(dw, dw_got)) << "backward_weight (+=) " << what;
    EXPECT_TRUE(matches(db, db_got)) << "backward_bias (+=) " << what;
  }
};

} // namespace sgan::test
