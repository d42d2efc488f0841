// The CPU SGAN losses. The (K+1)-way cross-entropy is held to the table in kernels/sgan_loss.h
// written out naively in long double (log of sums of exponentials, fine for moderate logits),
// to finite differences, and to its limits at extreme logits; weights, labels and the accuracy
// count are checked separately. Feature matching is held to its formula and finite differences.
#include "kernels/sgan_loss.h"
#include "tests/support/compare.h"
#include "tests/support/finite_difference.h"

#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

constexpr SganRow all_kinds[] = {SganRow::labeled, SganRow::unlabeled, SganRow::fake,
                                 SganRow::generator};

struct DirectRow {
  double loss = 0;
  std::vector<double> grad; // row_stride entries
};

// The table of kernels/sgan_loss.h, term by term: LSE(S) = log sum exp, p = softmax_A, q =
// softmax_R.
DirectRow direct_formula(const SganLossShape& s, const double* row, SganRow kind, int y) {
  const int K = s.classes;
  std::vector<long double> l(K + 1);
  for (int j = 0; j < K; ++j) l[j] = row[j];
  l[K] = s.fixed_zero_fake_logit ? 0.0L : row[K];
  long double sum_all = 0, sum_real = 0;
  for (int j = 0; j <= K; ++j) sum_all += std::exp(l[j]);
  for (int j = 0; j < K; ++j) sum_real += std::exp(l[j]);
  const long double lse_all = std::log(sum_all), lse_real = std::log(sum_real);
  std::vector<long double> p(K + 1), q(K + 1, 0.0L), grad(K + 1);
  for (int j = 0; j <= K; ++j) p[j] = std::exp(l[j]) / sum_all;
  for (int j = 0; j < K; ++j) q[j] = std::exp(l[j]) / sum_real;

  long double loss = 0;
  for (int j = 0; j <= K; ++j) {
    switch (kind) {
    case SganRow::labeled:
      loss = s.fixed_zero_fake_logit ? lse_real - l[y] : lse_all - l[y];
      grad[j] = (s.fixed_zero_fake_logit ? q[j] : p[j]) - (j == y ? 1 : 0);
      break;
    case SganRow::unlabeled:
    case SganRow::generator:
      loss = lse_all - lse_real;
      grad[j] = p[j] - q[j];
      break;
    case SganRow::fake:
      loss = lse_all - l[K];
      grad[j] = p[j] - (j == K ? 1 : 0);
      break;
    }
  }
  DirectRow out{double(loss), {}};
  for (int j = 0; j < s.row_stride(); ++j) out.grad.push_back(double(grad[j]));
  return out;
}

// A batch of rows cycling through the four kinds, with random logits, labels and weights.
struct Batch {
  SganLossShape s;
  std::vector<double> logits;
  std::vector<SganRow> kind;
  std::vector<std::int32_t> label;
  std::vector<double> weight;

  Batch(int rows, bool fixed_zero, double logit_range, std::uint64_t seed)
      : s{rows, 10, fixed_zero},
        logits(test::random_uniform<double>(s.logits_size(), seed, -logit_range, logit_range)),
        kind(rows), label(rows), weight(test::random_uniform<double>(rows, seed + 1, 0.1, 2.0)) {
    const std::vector<double> u = test::random_uniform<double>(rows, seed + 2, 0.0, 10.0);
    for (int r = 0; r < rows; ++r) {
      kind[r] = all_kinds[r % 4];
      label[r] = kind[r] == SganRow::labeled ? std::int32_t(u[r]) : -12345;
    }
  }

  struct Result {
    std::vector<double> loss, dlogits;
    std::vector<std::int32_t> correct;
  };
  Result run() const {
    Result out{std::vector<double>(s.rows, std::nan("")),
               std::vector<double>(s.logits_size(), std::nan("")),
               std::vector<std::int32_t>(s.rows, -1)};
    cpu::sgan_softmax_xent_forward_backward(s, logits.data(), kind.data(), label.data(),
                                            weight.data(), out.loss.data(), out.dlogits.data(),
                                            out.correct.data());
    return out;
  }
};

TEST(SganLossCpuTest, EveryRowKindMatchesTheDirectFormula) {
  for (const bool fixed_zero : {false, true}) {
    const Batch b(24, fixed_zero, 5.0, 1);
    const Batch::Result got = b.run();
    std::vector<double> expected_loss(b.s.rows), expected_grad(b.s.logits_size());
    for (int r = 0; r < b.s.rows; ++r) {
      const int stride = b.s.row_stride();
      const DirectRow d = direct_formula(b.s, &b.logits[r * stride], b.kind[r], b.label[r]);
      expected_loss[r] = b.weight[r] * d.loss;
      for (int j = 0; j < stride; ++j) expected_grad[r * stride + j] = b.weight[r] * d.grad[j];
    }
    // The stable form and the naive long double form differ by rounding only (logits within
    // +-5, so no term is anywhere near overflow or underflow).
    EXPECT_TRUE(test::close(expected_loss, got.loss, 1e-13, 1e-13)) << "fixed_zero " << fixed_zero;
    EXPECT_TRUE(test::close(expected_grad, got.dlogits, 1e-13, 1e-13))
        << "fixed_zero " << fixed_zero;
  }
}

TEST(SganLossCpuTest, GradientMatchesFiniteDifferences) {
  for (const bool fixed_zero : {false, true}) {
    Batch b(12, fixed_zero, 3.0, 2);
    std::vector<double> loss(b.s.rows), dlogits(b.s.logits_size());
    auto total_loss = [&] {
      cpu::sgan_softmax_xent_forward_backward(b.s, b.logits.data(), b.kind.data(), b.label.data(),
                                              b.weight.data(), loss.data(), dlogits.data(),
                                              static_cast<std::int32_t*>(nullptr));
      return std::accumulate(loss.begin(), loss.end(), 0.0);
    };
    const std::vector<double> numeric = test::numeric_gradient(b.logits, total_loss);
    // Central differences with h = 1e-6 in double on a smooth O(1) function: about 1e-10.
    EXPECT_TRUE(test::close(numeric, b.run().dlogits, 1e-7, 1e-7)) << "fixed_zero " << fixed_zero;
  }
}

struct ExtremeCase {
  const char* name;
  bool fixed_zero;
  SganRow kind;
  std::int32_t label;
  std::vector<float> logits; // K = 4
  double loss;               // the limit, up to terms of order exp(-80)
  std::vector<double> grad;
};

// K = 4 real classes. With a dominant logit every probability is 0 or 1 (or 1/K among equal
// logits) up to exp(-80), which is far below float resolution.
const std::vector<ExtremeCase> extreme_cases = {
    {"labeled right", false, SganRow::labeled, 0, {1000, 0, 0, 0, 0}, 0, {0, 0, 0, 0, 0}},
    {"labeled wrong", false, SganRow::labeled, 1, {1000, 0, 0, 0, 0}, 1000, {1, -1, 0, 0, 0}},
    {"labeled beaten by fake",
     false,
     SganRow::labeled,
     2,
     {0, 0, 80, 0, 1000},
     920,
     {0, 0, -1, 0, 1}},
    {"labeled zero wrong", true, SganRow::labeled, 1, {80, -80, 0, 0}, 160, {1, -1, 0, 0}},
    {"unlabeled called fake",
     false,
     SganRow::unlabeled,
     -1,
     {0, 0, 0, 0, 1000},
     1000 - std::log(4.0),
     {-0.25, -0.25, -0.25, -0.25, 1}},
    {"unlabeled called real",
     false,
     SganRow::unlabeled,
     -1,
     {0, 0, 0, 0, -1000},
     0,
     {0, 0, 0, 0, 0}},
    {"unlabeled zero, reals far below",
     true,
     SganRow::unlabeled,
     -1,
     {-1000, -80, -1000, -1000},
     80,
     {0, -1, 0, 0}},
    {"fake called real",
     false,
     SganRow::fake,
     -1,
     {-80, 80, -80, -80, -1000},
     1080,
     {0, 1, 0, 0, -1}},
    {"fake called fake",
     false,
     SganRow::fake,
     -1,
     {-1000, -1000, -1000, -1000, 1000},
     0,
     {0, 0, 0, 0, 0}},
    {"fake zero, reals far above",
     true,
     SganRow::fake,
     -1,
     {1000, 1000, 1000, 1000},
     1000 + std::log(4.0),
     {0.25, 0.25, 0.25, 0.25}},
    {"generator zero, reals far below",
     true,
     SganRow::generator,
     -1,
     {-1000, -1000, -1000, -1000},
     1000 - std::log(4.0),
     {-0.25, -0.25, -0.25, -0.25}},
    {"generator called real",
     false,
     SganRow::generator,
     -1,
     {80, 0, 0, 0, -80},
     0,
     {0, 0, 0, 0, 0}},
};

TEST(SganLossCpuTest, ExtremeLogitsGiveFiniteLimits) {
  for (const ExtremeCase& c : extreme_cases) {
    const SganLossShape s{1, 4, c.fixed_zero};
    const float weight = 1.0f;
    float loss = std::nanf("");
    std::vector<float> dlogits(s.row_stride(), std::nanf(""));
    cpu::sgan_softmax_xent_forward_backward(s, c.logits.data(), &c.kind, &c.label, &weight, &loss,
                                            dlogits.data(), static_cast<std::int32_t*>(nullptr));
    // Float resolution: 1000 is exact, log(4) is within 1e-7 relative.
    EXPECT_NEAR(loss, c.loss, 1e-4 + 1e-6 * c.loss) << c.name;
    EXPECT_TRUE(test::close(c.grad, dlogits, 1e-6, 1e-6)) << c.name;
  }
}

// A confidently right labeled row has p_y - 1 of about -3e-9 here: formed as a difference in
// float it would be lost to rounding (1 ulp of 1 is 6e-8); the reference keeps it relative.
TEST(SganLossCpuTest, ConfidentLabeledGradientKeepsRelativePrecision) {
  for (const bool fixed_zero : {false, true}) {
    const SganLossShape s{1, 4, fixed_zero};
    const std::vector<float> logits = {0, 20, 0, 0, -1};
    const SganRow kind = SganRow::labeled;
    const std::int32_t label = 1;
    const float weight = 1.0f;
    float loss = 0;
    std::vector<float> dlogits(s.row_stride());
    cpu::sgan_softmax_xent_forward_backward(s, logits.data(), &kind, &label, &weight, &loss,
                                            dlogits.data(), static_cast<std::int32_t*>(nullptr));
    const std::vector<double> logits_d = test::convert<double>(logits);
    const DirectRow d = direct_formula(s, logits_d.data(), kind, label);
    EXPECT_NEAR(dlogits[1], d.grad[1], 1e-6 * std::fabs(d.grad[1])) << "fixed_zero " << fixed_zero;
    EXPECT_LT(dlogits[1], 0.0f);
  }
}

TEST(SganLossCpuTest, GradientRowsSumToZeroWhereTheyShould) {
  // Explicit fake logit: every gradient is a softmax minus a distribution over A. Fixed zero:
  // only labeled rows, whose gradient is softmax_R minus a one-hot over R; the others leave out
  // l_K's share.
  for (const bool fixed_zero : {false, true}) {
    const Batch b(16, fixed_zero, 8.0, 3);
    const Batch::Result got = b.run();
    for (int r = 0; r < b.s.rows; ++r) {
      if (fixed_zero && b.kind[r] != SganRow::labeled) continue;
      const double* d = &got.dlogits[r * b.s.row_stride()];
      EXPECT_NEAR(std::accumulate(d, d + b.s.row_stride(), 0.0), 0.0, 1e-15)
          << "row " << r << " fixed_zero " << fixed_zero;
    }
  }
}

TEST(SganLossCpuTest, WeightsScaleLossAndGradient) {
  Batch b(8, false, 4.0, 4);
  std::fill(b.weight.begin(), b.weight.end(), 1.0);
  const Batch::Result unit = b.run();
  const std::vector<double> weights = {0.0, 0.5, 3.0, 0.01, 1.0, 2.5, 0.0, 7.0};
  b.weight = weights;
  const Batch::Result scaled = b.run();
  for (int r = 0; r < b.s.rows; ++r) {
    EXPECT_NEAR(scaled.loss[r], weights[r] * unit.loss[r], 1e-15 * (1 + unit.loss[r]));
    for (int j = 0; j < b.s.row_stride(); ++j) {
      const std::size_t i = std::size_t(r) * b.s.row_stride() + j;
      EXPECT_NEAR(scaled.dlogits[i], weights[r] * unit.dlogits[i], 1e-15);
    }
  }
}

TEST(SganLossCpuTest, LabelsOfOtherRowsAreNeverRead) {
  for (const bool fixed_zero : {false, true}) {
    Batch b(12, fixed_zero, 4.0, 5);
    const Batch::Result garbage = b.run(); // non-labeled rows carry label -12345
    for (int r = 0; r < b.s.rows; ++r)
      if (b.kind[r] != SganRow::labeled) b.label[r] = 0;
    const Batch::Result clean = b.run();
    EXPECT_EQ(garbage.loss, clean.loss);
    EXPECT_EQ(garbage.dlogits, clean.dlogits);
    EXPECT_EQ(garbage.correct, clean.correct);
    for (const double l : garbage.loss) EXPECT_TRUE(std::isfinite(l));
  }
}

TEST(SganLossCpuTest, CorrectIsArgmaxOverRealClassesWithFirstIndexOnTies) {
  // K = 4 with an explicit fake logit that dominates: it never counts as a class.
  const SganLossShape s{6, 4, false};
  const std::vector<float> logits = {
      1, 5, 5, 2, 9,  // labeled 1: tie of 1 and 2, first index wins -> correct
      1, 5, 5, 2, 9,  // labeled 2: the tie goes to 1 -> wrong
      3, 3, 3, 3, 9,  // labeled 0: four-way tie -> correct
      0, 0, 0, 7, 0,  // labeled 3 -> correct
      0, 0, 0, 7, 0,  // unlabeled whose argmax is 3 -> 0
      7, 0, 0, 0, 0}; // fake whose argmax is 0 -> 0
  const std::vector<SganRow> kind = {SganRow::labeled, SganRow::labeled,   SganRow::labeled,
                                     SganRow::labeled, SganRow::unlabeled, SganRow::fake};
  const std::vector<std::int32_t> label = {1, 2, 0, 3, 3, 0};
  const std::vector<float> weight(s.rows, 1.0f);
  std::vector<float> loss(s.rows), dlogits(s.logits_size());
  std::vector<std::int32_t> correct(s.rows, -1);
  cpu::sgan_softmax_xent_forward_backward(s, logits.data(), kind.data(), label.data(),
                                          weight.data(), loss.data(), dlogits.data(),
                                          correct.data());
  EXPECT_EQ(correct, (std::vector<std::int32_t>{1, 0, 1, 1, 0, 0}));
}

TEST(SganLossCpuTest, OutOfRangeLabelGivesNaN) {
  const SganLossShape s{2, 3, true};
  const std::vector<double> logits = {0.5, 1, 2, 0.5, 1, 2};
  const std::vector<SganRow> kind = {SganRow::labeled, SganRow::labeled};
  const std::vector<std::int32_t> label = {3, 1};
  const std::vector<double> weight = {1, 1};
  std::vector<double> loss(2), dlogits(6);
  std::vector<std::int32_t> correct(2, -1);
  cpu::sgan_softmax_xent_forward_backward(s, logits.data(), kind.data(), label.data(),
                                          weight.data(), loss.data(), dlogits.data(),
                                          correct.data());
  EXPECT_TRUE(std::isnan(loss[0]));
  for (int j = 0; j < 3; ++j) EXPECT_TRUE(std::isnan(dlogits[j]));
  EXPECT_EQ(correct[0], 0);
  EXPECT_TRUE(std::isfinite(loss[1]));
}

// loss = (1/F) sum_f (mean_r real[r, f] - mean_r fake[r, f])^2, written out in long double.
TEST(FeatureMatchingCpuTest, MatchesFormula) {
  const FeatureMatchingShape s{5, 3, 7};
  const std::vector<double> real = test::random_uniform<double>(5 * 7, 20);
  const std::vector<double> fake = test::random_uniform<double>(3 * 7, 21);
  long double expected = 0;
  std::vector<double> expected_grad(fake.size());
  for (int f = 0; f < 7; ++f) {
    long double a = 0, b = 0;
    for (int r = 0; r < 5; ++r) a += real[r * 7 + f] / 5.0L;
    for (int r = 0; r < 3; ++r) b += fake[r * 7 + f] / 3.0L;
    expected += (a - b) * (a - b) / 7;
    for (int r = 0; r < 3; ++r) expected_grad[r * 7 + f] = double(-2 * (a - b) / (7 * 3));
  }
  double loss = std::nan("");
  std::vector<double> d_fake(fake.size(), std::nan(""));
  cpu::feature_matching_forward_backward(s, real.data(), fake.data(), &loss, d_fake.data());
  EXPECT_NEAR(loss, double(expected), 1e-15);
  EXPECT_TRUE(test::close(expected_grad, d_fake, 1e-14, 1e-15));
}

TEST(FeatureMatchingCpuTest, GradientMatchesFiniteDifferences) {
  const FeatureMatchingShape s{4, 6, 5};
  const std::vector<double> real = test::random_uniform<double>(4 * 5, 22);
  std::vector<double> fake = test::random_uniform<double>(6 * 5, 23);
  std::vector<double> scratch(fake.size());
  auto loss = [&] {
    double value = 0;
    cpu::feature_matching_forward_backward(s, real.data(), fake.data(), &value, scratch.data());
    return value;
  };
  const std::vector<double> numeric = test::numeric_gradient(fake, loss);
  double value = 0;
  std::vector<double> d_fake(fake.size(), 99.0);
  cpu::feature_matching_forward_backward(s, real.data(), fake.data(), &value, d_fake.data());
  // The loss is quadratic: central differences are exact up to rounding (about 1e-10).
  EXPECT_TRUE(test::close(numeric, d_fake, 1e-7, 1e-9));
}

TEST(FeatureMatchingCpuTest, RejectsEmptyBatches) {
  const std::vector<float> x(4, 0.0f);
  std::vector<float> d(4);
  float loss = 0;
  EXPECT_THROW(cpu::feature_matching_forward_backward(FeatureMatchingShape{0, 2, 2}, x.data(),
                                                      x.data(), &loss, d.data()),
               std::invalid_argument);
  EXPECT_THROW(cpu::feature_matching_forward_backward(FeatureMatchingShape{2, 0, 2}, x.data(),
                                                      x.data(), &loss, d.data()),
               std::invalid_argument);
}

} // namespace
} // namespace sgan
