// The CUDA batchnorm, each variant (kernels/cuda/batchnorm_variants.h), against the CPU reference
// run in double: train forward (output, saved and running statistics), eval forward and backward,
// every epilogue, on the SGAN shapes (BatchNorm2d in the article's G, BatchNorm1d in the improved
// G) and awkward ones (one value per channel, odd channel counts, 5 x 7 maps, 300 x 28 x 28 values
// per channel: 58 splits of a channel, none a whole number of images; 700 rows of 33 channels: 6
// splits, a last group of 32 channels with one). Outputs start NaN-poisoned. Then the dispatch
// between the variants on either side of its thresholds.
#include "kernels/batchnorm.h"
#include "kernels/cuda/batchnorm_variants.h"
#include "kernels/cuda/graph_nodes.h"
#include "tests/support/activations.h"
#include "tests/support/batchnorm_checks.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <cstdint>
#include <functional>
#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <vector>

namespace sgan {
namespace cuda {
// The variant's name in test names and failure messages.
void PrintTo(BatchNormVariant variant, std::ostream* out) {
  *out << batchnorm_variant_name(variant);
}
} // namespace cuda

namespace {

const BatchNormShape all_shapes[] = {
    // The article's G: batchnorm2d(128, 7x7), (128, 14x14), (64, 28x28) at batch 64 and 100.
    {64, 128, 7 * 7},
    {64, 128, 14 * 14},
    {64, 64, 28 * 28},
    {100, 128, 7 * 7},
    {100, 128, 14 * 14},
    {100, 64, 28 * 28},
    // The improved G: batchnorm1d(500) at batch 100 and 64.
    {100, 500, 1},
    {64, 500, 1},
    // Awkward: one value per channel, odd counts, non-square maps, many values per channel.
    {1, 3, 1},
    {3, 7, 1},
    {1, 5, 5 * 7},
    {2, 3, 5},
    {3, 7, 5 * 7},
    {3, 129, 7 * 7},
    {300, 3, 28 * 28},
    {700, 33, 1}};

struct TrainOutputs {
  std::vector<float> y, running_mean, running_var, saved_mean, saved_invstd;
};

TrainOutputs cuda_forward_train(cuda::BatchNormVariant variant, const BatchNormShape& s,
                                const BatchNormHyper& hyper, const std::vector<float>& x,
                                const test::ChannelParams& p, const Activation& epilogue) {
  test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta), y_dev(s.size());
  test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var), sm_dev(s.c), si_dev(s.c);
  cuda::batchnorm_forward_train(variant, s, hyper, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                y_dev.get(), rm_dev.get(), rv_dev.get(), sm_dev.get(), si_dev.get(),
                                epilogue, nullptr);
  return {y_dev.to_host(), rm_dev.to_host(), rv_dev.to_host(), sm_dev.to_host(), si_dev.to_host()};
}

// Tolerances: statistics are summed in double on the device and rounded once to float (relative
// 6e-8; max_abs is taken relative to the largest statistic, since invstd reaches 1 / sqrt(eps)
// with one value per channel and means reach 1000 below); y is (x - mean) invstd gamma in double
// rounded to float, plus beta and the activation in float: a few ulps of values below 10.
constexpr double statistics_tolerance = 1e-6;
constexpr double output_rel_l2 = 2e-6, output_max_abs = 1e-5;

::testing::AssertionResult statistics_close(const std::vector<double>& ref,
                                            const std::vector<float>& got) {
  return test::close(ref, got, statistics_tolerance,
                     statistics_tolerance * test::largest_magnitude(ref));
}

void expect_train_matches_cpu(cuda::BatchNormVariant variant, const BatchNormShape& s,
                              const BatchNormHyper& hyper, const std::vector<float>& x,
                              const test::ChannelParams& p, const Activation& a) {
  const TrainOutputs got = cuda_forward_train(variant, s, hyper, x, p, a);
  const test::BatchNormTrainReference ref = test::batchnorm_train_reference(s, hyper, x, p, a);
  const std::string what = test::name(s) + " " + activation_name(a.kind);
  EXPECT_TRUE(test::close(ref.y, got.y, output_rel_l2, output_max_abs)) << "y " << what;
  EXPECT_TRUE(statistics_close(ref.saved_mean, got.saved_mean)) << "saved_mean " << what;
  EXPECT_TRUE(statistics_close(ref.saved_invstd, got.saved_invstd)) << "saved_invstd " << what;
  EXPECT_TRUE(statistics_close(ref.running_mean, got.running_mean)) << "running_mean " << what;
  EXPECT_TRUE(statistics_close(ref.running_var, got.running_var)) << "running_var " << what;
}

class BatchNormCudaTest : public ::testing::TestWithParam<cuda::BatchNormVariant> {};

TEST_P(BatchNormCudaTest, TrainForwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  const BatchNormHyper hyper{0.1f, 1e-5f};
  std::uint64_t seed = 100;
  for (const BatchNormShape& s : all_shapes)
    for (const Activation& a : test::all_activations) {
      seed += 10;
      expect_train_matches_cpu(GetParam(), s, hyper, test::channel_inputs(s, seed, 3.0),
                               test::channel_params(s.c, seed + 5), a);
    }
}

// Means near 1000 with spreads near 1: E[x^2] - E[x]^2 in float would lose every digit of the
// variance (mean^2 / var ~ 1e6 > 1 / float epsilon); the device's statistics must not.
TEST_P(BatchNormCudaTest, TrainForwardIsAccurateFarFromZeroMean) {
  SGAN_REQUIRE_GPU();
  const BatchNormHyper hyper{0.01f, 1e-3f};
  for (const BatchNormShape& s : {BatchNormShape{64, 64, 28 * 28}, BatchNormShape{100, 500, 1},
                                  BatchNormShape{3, 7, 5 * 7}}) {
    std::vector<float> x = test::channel_inputs(s, 7, 1.0);
    for (float& v : x) v += 1000.0f;
    expect_train_matches_cpu(GetParam(), s, hyper, x, test::channel_params(s.c, 8),
                             Activation::identity());
  }
}

TEST_P(BatchNormCudaTest, EvalForwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  const BatchNormHyper hyper{0.1f, 1e-3f};
  std::uint64_t seed = 2000;
  for (const BatchNormShape& s : all_shapes)
    for (const Activation& a : test::all_activations) {
      seed += 10;
      const std::vector<float> x = test::channel_inputs(s, seed, 1.0);
      const test::ChannelParams p = test::channel_params(s.c, seed + 5);
      test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta), y_dev(s.size());
      test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var);
      cuda::batchnorm_forward_eval(GetParam(), s, hyper, x_dev.get(), gamma_dev.get(),
                                   beta_dev.get(), rm_dev.get(), rv_dev.get(), y_dev.get(), a,
                                   nullptr);

      const std::vector<double> y_ref = test::batchnorm_eval_reference(s, hyper, x, p, a);
      EXPECT_TRUE(test::close(y_ref, y_dev.to_host(), output_rel_l2, output_max_abs))
          << test::name(s) << " " << activation_name(a.kind);
    }
}

// The backward pass is fed the device's own saved statistics (BatchNormBackwardCheck); dgamma and
// dbeta accumulate onto random starting values. Tolerances: the sums are in double; dx is gamma
// invstd (dy - mean dy - xhat mean(dy xhat)) in float, a few ulps of O(1) terms times gamma invstd
// (max_abs scales with the largest gain; with one value per channel invstd is 1 / sqrt(eps) and dx
// is exactly 0); dgamma, dbeta are sums of up to 235200 O(1) terms (magnitude up to ~1e3) rounded
// once to float. Batches of m = 2 are left out: there dx is pure cancellation, O(eps / (x1 - x2)^2)
// of its terms, and has no relative accuracy to test.
TEST_P(BatchNormCudaTest, BackwardMatchesCpu) {
  SGAN_REQUIRE_GPU();
  const BatchNormHyper hyper;
  std::uint64_t seed = 3000;
  for (const BatchNormShape& s : all_shapes) {
    seed += 10;
    const test::BatchNormBackwardCheck c(s, seed);
    const TrainOutputs forward =
        cuda_forward_train(GetParam(), s, hyper, c.x, c.p, Activation::identity());

    test::DeviceBuffer<float> x_dev(c.x), dy_dev(c.dy), gamma_dev(c.p.gamma), dx_dev(s.size());
    test::DeviceBuffer<float> sm_dev(forward.saved_mean), si_dev(forward.saved_invstd);
    test::DeviceBuffer<float> dgamma_dev(c.dgamma_start), dbeta_dev(c.dbeta_start);
    cuda::batchnorm_backward(GetParam(), s, x_dev.get(), dy_dev.get(), gamma_dev.get(),
                             sm_dev.get(), si_dev.get(), dx_dev.get(), dgamma_dev.get(),
                             dbeta_dev.get(), nullptr);

    const auto ref = c.reference(s, forward.saved_mean, forward.saved_invstd);
    EXPECT_TRUE(test::close(ref.dx, dx_dev.to_host(), 2e-6, 4e-6 * ref.largest_gain))
        << "dx " << test::name(s);
    EXPECT_TRUE(test::close(ref.dgamma, dgamma_dev.to_host(), 1e-6, 1e-4))
        << "dgamma " << test::name(s);
    EXPECT_TRUE(test::close(ref.dbeta, dbeta_dev.to_host(), 1e-6, 1e-4))
        << "dbeta " << test::name(s);
  }
}

// Fixed-order reductions: two runs give the same bits.
TEST_P(BatchNormCudaTest, RepeatedRunsAreBitwiseIdentical) {
  SGAN_REQUIRE_GPU();
  for (const BatchNormShape& s : {BatchNormShape{100, 64, 28 * 28}, BatchNormShape{700, 33, 1}}) {
    const std::vector<float> x = test::channel_inputs(s, 4000, 1.0);
    const std::vector<float> dy = test::random_uniform<float>(s.size(), 4001);
    const test::ChannelParams p = test::channel_params(s.c, 4002);
    test::DeviceBuffer<float> x_dev(x), dy_dev(dy), gamma_dev(p.gamma), beta_dev(p.beta);
    std::vector<std::vector<float>> runs;
    for (int run = 0; run < 2; ++run) {
      test::DeviceBuffer<float> y_dev(s.size()), rm_dev(p.running_mean), rv_dev(p.running_var);
      test::DeviceBuffer<float> sm_dev(s.c), si_dev(s.c), dx_dev(s.size());
      test::DeviceBuffer<float> dgamma_dev(std::vector<float>(s.c, 0.0f));
      test::DeviceBuffer<float> dbeta_dev(std::vector<float>(s.c, 0.0f));
      cuda::batchnorm_forward_train(GetParam(), s, BatchNormHyper{}, x_dev.get(), gamma_dev.get(),
                                    beta_dev.get(), y_dev.get(), rm_dev.get(), rv_dev.get(),
                                    sm_dev.get(), si_dev.get(), Activation::relu(), nullptr);
      cuda::batchnorm_backward(GetParam(), s, x_dev.get(), dy_dev.get(), gamma_dev.get(),
                               sm_dev.get(), si_dev.get(), dx_dev.get(), dgamma_dev.get(),
                               dbeta_dev.get(), nullptr);
      for (const auto* buffer : {&y_dev, &rv_dev, &si_dev, &dx_dev, &dgamma_dev, &dbeta_dev})
        runs.push_back(buffer->to_host());
    }
    const std::size_t half = runs.size() / 2;
    for (std::size_t k = 0; k < half; ++k)
      EXPECT_TRUE(test::bitwise_equal(runs[k], runs[half + k])) << test::name(s) << " " << k;
  }
}

// The kernel launches `work` makes on a stream, read from a graph captured of it:
// one_block_per_channel's train forward and backward are one launch, split_channels' two.
std::size_t kernel_launches(const std::function<void(cudaStream_t)>& work) {
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  work(stream);
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  const std::size_t kernels = cuda::graph_nodes(graph).kernels;
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return kernels;
}

// The variant a dispatch with this threshold must choose for s: split_channels from `threshold`
// values per channel, one_block_per_channel below.
cuda::BatchNormVariant variant_by_threshold(const BatchNormShape& s, std::int64_t threshold) {
  return cuda::values_per_channel(s) >= threshold ? cuda::BatchNormVariant::split_channels
                                                  : cuda::BatchNormVariant::one_block_per_channel;
}

// Train forward and backward run one_block_per_channel below split_channels_min_values_train
// values per channel and split_channels from there, each shape in both layouts: the dispatch
// makes that variant's launches (one, or two) and its outputs are that variant's, bit for bit.
TEST(BatchNormDispatchTest, TrainRunsSplitChannelsFromItsThreshold) {
  SGAN_REQUIRE_GPU();
  constexpr std::int64_t threshold = cuda::split_channels_min_values_train;
  static_assert(threshold == 32768, "the shapes below straddle 2^15 values per channel");
  for (const BatchNormShape& s : {BatchNormShape{7, 3, 4681}, BatchNormShape{8, 3, 4096},
                                  BatchNormShape{32767, 3, 1}, BatchNormShape{32768, 3, 1}}) {
    const cuda::BatchNormVariant expected = variant_by_threshold(s, threshold);
    const bool split = expected == cuda::BatchNormVariant::split_channels;
    EXPECT_EQ(cuda::batchnorm_train_variant_for(s), expected) << test::name(s);
    const std::vector<float> x = test::channel_inputs(s, 5000, 1.0);
    const std::vector<float> dy = test::random_uniform<float>(s.size(), 5001);
    const test::ChannelParams p = test::channel_params(s.c, 5002);
    test::DeviceBuffer<float> x_dev(x), dy_dev(dy), gamma_dev(p.gamma), beta_dev(p.beta);
    test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var), y_dev(s.size());
    test::DeviceBuffer<float> sm_dev(s.c), si_dev(s.c), dx_dev(s.size());
    test::DeviceBuffer<float> dgamma_dev(std::vector<float>(s.c, 0.0f));
    test::DeviceBuffer<float> dbeta_dev(std::vector<float>(s.c, 0.0f));
    const auto forward = [&](cudaStream_t stream) {
      cuda::batchnorm_forward_train(s, BatchNormHyper{}, x_dev.get(), gamma_dev.get(),
                                    beta_dev.get(), y_dev.get(), rm_dev.get(), rv_dev.get(),
                                    sm_dev.get(), si_dev.get(), Activation::identity(), stream);
    };
    const auto backward = [&](cudaStream_t stream) {
      cuda::batchnorm_backward(s, x_dev.get(), dy_dev.get(), gamma_dev.get(), sm_dev.get(),
                               si_dev.get(), dx_dev.get(), dgamma_dev.get(), dbeta_dev.get(),
                               stream);
    };
    const std::size_t launches = split ? 2 : 1;
    EXPECT_EQ(kernel_launches(forward), launches) << "train forward " << test::name(s);
    EXPECT_EQ(kernel_launches(backward), launches) << "backward " << test::name(s);

    const TrainOutputs want =
        cuda_forward_train(expected, s, BatchNormHyper{}, x, p, Activation::identity());
    forward(nullptr);
    EXPECT_TRUE(test::bitwise_equal(want.y, y_dev.to_host())) << "y " << test::name(s);
    EXPECT_TRUE(test::bitwise_equal(want.saved_invstd, si_dev.to_host()))
        << "invstd " << test::name(s);
    test::DeviceBuffer<float> sm_want(want.saved_mean), si_want(want.saved_invstd);
    test::DeviceBuffer<float> dx_want(s.size()), dgamma_want(std::vector<float>(s.c, 0.0f));
    test::DeviceBuffer<float> dbeta_want(std::vector<float>(s.c, 0.0f));
    cuda::batchnorm_backward(expected, s, x_dev.get(), dy_dev.get(), gamma_dev.get(), sm_want.get(),
                             si_want.get(), dx_want.get(), dgamma_want.get(), dbeta_want.get(),
                             nullptr);
    backward(nullptr);
    EXPECT_TRUE(test::bitwise_equal(dx_want.to_host(), dx_dev.to_host())) << "dx " << test::name(s);
    EXPECT_TRUE(test::bitwise_equal(dgamma_want.to_host(), dgamma_dev.to_host())) << test::name(s);
  }
}

// Eval runs split_channels from split_channels_min_values_eval values per channel. Both variants
// compute each element with the same float formula, so the outputs tell nothing apart: the
// choice is batchnorm_eval_variant_for's, and the dispatch equals both variants bit for bit.
TEST(BatchNormDispatchTest, EvalRunsSplitChannelsFromItsThreshold) {
  SGAN_REQUIRE_GPU();
  constexpr std::int64_t threshold = cuda::split_channels_min_values_eval;
  static_assert(threshold == 8192, "the shapes below straddle 2^13 values per channel");
  for (const BatchNormShape& s : {BatchNormShape{1, 3, 8191}, BatchNormShape{2, 3, 4096},
                                  BatchNormShape{8191, 3, 1}, BatchNormShape{8192, 3, 1}}) {
    EXPECT_EQ(cuda::batchnorm_eval_variant_for(s), variant_by_threshold(s, threshold))
        << test::name(s);
    const std::vector<float> x = test::channel_inputs(s, 6000, 1.0);
    const test::ChannelParams p = test::channel_params(s.c, 6001);
    test::DeviceBuffer<float> x_dev(x), gamma_dev(p.gamma), beta_dev(p.beta);
    test::DeviceBuffer<float> rm_dev(p.running_mean), rv_dev(p.running_var), y_dev(s.size());
    cuda::batchnorm_forward_eval(s, BatchNormHyper{}, x_dev.get(), gamma_dev.get(), beta_dev.get(),
                                 rm_dev.get(), rv_dev.get(), y_dev.get(), Activation::relu(),
                                 nullptr);
    for (const cuda::BatchNormVariant v : cuda::batchnorm_variants) {
      test::DeviceBuffer<float> y_variant(s.size());
      cuda::batchnorm_forward_eval(v, s, BatchNormHyper{}, x_dev.get(), gamma_dev.get(),
                                   beta_dev.get(), rm_dev.get(), rv_dev.get(), y_variant.get(),
                                   Activation::relu(), nullptr);
      EXPECT_TRUE(test::bitwise_equal(y_variant.to_host(), y_dev.to_host()))
          << test::name(s) << " " << cuda::batchnorm_variant_name(v);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, BatchNormCudaTest, ::testing::ValuesIn(cuda::batchnorm_variants),
                         [](const ::testing::TestParamInfo<cuda::BatchNormVariant>& variant) {
                           return std::string(cuda::batchnorm_variant_name(variant.param));
                         });

} // namespace
} // namespace sgan
