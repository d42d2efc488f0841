// cuDNN's batchnorm twin against the CPU reference run in double: train forward (output, saved
// mean and inverse std, running statistics with momentum as cuDNN's exponentialAverageFactor),
// eval forward and backward, every epilogue, on the SGAN shapes and awkward ones.
#include "kernels/batchnorm.h"
#include "kernels/cudnn/handle.h"
#include "tests/support/activations.h"
#include "tests/support/batchnorm_checks.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <cstdint>
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

// cuDNN's kernels are its own (float accumulation possible), so the tolerances are 10x those of
// our CUDA kernels: relative 1e-5 on statistics (max_abs relative to the largest) and outputs.
constexpr double tolerance = 1e-5;

::testing::AssertionResult statistics_close(const std::vector<double>& ref,
                                            const std::vector<float>& got) {
  return test::close(ref, got, tolerance, tolerance * test::largest_magnitude(ref));
}

TEST(BatchNormCudnnTest, TrainForwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const BatchNormHyper hyper{0.1f, 1e-5f};
  std::uint64_t seed = 500;
  for (const BatchNormShape& s : all_shapes)
    for (const Activation& a : test::all_activations) {
      seed += 10;
      const std::vector<float> x = test::channel_inputs(s, seed, 2.0);
      const test::ChannelParams p = test::channel_params(s.c, seed + 5);
      test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta), y_dev(s.size());
      test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var);
      test::DeviceBuffer<float> sm_dev(s.c), si_dev(s.c);
      cudnn::batchnorm_forward_train(s, hyper, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                     y_dev.get(), rm_dev.get(), rv_dev.get(), sm_dev.get(),
                                     si_dev.get(), a, handle);

      const test::BatchNormTrainReference r = test::batchnorm_train_reference(s, hyper, x, p, a);
      const std::string what = test::name(s) + " " + activation_name(a.kind);
      EXPECT_TRUE(test::close(r.y, y_dev.to_host(), tolerance, 10 * tolerance)) << "y " << what;
      EXPECT_TRUE(statistics_close(r.saved_mean, sm_dev.to_host())) << "saved_mean " << what;
      EXPECT_TRUE(statistics_close(r.saved_invstd, si_dev.to_host())) << "saved_invstd " << what;
      EXPECT_TRUE(statistics_close(r.running_mean, rm_dev.to_host())) << "running_mean " << what;
      EXPECT_TRUE(statistics_close(r.running_var, rv_dev.to_host())) << "running_var " << what;
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
      const std::vector<float> x = test::channel_inputs(s, seed, 2.0);
      const test::ChannelParams p = test::channel_params(s.c, seed + 5);
      test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta), y_dev(s.size());
      test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var);
      cudnn::batchnorm_forward_eval(s, hyper, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                    rm_dev.get(), rv_dev.get(), y_dev.get(), a, handle);

      const std::vector<double> y = test::batchnorm_eval_reference(s, hyper, x, p, a);
      EXPECT_TRUE(test::close(y, y_dev.to_host(), tolerance, 10 * tolerance))
          << test::name(s) << " " << activation_name(a.kind);
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
    const test::BatchNormBackwardCheck c(s, seed);
    test::DeviceBuffer<float> x_dev(c.x), gamma_dev(c.p.gamma), beta_dev(c.p.beta), y_dev(s.size());
    test::DeviceBuffer<float> rm_dev(c.p.running_mean), rv_dev(c.p.running_var);
    test::DeviceBuffer<float> sm_dev(s.c), si_dev(s.c), dy_dev(c.dy), dx_dev(s.size());
    test::DeviceBuffer<float> dgamma_dev(c.dgamma_start), dbeta_dev(c.dbeta_start);
    cudnn::batchnorm_forward_train(s, hyper, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                   y_dev.get(), rm_dev.get(), rv_dev.get(), sm_dev.get(),
                                   si_dev.get(), Activation::identity(), handle);
    cudnn::batchnorm_backward(s, x_dev.get(), dy_dev.get(), gamma_dev.get(), sm_dev.get(),
                              si_dev.get(), dx_dev.get(), dgamma_dev.get(), dbeta_dev.get(),
                              handle);

    const auto ref = c.reference(s, sm_dev.to_host(), si_dev.to_host());
    EXPECT_TRUE(test::close(ref.dx, dx_dev.to_host(), tolerance, 2e-5 * ref.largest_gain))
        << "dx " << test::name(s);
    EXPECT_TRUE(test::close(ref.dgamma, dgamma_dev.to_host(), tolerance, 1e-3))
        << "dgamma " << test::name(s);
    EXPECT_TRUE(test::close(ref.dbeta, dbeta_dev.to_host(), tolerance, 1e-3))
        << "dbeta " << test::name(s);
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
