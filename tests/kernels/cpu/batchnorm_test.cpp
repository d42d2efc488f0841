// The CPU batchnorm: train forward against the formulas written out here (batch mean, biased
// variance for normalising, unbiased variance in the running estimate, momentum as the weight of
// the new batch), eval forward against the running statistics, epilogues against the textbook
// activations, and backward against central finite differences in double precision, for
// BatchNorm2d ([n, c, h*w]) and BatchNorm1d ([n, c], spatial 1).
#include "kernels/batchnorm.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/finite_difference.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan {
namespace {

double at(const std::vector<double>& v, const BatchNormShape& s, int i, int ch, int k) {
  return v[(std::size_t(i) * s.c + ch) * s.spatial + k];
}

// The statistics of one channel, written out: mean = (1/m) sum x, var = (1/m) sum (x - mean)^2.
struct ChannelStats {
  double mean = 0, var = 0;
};

ChannelStats channel_stats(const std::vector<double>& x, const BatchNormShape& s, int ch) {
  const double m = double(s.n) * s.spatial;
  ChannelStats st;
  for (int i = 0; i < s.n; ++i)
    for (int k = 0; k < s.spatial; ++k) st.mean += at(x, s, i, ch, k) / m;
  for (int i = 0; i < s.n; ++i)
    for (int k = 0; k < s.spatial; ++k) st.var += std::pow(at(x, s, i, ch, k) - st.mean, 2) / m;
  return st;
}

struct Params {
  std::vector<double> x, gamma, beta, running_mean, running_var;
};

Params random_params(const BatchNormShape& s, std::uint64_t seed) {
  Params p;
  p.x = test::random_uniform<double>(s.size(), seed, -2.0, 3.0);
  p.gamma = test::random_uniform<double>(s.c, seed + 1, 0.5, 1.5);
  p.beta = test::random_uniform<double>(s.c, seed + 2, -0.5, 0.5);
  p.running_mean = test::random_uniform<double>(s.c, seed + 3, -1.0, 1.0);
  p.running_var = test::random_uniform<double>(s.c, seed + 4, 0.5, 2.0);
  return p;
}

const BatchNormShape shapes[] = {{4, 3, 5 * 7}, {3, 5, 1}, {7, 2, 4}, {1, 3, 6}};

TEST(BatchNormCpuTest, TrainForwardMatchesWrittenOutFormulas) {
  const BatchNormHyper hyper{0.1f, 1e-5f};
  for (const BatchNormShape& s : shapes) {
    Params p = random_params(s, 10);
    const Params before = p;
    std::vector<double> y(s.size()), saved_mean(s.c), saved_invstd(s.c);
    cpu::batchnorm_forward_train(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), y.data(),
                                 p.running_mean.data(), p.running_var.data(), saved_mean.data(),
                                 saved_invstd.data());

    const double m = double(s.n) * s.spatial;
    const double momentum = hyper.momentum, eps = hyper.eps;
    std::vector<double> y_expected(s.size());
    for (int ch = 0; ch < s.c; ++ch) {
      const ChannelStats st = channel_stats(p.x, s, ch);
      const double invstd = 1 / std::sqrt(st.var + eps);
      EXPECT_NEAR(saved_mean[ch], st.mean, 1e-14);
      EXPECT_NEAR(saved_invstd[ch], invstd, 1e-12);
      EXPECT_NEAR(p.running_mean[ch], (1 - momentum) * before.running_mean[ch] + momentum * st.mean,
                  1e-14);
      EXPECT_NEAR(p.running_var[ch],
                  (1 - momentum) * before.running_var[ch] + momentum * st.var * m / (m - 1), 1e-14);
      for (int i = 0; i < s.n; ++i)
        for (int k = 0; k < s.spatial; ++k)
          y_expected[(std::size_t(i) * s.c + ch) * s.spatial + k] =
              p.gamma[ch] * (at(p.x, s, i, ch, k) - st.mean) * invstd + p.beta[ch];
    }
    EXPECT_TRUE(test::close(y_expected, y, 1e-14, 1e-13)) << s.n << "x" << s.c << "x" << s.spatial;
  }
}

// Independent of how the statistics are computed: each channel of y has mean beta and variance
// gamma^2 var / (var + eps), which is gamma^2 up to eps.
TEST(BatchNormCpuTest, TrainForwardOutputHasMeanBetaAndVarianceGammaSquared) {
  const BatchNormShape s{64, 5, 7 * 7};
  const BatchNormHyper hyper;
  Params p = random_params(s, 20);
  for (double& v : p.x) v = 100 + 3 * v; // far from zero mean, larger spread
  std::vector<double> y(s.size()), saved_mean(s.c), saved_invstd(s.c);
  cpu::batchnorm_forward_train(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), y.data(),
                               p.running_mean.data(), p.running_var.data(), saved_mean.data(),
                               saved_invstd.data());
  for (int ch = 0; ch < s.c; ++ch) {
    const ChannelStats x_stats = channel_stats(p.x, s, ch);
    const ChannelStats y_stats = channel_stats(y, s, ch);
    EXPECT_NEAR(y_stats.mean, p.beta[ch], 1e-12);
    EXPECT_NEAR(y_stats.var, p.gamma[ch] * p.gamma[ch] * x_stats.var / (x_stats.var + hyper.eps),
                1e-12);
  }
}

// Keras' BatchNormalization(momentum=0.99) keeps 0.99 of the old estimate: our momentum 0.01.
TEST(BatchNormCpuTest, MomentumIsTheWeightOfTheNewBatch) {
  const BatchNormShape s{2, 1, 2};
  const std::vector<double> x = {1, 2, 3, 6}; // mean 3, biased var 3.5, unbiased var 14/3
  const std::vector<double> gamma = {1}, beta = {0};
  std::vector<double> running_mean = {10}, running_var = {20};
  std::vector<double> y(4), saved_mean(1), saved_invstd(1);
  cpu::batchnorm_forward_train(s, BatchNormHyper{0.01f, 1e-5f}, x.data(), gamma.data(), beta.data(),
                               y.data(), running_mean.data(), running_var.data(), saved_mean.data(),
                               saved_invstd.data());
  const double momentum = 0.01f;
  EXPECT_NEAR(running_mean[0], (1 - momentum) * 10 + momentum * 3, 1e-14);
  EXPECT_NEAR(running_var[0], (1 - momentum) * 20 + momentum * 14.0 / 3.0, 1e-14);
  EXPECT_NEAR(saved_mean[0], 3, 1e-15);
  EXPECT_NEAR(saved_invstd[0], 1 / std::sqrt(3.5 + double(1e-5f)), 1e-15);
}

// m = 1: the one value is its own mean, xhat = 0 so y = act(beta), and there is no unbiased
// variance to average in, so the running variance stays as it was.
TEST(BatchNormCpuTest, SingleValuePerChannelKeepsRunningVariance) {
  const BatchNormShape s{1, 3, 1};
  const BatchNormHyper hyper{0.1f, 1e-5f};
  const std::vector<double> x = {0.7, -2.0, 5.0}, gamma = {1.5, 0.5, 2.0}, beta = {0.3, -0.4, 0};
  std::vector<double> running_mean = {1, 2, 3}, running_var = {4, 5, 6};
  std::vector<double> y(3), saved_mean(3), saved_invstd(3);
  cpu::batchnorm_forward_train(s, hyper, x.data(), gamma.data(), beta.data(), y.data(),
                               running_mean.data(), running_var.data(), saved_mean.data(),
                               saved_invstd.data(), Activation::relu());
  const std::vector<double> start_mean = {1, 2, 3};
  for (int ch = 0; ch < 3; ++ch) {
    EXPECT_EQ(y[ch], std::max(beta[ch], 0.0));
    EXPECT_EQ(running_var[ch], 4.0 + ch);
    EXPECT_NEAR(running_mean[ch], 0.9 * start_mean[ch] + 0.1 * x[ch], 1e-6); // momentum in float
    EXPECT_EQ(saved_mean[ch], x[ch]);
    EXPECT_NEAR(saved_invstd[ch], 1 / std::sqrt(double(hyper.eps)), 1e-9);
  }
}

TEST(BatchNormCpuTest, EvalForwardUsesRunningStatistics) {
  const BatchNormHyper hyper{0.1f, 1e-3f};
  for (const BatchNormShape& s : shapes) {
    const Params p = random_params(s, 30);
    std::vector<double> y(s.size()), y_expected(s.size());
    cpu::batchnorm_forward_eval(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(),
                                p.running_mean.data(), p.running_var.data(), y.data());
    for (int i = 0; i < s.n; ++i)
      for (int ch = 0; ch < s.c; ++ch)
        for (int k = 0; k < s.spatial; ++k)
          y_expected[(std::size_t(i) * s.c + ch) * s.spatial + k] =
              p.gamma[ch] * (at(p.x, s, i, ch, k) - p.running_mean[ch]) /
                  std::sqrt(p.running_var[ch] + double(hyper.eps)) +
              p.beta[ch];
    EXPECT_TRUE(test::close(y_expected, y, 1e-14, 1e-13)) << s.n << "x" << s.c << "x" << s.spatial;
  }
}

TEST(BatchNormCpuTest, EpilogueIsTheActivationOfTheAffineOutput) {
  const BatchNormShape s{5, 4, 3 * 3};
  const BatchNormHyper hyper;
  for (const Activation& a : test::all_activations) {
    Params p = random_params(s, 40);
    std::vector<double> affine(s.size()), y(s.size()), y_eval(s.size()), affine_eval(s.size());
    std::vector<double> rm = p.running_mean, rv = p.running_var, saved_mean(s.c), saved_invstd(s.c);
    cpu::batchnorm_forward_train(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), affine.data(),
                                 rm.data(), rv.data(), saved_mean.data(), saved_invstd.data());
    cpu::batchnorm_forward_train(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), y.data(),
                                 p.running_mean.data(), p.running_var.data(), saved_mean.data(),
                                 saved_invstd.data(), a);
    cpu::batchnorm_forward_eval(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), rm.data(),
                                rv.data(), affine_eval.data());
    cpu::batchnorm_forward_eval(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), rm.data(),
                                rv.data(), y_eval.data(), a);
    std::vector<double> expected(s.size()), expected_eval(s.size());
    for (std::size_t e = 0; e < s.size(); ++e) {
      expected[e] = test::textbook_activation(a, affine[e]);
      expected_eval[e] = test::textbook_activation(a, affine_eval[e]);
    }
    EXPECT_TRUE(test::close(expected, y, 1e-14, 1e-14)) << activation_name(a.kind);
    EXPECT_TRUE(test::close(expected_eval, y_eval, 1e-14, 1e-14)) << activation_name(a.kind);
  }
}

// dL/dx, dL/dgamma, dL/dbeta of L = sum y r (y the train-mode output, batch statistics included)
// against central differences. dgamma and dbeta accumulate, so they start from non-zero values.
// eps is large enough to matter: with m = 2, xhat = +-d / sqrt(d^2 + eps) and dL/dx is all eps.
TEST(BatchNormCpuTest, BackwardMatchesFiniteDifferences) {
  const BatchNormHyper hyper{0.1f, 0.05f};
  for (const BatchNormShape& s : {BatchNormShape{3, 2, 5}, BatchNormShape{6, 3, 1},
                                  BatchNormShape{1, 2, 4}, BatchNormShape{2, 3, 1}}) {
    Params p = random_params(s, 50);
    const std::vector<double> r = test::random_uniform<double>(s.size(), 51);
    std::vector<double> y(s.size()), saved_mean(s.c), saved_invstd(s.c);
    auto loss = [&] {
      std::vector<double> rm(s.c), rv(s.c, 1.0);
      cpu::batchnorm_forward_train(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), y.data(),
                                   rm.data(), rv.data(), saved_mean.data(), saved_invstd.data());
      return test::dot(y, r);
    };
    const std::vector<double> numeric_dx = test::numeric_gradient(p.x, loss);
    const std::vector<double> numeric_dgamma = test::numeric_gradient(p.gamma, loss);
    const std::vector<double> numeric_dbeta = test::numeric_gradient(p.beta, loss);

    loss();
    const std::vector<double> dgamma_start = test::random_uniform<double>(s.c, 52);
    const std::vector<double> dbeta_start = test::random_uniform<double>(s.c, 53);
    std::vector<double> dx(s.size()), dgamma = dgamma_start, dbeta = dbeta_start;
    cpu::batchnorm_backward(s, p.x.data(), r.data(), p.gamma.data(), saved_mean.data(),
                            saved_invstd.data(), dx.data(), dgamma.data(), dbeta.data());
    for (int ch = 0; ch < s.c; ++ch) {
      dgamma[ch] -= dgamma_start[ch];
      dbeta[ch] -= dbeta_start[ch];
    }
    // Central differences with h = 1e-6 in double on O(1) values: truncation O(h^2) and rounding
    // O(1e-16 / h) both stay near 1e-10; the loss is smooth (var + eps > 0).
    const std::string shape =
        std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.spatial);
    EXPECT_TRUE(test::close(numeric_dx, dx, 1e-6, 1e-6)) << "dx " << shape;
    EXPECT_TRUE(test::close(numeric_dgamma, dgamma, 1e-6, 1e-6)) << "dgamma " << shape;
    EXPECT_TRUE(test::close(numeric_dbeta, dbeta, 1e-6, 1e-6)) << "dbeta " << shape;
  }
}

// The float instantiation accumulates in double, so it agrees with the double one to float
// rounding.
TEST(BatchNormCpuTest, FloatMatchesDouble) {
  const BatchNormShape s{8, 3, 10};
  const BatchNormHyper hyper;
  const Params p = random_params(s, 60);
  const std::vector<double> dy = test::random_uniform<double>(s.size(), 61);
  std::vector<double> y(s.size()), rm = p.running_mean, rv = p.running_var, sm(s.c), si(s.c);
  std::vector<double> dx(s.size()), dgamma(s.c), dbeta(s.c);
  cpu::batchnorm_forward_train(s, hyper, p.x.data(), p.gamma.data(), p.beta.data(), y.data(),
                               rm.data(), rv.data(), sm.data(), si.data(), Activation::tanh());
  cpu::batchnorm_backward(s, p.x.data(), dy.data(), p.gamma.data(), sm.data(), si.data(), dx.data(),
                          dgamma.data(), dbeta.data());

  const std::vector<float> xf = test::convert<float>(p.x), gf = test::convert<float>(p.gamma);
  const std::vector<float> bf = test::convert<float>(p.beta), dyf = test::convert<float>(dy);
  std::vector<float> yf(s.size()), rmf = test::convert<float>(p.running_mean);
  std::vector<float> rvf = test::convert<float>(p.running_var), smf(s.c), sif(s.c);
  std::vector<float> dxf(s.size()), dgf(s.c, 0.0f), dbf(s.c, 0.0f);
  cpu::batchnorm_forward_train(s, hyper, xf.data(), gf.data(), bf.data(), yf.data(), rmf.data(),
                               rvf.data(), smf.data(), sif.data(), Activation::tanh());
  cpu::batchnorm_backward(s, xf.data(), dyf.data(), gf.data(), smf.data(), sif.data(), dxf.data(),
                          dgf.data(), dbf.data());
  // Inputs rounded to float (relative 6e-8) pass through O(1) gains.
  EXPECT_TRUE(test::close(y, yf, 1e-6, 1e-6));
  EXPECT_TRUE(test::close(rv, rvf, 1e-6, 1e-6));
  EXPECT_TRUE(test::close(dx, dxf, 1e-6, 1e-6));
  EXPECT_TRUE(test::close(dgamma, dgf, 1e-6, 1e-5));
}

} // namespace
} // namespace sgan
