// cuDNN's batchnorm twin against the CPU reference run in double: train forward (output, saved
// mean and inverse std, running statistics with momentum as cuDNN's exponentialAverageFactor),
// eval forward and backward, every epilogue, on the SGAN shapes and awkward ones.
#include "kernels/batchnorm.h"
#include "kernels/cudnn/handle.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

// The SGAN shapes (article G's batchnorm2d, improved G's batchnorm1d) and awkward ones; training
// needs m = n * spatial >= 2 (see RejectsTrainingOnOneValuePerChannel).
const BatchNormShape all_shapes[] = {{64, 128, 7 * 7},  {64, 128, 14 * 14},  {64, 64, 28 * 28},
                                     {100, 128, 7 * 7}, {100, 128, 14 * 14}, {100, 64, 28 * 28},
                                     {100, 500, 1},     {64, 500, 1},        {3, 7, 1},
                                     {1, 5, 5 * 7},     {2, 3, 5},           {3, 7, 5 * 7},
                                     {3, 129, 7 * 7},   {300, 3, 28 * 28}};

std::string name(const BatchNormShape& s) {
  return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.spatial);
}

double largest_magnitude(const std::vector<double>& v) {
  double largest = 0;
  for (const double x : v) largest = std::max(largest, std::fabs(x));
  return largest;
}

// x of channel ch = offset_ch + spread_ch u, u uniform in [-1, 1).
std::vector<float> channel_inputs(const BatchNormShape& s, std::uint64_t seed) {
  const std::vector<double> offsets = test::random_uniform<double>(s.c, seed, -2.0, 2.0);
  const std::vector<double> spreads = test::random_uniform<double>(s.c, seed + 1, 0.5, 2.0);
  const std::vector<double> u = test::random_uniform<double>(s.size(), seed + 2);
  std::vector<float> x(s.size());
  for (std::size_t e = 0; e < x.size(); ++e) {
    const std::size_t ch = (e / s.spatial) % s.c;
    x[e] = float(offsets[ch] + spreads[ch] * u[e]);
  }
  return x;
}

struct ChannelParams {
  std::vector<float> gamma, beta, running_mean, running_var;
};

ChannelParams channel_params(int c, std::uint64_t seed) {
  return {test::random_uniform<float>(c, seed, 0.5, 1.5), test::random_uniform<float>(c, seed + 1),
          test::random_uniform<float>(c, seed + 2),
          test::random_uniform<float>(c, seed + 3, 0.5, 2)};
}

// cuDNN's kernels are its own (float accumulation possible), so the tolerances are 10x those of
// our CUDA kernels: relative 1e-5 on statistics (max_abs relative to the largest) and outputs.
constexpr double tolerance = 1e-5;

TEST(BatchNormCudnnTest, TrainForwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const BatchNormHyper hyper{0.1f, 1e-5f};
  std::uint64_t seed = 500;
  for (const BatchNormShape& s : all_shapes)
    for (const Activation& a : test::all_activations) {
      seed += 10;
      const std::vector<float> x = channel_inputs(s, seed);
      const ChannelParams p = channel_params(s.c, seed + 5);
      test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta), y_dev(s.size());
      test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var);
      test::DeviceBuffer<float> sm_dev(s.c), si_dev(s.c);
      cudnn::batchnorm_forward_train(s, hyper, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                     y_dev.get(), rm_dev.get(), rv_dev.get(), sm_dev.get(),
                                     si_dev.get(), a, handle);

      const std::vector<double> x_d = test::convert<double>(x);
      const std::vector<double> gamma = test::convert<double>(p.gamma);
      const std::vector<double> beta = test::convert<double>(p.beta);
      std::vector<double> y(s.size()), rm = test::convert<double>(p.running_mean);
      std::vector<double> rv = test::convert<double>(p.running_var), sm(s.c), si(s.c);
      cpu::batchnorm_forward_train(s, hyper, x_d.data(), gamma.data(), beta.data(), y.data(),
                                   rm.data(), rv.data(), sm.data(), si.data(), a);

      const std::string what = name(s) + " " + activation_name(a.kind);
      EXPECT_TRUE(test::close(y, y_dev.to_host(), tolerance, 10 * tolerance)) << "y " << what;
      EXPECT_TRUE(test::close(sm, sm_dev.to_host(), tolerance, tolerance * largest_magnitude(sm)))
          << "saved_mean " << what;
      EXPECT_TRUE(test::close(si, si_dev.to_host(), tolerance, tolerance * largest_magnitude(si)))
          << "saved_invstd " << what;
      EXPECT_TRUE(test::close(rm, rm_dev.to_host(), tolerance, tolerance * largest_magnitude(rm)))
          << "running_mean " << what;
      EXPECT_TRUE(test::close(rv, rv_dev.to_host(), tolerance, tolerance * largest_magnitude(rv)))
          << "running_var " << what;
    }
}

TEST(BatchNormCudnnTest, EvalForwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const BatchNormHyper hyper{0.1f, 1e-3f};
  std::uint64_t seed = 1500;
  for (const BatchNormShape& s : all_shapes)
    for (const Activation& a : test::all_activations) {
      seed += 10;
      const std::vector<float> x = channel_inputs(s, seed);
      const ChannelParams p = channel_params(s.c, seed + 5);
      test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta), y_dev(s.size());
      test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var);
      cudnn::batchnorm_forward_eval(s, hyper, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                    rm_dev.get(), rv_dev.get(), y_dev.get(), a, handle);

      const std::vector<double> x_d = test::convert<double>(x);
      const std::vector<double> gamma = test::convert<double>(p.gamma);
      const std::vector<double> beta = test::convert<double>(p.beta);
      const std::vector<double> rm = test::convert<double>(p.running_mean);
      const std::vector<double> rv = test::convert<double>(p.running_var);
      std::vector<double> y(s.size());
      cpu::batchnorm_forward_eval(s, hyper, x_d.data(), gamma.data(), beta.data(), rm.data(),
                                  rv.data(), y.data(), a);
      EXPECT_TRUE(test::close(y, y_dev.to_host(), tolerance, 10 * tolerance))
          << name(s) << " " << activation_name(a.kind);
    }
}

// Fed the twin's own saved statistics; dgamma and dbeta accumulate onto random starting values.
// dx's max_abs scales with the largest gain gamma invstd; dgamma and dbeta are sums of up to
// 235200 O(1) terms (magnitude up to ~1e3).
TEST(BatchNormCudnnTest, BackwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const BatchNormHyper hyper;
  std::uint64_t seed = 2500;
  for (const BatchNormShape& s : all_shapes) {
    seed += 10;
    const std::vector<float> x = channel_inputs(s, seed);
    const std::vector<float> dy = test::random_uniform<float>(s.size(), seed + 3);
    const ChannelParams p = channel_params(s.c, seed + 5);
    const std::vector<float> dgamma_start = test::random_uniform<float>(s.c, seed + 6);
    const std::vector<float> dbeta_start = test::random_uniform<float>(s.c, seed + 7);

    test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta), y_dev(s.size());
    test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var);
    test::DeviceBuffer<float> sm_dev(s.c), si_dev(s.c), dy_dev(dy), dx_dev(s.size());
    test::DeviceBuffer<float> dgamma_dev(dgamma_start), dbeta_dev(dbeta_start);
    cudnn::batchnorm_forward_train(s, hyper, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                   y_dev.get(), rm_dev.get(), rv_dev.get(), sm_dev.get(),
                                   si_dev.get(), Activation::identity(), handle);
    cudnn::batchnorm_backward(s, x_dev.get(), dy_dev.get(), gamma_dev.get(), sm_dev.get(),
                              si_dev.get(), dx_dev.get(), dgamma_dev.get(), dbeta_dev.get(),
                              handle);

    const std::vector<double> x_d = test::convert<double>(x), dy_d = test::convert<double>(dy);
    const std::vector<double> gamma = test::convert<double>(p.gamma);
    const std::vector<double> sm = test::convert<double>(sm_dev.to_host());
    const std::vector<double> si = test::convert<double>(si_dev.to_host());
    std::vector<double> dx(s.size()), dgamma = test::convert<double>(dgamma_start);
    std::vector<double> dbeta = test::convert<double>(dbeta_start);
    cpu::batchnorm_backward(s, x_d.data(), dy_d.data(), gamma.data(), sm.data(), si.data(),
                            dx.data(), dgamma.data(), dbeta.data());
    double largest_gain = 1;
    for (int ch = 0; ch < s.c; ++ch) largest_gain = std::max(largest_gain, gamma[ch] * si[ch]);
    EXPECT_TRUE(test::close(dx, dx_dev.to_host(), tolerance, 2e-5 * largest_gain))
        << "dx " << name(s);
    EXPECT_TRUE(test::close(dgamma, dgamma_dev.to_host(), tolerance, 1e-3)) << "dgamma " << name(s);
    EXPECT_TRUE(test::close(dbeta, dbeta_dev.to_host(), tolerance, 1e-3)) << "dbeta " << name(s);
  }
}

// With one value per channel there is no unbiased variance; the twin refuses rather than guess
// what cuDNN does to the running variance.
TEST(BatchNormCudnnTest, RejectsTrainingOnOneValuePerChannel) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const BatchNormShape s{1, 3, 1};
  test::DeviceBuffer<float> buffer(3);
  EXPECT_THROW(cudnn::batchnorm_forward_train(s, BatchNormHyper{}, buffer.get(), buffer.get(),
                                              buffer.get(), buffer.get(), buffer.get(),
                                              buffer.get(), buffer.get(), buffer.get(),
                                              Activation::identity(), handle),
               std::invalid_argument);
}

} // namespace
} // namespace sgan
