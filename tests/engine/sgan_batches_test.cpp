// How the trainer assembles its batches: which rows of D's concatenated batch are which kind with
// which loss weight (the formula in engine/sgan/batch_layout.h), and the order an epoch visits the
// data (engine/sgan/epoch_order.h).
#include "engine/sgan/batch_layout.h"
#include "engine/sgan/epoch_order.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

// L_D = (1/n_lab) sum_labeled + w ((1/n_unl) sum_unlabeled + (1/n_fake) sum_fake), rows in the
// order [labeled | unlabeled | fake].
TEST(BatchLayoutTest, DiscriminatorRowsAreLabeledThenUnlabeledThenFakeWithTheLossWeights) {
  const BatchLayout d = discriminator_layout(3, 4, 5, 0.5f);
  ASSERT_EQ(d.rows(), 12);
  ASSERT_EQ(d.weights.size(), 12u);
  for (int r = 0; r < 12; ++r) {
    const SganRow expected = r < 3 ? SganRow::labeled : r < 7 ? SganRow::unlabeled : SganRow::fake;
    const float weight = r < 3 ? 1.0f / 3 : r < 7 ? 0.5f / 4 : 0.5f / 5;
    EXPECT_EQ(d.kinds[std::size_t(r)], expected) << "row " << r;
    EXPECT_FLOAT_EQ(d.weights[std::size_t(r)], weight) << "row " << r;
  }
}

TEST(BatchLayoutTest, SupervisedOnlyBatchHasOnlyLabeledRows) {
  const BatchLayout d = discriminator_layout(6, 0, 0, 0.5f);
  ASSERT_EQ(d.rows(), 6);
  for (int r = 0; r < 6; ++r) {
    EXPECT_EQ(d.kinds[std::size_t(r)], SganRow::labeled);
    EXPECT_FLOAT_EQ(d.weights[std::size_t(r)], 1.0f / 6);
  }
}

TEST(BatchLayoutTest, GeneratorRowsAreGeneratorRowsWeightedByOneOverN) {
  const BatchLayout g = generator_layout(8);
  ASSERT_EQ(g.rows(), 8);
  for (int r = 0; r < 8; ++r) {
    EXPECT_EQ(g.kinds[std::size_t(r)], SganRow::generator);
    EXPECT_FLOAT_EQ(g.weights[std::size_t(r)], 1.0f / 8);
  }
}

struct Split {
  std::vector<std::int32_t> labeled, labels, unlabeled;
};

// 20 labeled images (image i has label i % 10) among 0..236, the rest unlabeled.
Split small_split() {
  Split s;
  for (std::int32_t i = 0; i < 237; ++i) {
    if (i % 12 == 0 && s.labeled.size() < 20) {
      s.labeled.push_back(i);
      s.labels.push_back(std::int32_t(s.labeled.size() - 1) % 10);
    } else {
      s.unlabeled.push_back(i);
    }
  }
  return s;
}

TEST(EpochOrderTest, AnEpochVisitsEachUnlabeledImageAtMostOnceAndFillsWholeBatches) {
  const Split s = small_split();
  const int batch = 8;
  const EpochOrder order = epoch_order(7, 0, batch, s.labeled, s.labels, s.unlabeled);
  const int iterations = iterations_per_epoch(s.unlabeled.size(), batch);
  EXPECT_EQ(iterations, int(s.unlabeled.size()) / batch);
  ASSERT_EQ(order.unlabeled.size(), std::size_t(iterations * batch));
  const std::set<std::int32_t> seen(order.unlabeled.begin(), order.unlabeled.end());
  EXPECT_EQ(seen.size(), order.unlabeled.size()) << "an unlabeled image repeats within the epoch";
  const std::set<std::int32_t> pool(s.unlabeled.begin(), s.unlabeled.end());
  for (std::int32_t i : order.unlabeled) EXPECT_TRUE(pool.count(i)) << i << " is not unlabeled";
}

// improved-gan's generator step matches features of a second permutation (trainx_unl2), not of
// the images D was just trained on.
TEST(EpochOrderTest, TheGeneratorStepReadsAnotherPermutationOfTheUnlabeledImages) {
  const Split s = small_split();
  const EpochOrder order = epoch_order(7, 1, 8, s.labeled, s.labels, s.unlabeled);
  ASSERT_EQ(order.generator_unlabeled.size(), order.unlabeled.size());
  const std::set<std::int32_t> seen(order.generator_unlabeled.begin(),
                                    order.generator_unlabeled.end());
  EXPECT_EQ(seen.size(), order.generator_unlabeled.size()) << "an image repeats within the epoch";
  const std::set<std::int32_t> pool(s.unlabeled.begin(), s.unlabeled.end());
  for (std::int32_t i : order.generator_unlabeled) EXPECT_TRUE(pool.count(i)) << i << " is not unlabeled";
  std::size_t same_position = 0;
  for (std::size_t p = 0; p < order.unlabeled.size(); ++p)
    same_position += order.unlabeled[p] == order.generator_unlabeled[p];
  // Two independent permutations of ~217 images agree in about one position.
  EXPECT_LT(same_position, order.unlabeled.size() / 10);
}

TEST(EpochOrderTest, LabeledImagesRepeatEvenlyAndKeepTheirLabels) {
  const Split s = small_split();
  const EpochOrder order = epoch_order(7, 3, 8, s.labeled, s.labels, s.unlabeled);
  ASSERT_EQ(order.labeled.size(), order.unlabeled.size());
  ASSERT_EQ(order.labeled_labels.size(), order.labeled.size());
  std::map<std::int32_t, std::int32_t> label_of;
  for (std::size_t i = 0; i < s.labeled.size(); ++i) label_of[s.labeled[i]] = s.labels[i];
  std::map<std::int32_t, int> uses;
  for (std::size_t p = 0; p < order.labeled.size(); ++p) {
    ASSERT_TRUE(label_of.count(order.labeled[p])) << order.labeled[p] << " is not labeled";
    EXPECT_EQ(order.labeled_labels[p], label_of[order.labeled[p]]) << "position " << p;
    ++uses[order.labeled[p]];
  }
  // Whole shuffled passes over the labeled set: use counts differ by at most one.
  const auto [least, most] = std::minmax_element(
      uses.begin(), uses.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  EXPECT_EQ(uses.size(), s.labeled.size());
  EXPECT_LE(most->second - least->second, 1);
}

TEST(EpochOrderTest, IsAFunctionOfSeedAndEpochOnly) {
  const Split s = small_split();
  const EpochOrder a = epoch_order(7, 2, 8, s.labeled, s.labels, s.unlabeled);
  const EpochOrder b = epoch_order(7, 2, 8, s.labeled, s.labels, s.unlabeled);
  EXPECT_EQ(a.unlabeled, b.unlabeled);
  EXPECT_EQ(a.generator_unlabeled, b.generator_unlabeled);
  EXPECT_EQ(a.labeled, b.labeled);
  EXPECT_NE(epoch_order(7, 3, 8, s.labeled, s.labels, s.unlabeled).unlabeled, a.unlabeled);
  EXPECT_NE(epoch_order(8, 2, 8, s.labeled, s.labels, s.unlabeled).unlabeled, a.unlabeled);
}

TEST(EpochOrderTest, RefusesLabeledImagesWithoutLabels) {
  const Split s = small_split();
  EXPECT_THROW(epoch_order(1, 0, 8, s.labeled, {}, s.unlabeled), std::invalid_argument);
  EXPECT_THROW(epoch_order(1, 0, 8, {}, {}, s.unlabeled), std::invalid_argument);
}

} // namespace
} // namespace sgan
