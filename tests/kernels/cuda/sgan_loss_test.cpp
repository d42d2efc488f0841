// The CUDA SGAN losses against the CPU reference run in double. The cross-entropy, each variant
// (kernels/cuda/sgan_loss_variants.h), runs on batches of 1, 3, 192 and 300 rows (a block of 256
// and a partial one for staged_rows) of mixed kinds, with explicit and fixed-zero fake logits,
// moderate and extreme (+-80, +-1000) logits, 31 real classes (staged_rows' widest row) and 37
// (more than a warp has lanes), and garbage labels on the rows that are not labeled; then both
// variants and the dispatch between them on either side of its threshold. Feature matching runs
// on the improved recipe's feature layer and on awkward sizes.
#include "kernels/cuda/sgan_loss_variants.h"
#include "kernels/sgan_loss.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace sgan {
namespace cuda {
// The variant's name in test names and failure messages.
void PrintTo(SganLossVariant variant, std::ostream* out) {
  *out << sgan_loss_variant_name(variant);
}
} // namespace cuda

namespace {

struct Batch {
  SganLossShape s;
  std::vector<float> logits;
  std::vector<SganRow> kind;
  std::vector<std::int32_t> label;
  std::vector<float> weight;
};

// Kinds drawn at random; every 7th row's logits pushed to +-80 or +-1000 (with ties among them).
Batch make_batch(int rows, int classes, bool fixed_zero, std::uint64_t seed) {
  Batch b{{rows, classes, fixed_zero},
          {},
          std::vector<SganRow>(rows),
          std::vector<std::int32_t>(rows),
          test::random_uniform<float>(rows, seed, 0.0, 2.0)};
  b.logits = test::random_uniform<float>(b.s.logits_size(), seed + 1, -8, 8);
  const std::vector<double> u = test::random_uniform<double>(rows, seed + 2, 0, 4);
  const std::vector<double> y = test::random_uniform<double>(rows, seed + 3, 0, classes);
  const float extremes[] = {80, -80, 1000, -1000};
  const int stride = b.s.row_stride();
  for (int r = 0; r < rows; ++r) {
    b.kind[r] = static_cast<SganRow>(int(u[r]));
    b.label[r] = b.kind[r] == SganRow::labeled ? std::int32_t(y[r]) : -12345;
    if (r % 7 == 3)
      for (int j = 0; j < stride; ++j)
        b.logits[std::size_t(r) * stride + j] = extremes[(r / 7 + j) % 4];
  }
  return b;
}

struct DeviceOutputs {
  std::vector<float> loss, dlogits;
  std::vector<std::int32_t> correct;
};

// The device's outputs for batch b from `variant`, or from the dispatch where it is empty.
DeviceOutputs run_cuda(std::optional<cuda::SganLossVariant> variant, const Batch& b) {
  test::DeviceBuffer<float> logits_dev(b.logits), weight_dev(b.weight);
  test::DeviceBuffer<SganRow> kind_dev(b.kind);
  test::DeviceBuffer<std::int32_t> label_dev(b.label), correct_dev(b.s.rows);
  test::DeviceBuffer<float> loss_dev(b.s.rows), dlogits_dev(b.s.logits_size());
  if (variant)
    cuda::sgan_softmax_xent_forward_backward(*variant, b.s, logits_dev.get(), kind_dev.get(),
                                             label_dev.get(), weight_dev.get(), loss_dev.get(),
                                             dlogits_dev.get(), correct_dev.get(), nullptr);
  else
    cuda::sgan_softmax_xent_forward_backward(b.s, logits_dev.get(), kind_dev.get(), label_dev.get(),
                                             weight_dev.get(), loss_dev.get(), dlogits_dev.get(),
                                             correct_dev.get(), nullptr);
  return {loss_dev.to_host(), dlogits_dev.to_host(), correct_dev.to_host()};
}

// Float expf/logf/log1pf are within 2 ulp; the largest losses (about 2000 at logits of +-1000)
// carry float's 1e-7 relative rounding, so losses are compared relative to their size.
// Gradients are O(weight) <= 2 and differences of O(1) terms: 2e-6 absolute.
void expect_matches_cpu(cuda::SganLossVariant variant, const Batch& b, const std::string& what) {
  const std::vector<double> logits = test::convert<double>(b.logits);
  const std::vector<double> weight = test::convert<double>(b.weight);
  std::vector<double> loss_ref(b.s.rows), dlogits_ref(b.s.logits_size());
  std::vector<std::int32_t> correct_ref(b.s.rows);
  cpu::sgan_softmax_xent_forward_backward(b.s, logits.data(), b.kind.data(), b.label.data(),
                                          weight.data(), loss_ref.data(), dlogits_ref.data(),
                                          correct_ref.data());

  const DeviceOutputs got = run_cuda(variant, b);
  for (int r = 0; r < b.s.rows; ++r)
    EXPECT_NEAR(got.loss[r], loss_ref[r], 1e-6 + 1e-6 * std::fabs(loss_ref[r]))
        << what << " row " << r << " kind " << int(b.kind[r]);
  EXPECT_TRUE(test::close(dlogits_ref, got.dlogits, 1e-5, 2e-6)) << what;
  EXPECT_EQ(correct_ref, got.correct) << what;
}

class SganLossCudaTest : public ::testing::TestWithParam<cuda::SganLossVariant> {};

TEST_P(SganLossCudaTest, MixedBatchesMatchCpu) {
  SGAN_REQUIRE_GPU();
  for (const bool fixed_zero : {false, true})
    for (const int classes : {10, 1, 31, 37})
      for (const int rows : {1, 3, 192, 300}) {
        const Batch b = make_batch(rows, classes, fixed_zero, rows * 131 + classes);
        expect_matches_cpu(GetParam(), b,
                           "rows " + std::to_string(rows) + " classes " + std::to_string(classes) +
                               " fixed_zero " + std::to_string(fixed_zero));
      }
}

TEST_P(SganLossCudaTest, OutOfRangeLabelGivesNaNAndNullCorrectIsAccepted) {
  SGAN_REQUIRE_GPU();
  Batch b = make_batch(3, 10, false, 9);
  b.kind = {SganRow::labeled, SganRow::labeled, SganRow::fake};
  b.label = {10, 4, -12345};
  test::DeviceBuffer<float> logits_dev(b.logits), weight_dev(b.weight);
  test::DeviceBuffer<SganRow> kind_dev(b.kind);
  test::DeviceBuffer<std::int32_t> label_dev(b.label);
  test::DeviceBuffer<float> loss_dev(3), dlogits_dev(b.s.logits_size());
  cuda::sgan_softmax_xent_forward_backward(GetParam(), b.s, logits_dev.get(), kind_dev.get(),
                                           label_dev.get(), weight_dev.get(), loss_dev.get(),
                                           dlogits_dev.get(), nullptr, nullptr);
  const std::vector<float> loss = loss_dev.to_host();
  const std::vector<float> dlogits = dlogits_dev.to_host();
  EXPECT_TRUE(std::isnan(loss[0]));
  for (int j = 0; j < 11; ++j) EXPECT_TRUE(std::isnan(dlogits[j])) << j;
  EXPECT_TRUE(std::isfinite(loss[1]));
  EXPECT_TRUE(std::isfinite(loss[2]));
  for (std::size_t j = 11; j < dlogits.size(); ++j) EXPECT_TRUE(std::isfinite(dlogits[j])) << j;
}

TEST_P(SganLossCudaTest, IsDeterministic) {
  SGAN_REQUIRE_GPU();
  const Batch b = make_batch(300, 10, true, 17);
  test::DeviceBuffer<float> logits_dev(b.logits), weight_dev(b.weight);
  test::DeviceBuffer<SganRow> kind_dev(b.kind);
  test::DeviceBuffer<std::int32_t> label_dev(b.label), c1(300), c2(300);
  test::DeviceBuffer<float> l1(300), l2(300), d1(b.s.logits_size()), d2(b.s.logits_size());
  cuda::sgan_softmax_xent_forward_backward(GetParam(), b.s, logits_dev.get(), kind_dev.get(),
                                           label_dev.get(), weight_dev.get(), l1.get(), d1.get(),
                                           c1.get(), nullptr);
  cuda::sgan_softmax_xent_forward_backward(GetParam(), b.s, logits_dev.get(), kind_dev.get(),
                                           label_dev.get(), weight_dev.get(), l2.get(), d2.get(),
                                           c2.get(), nullptr);
  EXPECT_EQ(l1.to_host(), l2.to_host());
  EXPECT_EQ(d1.to_host(), d2.to_host());
  EXPECT_EQ(c1.to_host(), c2.to_host());
}

// The dispatch runs warp_per_row below staged_rows_min_rows rows and staged_rows from there, so
// its outputs are that variant's, bit for bit; the two variants round differently on these
// batches (checked first), so the wrong choice fails. Each variant matches the CPU on both sides.
TEST(SganLossDispatchTest, RunsWarpPerRowBelowTheThresholdAndStagedRowsFromIt) {
  SGAN_REQUIRE_GPU();
  for (const int rows : {cuda::staged_rows_min_rows - 1, cuda::staged_rows_min_rows}) {
    const std::string what = "rows " + std::to_string(rows);
    const bool staged = rows >= cuda::staged_rows_min_rows;
    EXPECT_EQ(cuda::sgan_loss_variant_for({rows, 10, false}),
              staged ? cuda::SganLossVariant::staged_rows : cuda::SganLossVariant::warp_per_row)
        << what;
    const Batch b = make_batch(rows, 10, false, std::uint64_t(rows));
    for (const cuda::SganLossVariant v : cuda::sgan_loss_variants)
      expect_matches_cpu(v, b, what + " " + cuda::sgan_loss_variant_name(v));
    const DeviceOutputs warp = run_cuda(cuda::SganLossVariant::warp_per_row, b);
    const DeviceOutputs staged_rows = run_cuda(cuda::SganLossVariant::staged_rows, b);
    ASSERT_NE(warp.dlogits, staged_rows.dlogits) << what << ": the variants round alike here";
    const DeviceOutputs chosen = run_cuda(std::nullopt, b);
    const DeviceOutputs& expected = staged ? staged_rows : warp;
    EXPECT_EQ(chosen.dlogits, expected.dlogits) << what;
    EXPECT_EQ(chosen.loss, expected.loss) << what;
  }
}

// Real features in [0, 1) and fake in [-0.5, 1): column means differ by about 0.25, so the
// float sums of at most 100 rows (about 1e-7 relative each) leave the loss and gradient within
// 1e-5 relative.
TEST(FeatureMatchingCudaTest, MatchesCpu) {
  SGAN_REQUIRE_GPU();
  const FeatureMatchingShape shapes[] = {{100, 100, 250}, {64, 64, 6272},   {1, 1, 1},
                                         {3, 5, 37},      {100, 100, 1025}, {2, 3, 2048}};
  for (const FeatureMatchingShape& s : shapes) {
    const std::string what = std::to_string(s.real_rows) + "/" + std::to_string(s.fake_rows) +
                             " x " + std::to_string(s.features);
    const std::uint64_t seed = std::uint64_t(s.features) * 3 + s.real_rows;
    const std::vector<float> real =
        test::random_uniform<float>(std::size_t(s.real_rows) * s.features, seed, 0, 1);
    const std::vector<float> fake =
        test::random_uniform<float>(std::size_t(s.fake_rows) * s.features, seed + 1, -0.5, 1);
    const std::vector<double> real_d = test::convert<double>(real),
                              fake_d = test::convert<double>(fake);
    double loss_ref = 0;
    std::vector<double> d_fake_ref(fake.size());
    cpu::feature_matching_forward_backward(s, real_d.data(), fake_d.data(), &loss_ref,
                                           d_fake_ref.data());

    test::DeviceBuffer<float> real_dev(real), fake_dev(fake), loss_dev(1), d_fake_dev(fake.size());
    cuda::feature_matching_forward_backward(s, real_dev.get(), fake_dev.get(), loss_dev.get(),
                                            d_fake_dev.get(), nullptr);
    EXPECT_NEAR(loss_dev.to_host()[0], loss_ref, 1e-5 * loss_ref) << what;
    EXPECT_TRUE(test::close(d_fake_ref, d_fake_dev.to_host(), 1e-5,
                            1e-5 * test::largest_magnitude(d_fake_ref)))
        << what;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, SganLossCudaTest, ::testing::ValuesIn(cuda::sgan_loss_variants),
                         [](const ::testing::TestParamInfo<cuda::SganLossVariant>& variant) {
                           return std::string(cuda::sgan_loss_variant_name(variant.param));
                         });

} // namespace
} // namespace sgan
