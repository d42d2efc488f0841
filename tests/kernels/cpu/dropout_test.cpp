// Dropout and Gaussian noise on the host: the keep rate within binomial tolerance, the mask and
// 1 / keep_prob scaling written out from the Philox words, the backward pass regenerating the
// same mask, keep_prob 1 as the identity, in-place use, and the noise as exactly
// fma(sigma, n_e, x) with n_e the Philox normals.
#include "kernels/dropout.h"
#include "tests/support/compare.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

// Inputs bounded away from zero, so a zero output means a dropped element.
std::vector<float> nonzero_inputs(std::size_t n, std::uint64_t seed) {
  std::vector<float> x = test::random_uniform<float>(n, seed, 0.5, 2.0);
  for (std::size_t i = 0; i < n; i += 2) x[i] = -x[i];
  return x;
}

// For n = 2^20 Bernoulli(p) draws the kept count has standard deviation sqrt(n p (1 - p)); the
// tolerance is 5 of them.
TEST(DropoutCpuTest, KeepRateIsWithinBinomialTolerance) {
  const std::size_t n = std::size_t(1) << 20;
  const std::uint64_t counter = 3;
  const std::vector<float> x(n, 1.0f);
  for (const float keep_prob : {0.7f, 0.5f, 0.1f}) {
    std::vector<float> y(n);
    cpu::dropout_forward(n, keep_prob, PhiloxStream{5, 1}, &counter, x.data(), y.data());
    const double kept = double(std::count_if(y.begin(), y.end(), [](float v) { return v != 0; }));
    const double p = keep_prob;
    EXPECT_NEAR(kept, n * p, 5 * std::sqrt(n * p * (1 - p))) << "keep_prob " << keep_prob;
  }
}

TEST(DropoutCpuTest, KeptValuesAreScaledByInverseKeepProb) {
  const std::size_t n = 1003;
  const float keep_prob = 0.7f;
  const PhiloxStream s{11, 4};
  const std::uint64_t counter = 17;
  const std::vector<float> x = nonzero_inputs(n, 1);
  std::vector<float> y(n);
  cpu::dropout_forward(n, keep_prob, s, &counter, x.data(), y.data());
  for (std::size_t e = 0; e < n; ++e) {
    const std::uint32_t word = philox_block(s, counter, e / 4).word[e % 4];
    const bool keep = double(word) < double(keep_prob) * 4294967296.0;
    EXPECT_EQ(y[e], keep ? x[e] / keep_prob : 0.0f) << e;
  }
}

TEST(DropoutCpuTest, BackwardRegeneratesTheForwardMask) {
  const std::size_t n = 4099;
  const float keep_prob = 0.6f;
  const PhiloxStream s{123, 9};
  const std::uint64_t counter = 2;
  const std::vector<float> x = nonzero_inputs(n, 2), dy = nonzero_inputs(n, 3);
  std::vector<float> y(n), dx(n);
  cpu::dropout_forward(n, keep_prob, s, &counter, x.data(), y.data());
  cpu::dropout_backward(n, keep_prob, s, &counter, dy.data(), dx.data());
  for (std::size_t e = 0; e < n; ++e) EXPECT_EQ(dx[e], y[e] != 0 ? dy[e] / keep_prob : 0.0f) << e;
}

TEST(DropoutCpuTest, DifferentCountersDropDifferentElements) {
  const std::size_t n = 4096;
  const std::vector<float> x(n, 1.0f);
  const std::uint64_t step1 = 1, step2 = 2;
  std::vector<float> y1(n), y2(n);
  cpu::dropout_forward(n, 0.5f, PhiloxStream{1, 1}, &step1, x.data(), y1.data());
  cpu::dropout_forward(n, 0.5f, PhiloxStream{1, 1}, &step2, x.data(), y2.data());
  // Independent masks agree on about half the elements (standard deviation 32 of 4096).
  std::size_t same = 0;
  for (std::size_t e = 0; e < n; ++e) same += y1[e] == y2[e];
  EXPECT_NEAR(double(same), n / 2.0, 5 * 32.0);
}

TEST(DropoutCpuTest, KeepProbOneIsTheIdentity) {
  const std::size_t n = 777;
  const std::uint64_t counter = 0;
  const std::vector<float> x = test::random_uniform<float>(n, 4);
  std::vector<float> y(n), dx(n);
  cpu::dropout_forward(n, 1.0f, PhiloxStream{1, 2}, &counter, x.data(), y.data());
  cpu::dropout_backward(n, 1.0f, PhiloxStream{1, 2}, &counter, x.data(), dx.data());
  EXPECT_EQ(y, x);
  EXPECT_EQ(dx, x);
}

TEST(DropoutCpuTest, WorksInPlace) {
  const std::size_t n = 1001;
  const PhiloxStream s{6, 6};
  const std::uint64_t counter = 6;
  const std::vector<float> x = nonzero_inputs(n, 5);
  std::vector<float> y(n), dx(n), in_place = x;
  cpu::dropout_forward(n, 0.7f, s, &counter, x.data(), y.data());
  cpu::dropout_forward(n, 0.7f, s, &counter, in_place.data(), in_place.data());
  EXPECT_EQ(in_place, y);
  in_place = x;
  cpu::dropout_backward(n, 0.7f, s, &counter, x.data(), dx.data());
  cpu::dropout_backward(n, 0.7f, s, &counter, in_place.data(), in_place.data());
  EXPECT_EQ(in_place, dx);
}

TEST(DropoutCpuTest, DoubleUsesTheSameMaskAsFloat) {
  const std::size_t n = 513;
  const PhiloxStream s{8, 1};
  const std::uint64_t counter = 4;
  const std::vector<float> x = nonzero_inputs(n, 6);
  const std::vector<double> xd = test::convert<double>(x);
  std::vector<float> y(n);
  std::vector<double> yd(n);
  cpu::dropout_forward(n, 0.3f, s, &counter, x.data(), y.data());
  cpu::dropout_forward(n, 0.3f, s, &counter, xd.data(), yd.data());
  for (std::size_t e = 0; e < n; ++e) EXPECT_EQ(y[e] == 0, yd[e] == 0) << e;
}

TEST(DropoutCpuTest, RejectsKeepProbOutsideUnitInterval) {
  const std::uint64_t counter = 0;
  std::vector<float> x(4, 1.0f);
  for (const float keep_prob : {0.0f, -0.5f, 1.5f, std::nanf("")})
    EXPECT_THROW(
        cpu::dropout_forward(x.size(), keep_prob, PhiloxStream{}, &counter, x.data(), x.data()),
        std::invalid_argument)
        << keep_prob;
}

TEST(GaussianNoiseCpuTest, ForwardAddsSigmaTimesPhiloxNormal) {
  const std::size_t n = 1027;
  const float sigma = 0.3f;
  const PhiloxStream s{42, 3};
  const std::uint64_t counter = 10;
  const std::vector<float> x = test::random_uniform<float>(n, 7);
  std::vector<float> normals(n), y(n), in_place = x;
  cpu::philox_normal(n, s, &counter, 0.0f, 1.0f, normals.data());
  cpu::gaussian_noise_forward(n, sigma, s, &counter, x.data(), y.data());
  cpu::gaussian_noise_forward(n, sigma, s, &counter, in_place.data(), in_place.data());
  for (std::size_t e = 0; e < n; ++e) EXPECT_EQ(y[e], std::fma(sigma, normals[e], x[e])) << e;
  EXPECT_EQ(in_place, y);
}

// The added noise has standard deviation sigma: its sample variance over 2^20 elements is within
// 5 standard errors (sigma^2 sqrt(2 / n)).
TEST(GaussianNoiseCpuTest, NoiseHasStandardDeviationSigma) {
  const std::size_t n = std::size_t(1) << 20;
  const double sigma = 0.5;
  const std::uint64_t counter = 1;
  const std::vector<double> x(n, 3.0);
  std::vector<double> y(n);
  cpu::gaussian_noise_forward(n, float(sigma), PhiloxStream{9, 9}, &counter, x.data(), y.data());
  double mean = 0, var = 0;
  for (const double v : y) mean += (v - 3.0) / double(n);
  for (const double v : y) var += (v - 3.0 - mean) * (v - 3.0 - mean) / double(n);
  EXPECT_NEAR(mean, 0.0, 5 * sigma / std::sqrt(double(n)));
  EXPECT_NEAR(var, sigma * sigma, 5 * sigma * sigma * std::sqrt(2.0 / double(n)));
}

} // namespace
} // namespace sgan
