// The CPU optimisers against their formulas written out here in double (Adam and SGD as in
// PyTorch, the parameter EMA), over several steps with fresh gradients each step, and the Adam step
// scalars against 1 - beta^t.
#include "kernels/optimizers.h"
#include "tests/support/compare.h"

#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

// The state of one parameter buffer in double, updated by the formulas below.
struct ReferenceState {
  std::vector<double> params, first_moment, second_moment;
};

// Adam step t (1-based): g' = g + wd p; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), or with eps_inside_sqrt
// p -= lr (m / (1 - b1^t)) / sqrt(v / (1 - b2^t) + eps).
void adam_formula(const AdamHyper& h, double lr, int t, const std::vector<float>& grads,
                  ReferenceState& s) {
  const double b1 = h.beta1, b2 = h.beta2;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const double g = grads[i] + double(h.weight_decay) * s.params[i];
    s.first_moment[i] = b1 * s.first_moment[i] + (1 - b1) * g;
    s.second_moment[i] = b2 * s.second_moment[i] + (1 - b2) * g * g;
    const double m_hat = s.first_moment[i] / (1 - std::pow(b1, t));
    const double v_hat = s.second_moment[i] / (1 - std::pow(b2, t));
    s.params[i] -=
        lr * m_hat / (h.eps_inside_sqrt ? std::sqrt(v_hat + h.eps) : std::sqrt(v_hat) + h.eps);
  }
}

// SGD: g' = g + wd p; u = momentum u + g'; p -= lr u.
void sgd_formula(const SgdHyper& h, double lr, const std::vector<float>& grads, ReferenceState& s) {
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const double g = grads[i] + double(h.weight_decay) * s.params[i];
    s.first_moment[i] = h.momentum * s.first_moment[i] + g;
    s.params[i] -= lr * s.first_moment[i];
  }
}

ReferenceState reference_start(const std::vector<float>& params) {
  return {test::convert<double>(params), std::vector<double>(params.size(), 0.0),
          std::vector<double>(params.size(), 0.0)};
}

// Each step rounds p, m and v to float (relative 6e-8, so at most 1.2e-7 absolute for |p| < 2);
// over six steps that stays below 1e-6, while a wrong term moves a parameter by about lr = 1e-2.
constexpr double state_tolerance = 1e-6;

TEST(OptimizersCpuTest, AdamMatchesFormulaOverSeveralSteps) {
  // The last two put a large eps under the root, where its place changes every step visibly.
  const AdamHyper hypers[] = {
      AdamHyper{}, AdamHyper{0.5f, 0.999f, 1e-8f, 0.0f}, AdamHyper{0.9f, 0.99f, 1e-6f, 0.01f},
      AdamHyper{0.5f, 0.999f, 0.05f, 0.0f, true}, AdamHyper{0.9f, 0.99f, 0.05f, 0.01f, true}};
  const std::size_t n = 1000;
  const float lr = 1e-2f;
  for (const AdamHyper& hyper : hypers) {
    std::vector<float> params = test::random_uniform<float>(n, 1);
    std::vector<float> m(n, 0.0f), v(n, 0.0f);
    ReferenceState expected = reference_start(params);
    for (int t = 1; t <= 6; ++t) {
      const std::vector<float> grads = test::random_uniform<float>(n, 100 + t);
      const AdamStepScalars scalars = adam_step_scalars(hyper, lr, t);
      cpu::adam_update(hyper, n, &scalars, params.data(), grads.data(), m.data(), v.data());
      adam_formula(hyper, lr, t, grads, expected);
    }
    EXPECT_TRUE(test::close(expected.params, params, state_tolerance, state_tolerance))
        << "beta1 " << hyper.beta1 << " weight_decay " << hyper.weight_decay << " eps " << hyper.eps
        << (hyper.eps_inside_sqrt ? " inside" : " outside") << " the root";
    EXPECT_TRUE(test::close(expected.first_moment, m, state_tolerance, state_tolerance));
    EXPECT_TRUE(test::close(expected.second_moment, v, state_tolerance, state_tolerance));
  }
}

// At t = 1, m / (1 - b1) = g and v / (1 - b2) = g^2, so every parameter moves by
// lr g / (|g| + eps) = lr sign(g) up to eps / |g| <= 1e-6 relative.
TEST(OptimizersCpuTest, AdamFirstStepMovesEachParameterByLrTimesSignOfGradient) {
  const std::size_t n = 500;
  const float lr = 1e-3f;
  std::vector<float> grads = test::random_uniform<float>(n, 2, 0.01, 1.0);
  for (std::size_t i = 0; i < n; i += 2) grads[i] = -grads[i];
  const std::vector<float> start = test::random_uniform<float>(n, 3);
  std::vector<float> params = start, m(n, 0.0f), v(n, 0.0f);
  const AdamHyper hyper;
  const AdamStepScalars scalars = adam_step_scalars(hyper, lr, 1);
  cpu::adam_update(hyper, n, &scalars, params.data(), grads.data(), m.data(), v.data());
  for (std::size_t i = 0; i < n; ++i) {
    const double moved = double(start[i]) - params[i];
    // Rounding the new parameter to float: half an ulp of a value below 2, 6e-8.
    EXPECT_NEAR(moved, grads[i] > 0 ? lr : -lr, 1e-7) << "at " << i;
  }
}

// With eps under the root a tiny gradient takes a damped step: at t = 1 the step is
// lr g / sqrt(g^2 + eps), 0.0995 lr for g = 1e-5 and eps = 1e-8, where eps outside the root gives
// lr g / (|g| + eps) = 0.999 lr. Larger gradients move by lr as before.
TEST(OptimizersCpuTest, AdamWithEpsInsideTheRootDampsTinyGradients) {
  const std::vector<float> grads = {1e-5f, -1e-5f, 0.5f};
  const float lr = 1e-3f;
  for (const bool inside : {false, true}) {
    AdamHyper hyper{0.5f, 0.999f, 1e-8f, 0.0f, inside};
    std::vector<float> params(3, 0.0f), m(3, 0.0f), v(3, 0.0f);
    const AdamStepScalars scalars = adam_step_scalars(hyper, lr, 1);
    cpu::adam_update(hyper, 3, &scalars, params.data(), grads.data(), m.data(), v.data());
    const double tiny = inside ? 1e-5 / std::sqrt(1e-10 + 1e-8) : 1e-5 / (1e-5 + 1e-8);
    EXPECT_NEAR(-params[0], lr * tiny, 1e-6 * lr) << (inside ? "inside" : "outside");
    EXPECT_NEAR(params[1], lr * tiny, 1e-6 * lr) << (inside ? "inside" : "outside");
    EXPECT_NEAR(-params[2], lr, 1e-4 * lr) << (inside ? "inside" : "outside");
  }
}

// The step's learning rate and corrections are read through the pointer at each call: with lr 0
// the moments advance and the parameters stay put; the same call with lr set then moves them.
TEST(OptimizersCpuTest, AdamReadsStepScalarsThroughThePointer) {
  const std::size_t n = 10;
  const std::vector<float> start = test::random_uniform<float>(n, 4);
  const std::vector<float> grads = test::random_uniform<float>(n, 5, 0.1, 1.0);
  std::vector<float> params = start, m(n, 0.0f), v(n, 0.0f);
  const AdamHyper hyper;
  AdamStepScalars scalars = adam_step_scalars(hyper, 0.0f, 1);
  cpu::adam_update(hyper, n, &scalars, params.data(), grads.data(), m.data(), v.data());
  EXPECT_EQ(params, start);
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(m[i], 0.1 * grads[i], 1e-7);

  scalars = adam_step_scalars(hyper, 1e-2f, 2);
  cpu::adam_update(hyper, n, &scalars, params.data(), grads.data(), m.data(), v.data());
  for (std::size_t i = 0; i < n; ++i)
    EXPECT_LT(params[i], start[i]) << "positive gradient at " << i;
}

TEST(OptimizersCpuTest, AdamStepScalarsAreOneMinusBetaToTheStep) {
  const AdamHyper hyper;
  for (const int t : {1, 2, 10}) {
    const AdamStepScalars s = adam_step_scalars(hyper, 2e-4f, t);
    const double c1 = 1 - std::pow(double(hyper.beta1), t);
    const double c2 = 1 - std::pow(double(hyper.beta2), t);
    EXPECT_EQ(s.lr, 2e-4f);
    // Computed in double and rounded once: within half a float ulp, 6e-8 relative.
    EXPECT_NEAR(s.bias_correction1, c1, 6e-8 * c1) << "t = " << t;
    EXPECT_NEAR(s.bias_correction2, c2, 6e-8 * c2) << "t = " << t;
  }
  // The decimal values for beta1 = 0.9, beta2 = 0.999 (the betas themselves are floats, 0.999f
  // is 1.3e-8 above 0.999, which shifts 1 - 0.999^t by up to 1.3e-5 relative).
  const AdamStepScalars s2 = adam_step_scalars(hyper, 1.0f, 2);
  EXPECT_NEAR(s2.bias_correction1, 0.19, 0.19 * 1e-6);
  EXPECT_NEAR(s2.bias_correction2, 0.001999, 0.001999 * 2e-5);
  const AdamStepScalars s10 = adam_step_scalars(hyper, 1.0f, 10);
  EXPECT_NEAR(s10.bias_correction1, 0.6513215599, 0.6513215599 * 1e-6);
  EXPECT_NEAR(s10.bias_correction2, 0.0099551198, 0.0099551198 * 2e-5);
  // beta1 = 0.5 (the article recipe): 1 - 0.5 = 0.5 exactly.
  EXPECT_EQ(adam_step_scalars(AdamHyper{0.5f, 0.999f, 1e-8f, 0.0f}, 1.0f, 1).bias_correction1,
            0.5f);
}

TEST(OptimizersCpuTest, AdamStepScalarsRejectStepZero) {
  EXPECT_THROW(adam_step_scalars(AdamHyper{}, 1e-3f, 0), std::invalid_argument);
}

TEST(OptimizersCpuTest, SgdWithoutMomentumIsAPlainGradientStep) {
  const std::size_t n = 300;
  const float lr = 0.1f;
  for (const float weight_decay : {0.0f, 0.01f}) {
    const SgdHyper hyper{0.0f, weight_decay};
    std::vector<float> params = test::random_uniform<float>(n, 6);
    ReferenceState expected = reference_start(params);
    for (int step = 0; step < 4; ++step) {
      const std::vector<float> grads = test::random_uniform<float>(n, 200 + step);
      // With momentum 0 the velocity is not touched, so none is passed.
      cpu::sgd_update(hyper, n, &lr, params.data(), grads.data(), nullptr);
      for (std::size_t i = 0; i < n; ++i)
        expected.params[i] -= lr * (grads[i] + double(weight_decay) * expected.params[i]);
    }
    EXPECT_TRUE(test::close(expected.params, params, state_tolerance, state_tolerance))
        << "weight_decay " << weight_decay;
  }
}

TEST(OptimizersCpuTest, SgdWithMomentumMatchesFormulaOverSeveralSteps) {
  const std::size_t n = 300;
  const float lr = 0.05f;
  for (const float weight_decay : {0.0f, 5e-4f}) {
    const SgdHyper hyper{0.9f, weight_decay};
    std::vector<float> params = test::random_uniform<float>(n, 7), velocity(n, 0.0f);
    ReferenceState expected = reference_start(params);
    for (int step = 0; step < 6; ++step) {
      const std::vector<float> grads = test::random_uniform<float>(n, 300 + step);
      cpu::sgd_update(hyper, n, &lr, params.data(), grads.data(), velocity.data());
      sgd_formula(hyper, lr, grads, expected);
    }
    EXPECT_TRUE(test::close(expected.params, params, state_tolerance, state_tolerance))
        << "weight_decay " << weight_decay;
    // |u| can reach 1 + 0.9 + ... + 0.9^5 = 4.7, so its float rounding is up to 2.4e-7 per step.
    EXPECT_TRUE(test::close(expected.first_moment, velocity, 1e-6, 4e-6));
  }
}

TEST(OptimizersCpuTest, EmaMatchesFormulaOverSeveralSteps) {
  const std::size_t n = 300;
  const float rate = 0.01f;
  std::vector<float> ema = test::random_uniform<float>(n, 8);
  std::vector<double> expected = test::convert<double>(ema);
  for (int step = 0; step < 5; ++step) {
    const std::vector<float> params = test::random_uniform<float>(n, 400 + step);
    cpu::ema_update(n, rate, params.data(), ema.data());
    for (std::size_t i = 0; i < n; ++i) expected[i] += double(rate) * (params[i] - expected[i]);
  }
  EXPECT_TRUE(test::close(expected, ema, 1e-7, 3e-7));
}

TEST(OptimizersCpuTest, EmaRateOneCopiesParametersAndRateZeroKeepsTheAverage) {
  const std::size_t n = 50;
  const std::vector<float> params = test::random_uniform<float>(n, 9);
  const std::vector<float> start = test::random_uniform<float>(n, 10);
  std::vector<float> ema = start;
  cpu::ema_update(n, 0.0f, params.data(), ema.data());
  EXPECT_EQ(ema, start);
  cpu::ema_update(n, 1.0f, params.data(), ema.data());
  EXPECT_EQ(ema, params);
}

} // namespace
} // namespace sgan
