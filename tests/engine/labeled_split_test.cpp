// The class-balanced labeled split of SGAN.md's protocol: N/K images of each class, chosen by the
// seed; the rest unlabeled, with no way for the trainer to read their labels.
#include "engine/data/labeled_split.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace sgan {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using Indices = std::vector<std::int32_t>;

// 1000 images with labels drawn uniformly from 10 classes (each class gets about 100; at least
// 60 for this seed, checked below).
Bytes random_labels(std::size_t count = 1000) {
  std::mt19937 rng(7);
  Bytes labels(count);
  for (std::uint8_t& label : labels) label = static_cast<std::uint8_t>(rng() % 10);
  return labels;
}

std::array<int, 10> histogram(const Bytes& labels) {
  std::array<int, 10> counts{};
  for (const std::uint8_t label : labels) ++counts.at(label);
  return counts;
}

std::string split_error(const Bytes& labels, int labels_total) {
  try {
    split_labeled(labels, 10, labels_total, 1);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  ADD_FAILURE() << "split_labeled with " << labels_total << " labels did not throw";
  return {};
}

#define EXPECT_CONTAINS(text, part)                                                                \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << text

TEST(LabeledSplit, TestLabelsHaveEnoughOfEachClass) {
  for (const int count : histogram(random_labels())) EXPECT_GE(count, 60);
}

TEST(LabeledSplit, EachClassGetsAnEqualShareWithItsTrueLabels) {
  const Bytes labels = random_labels();
  for (const int total : {10, 100, 500}) {
    const LabeledSplit split = split_labeled(labels, 10, total, 42);
    ASSERT_EQ(split.labeled.indices.size(), static_cast<std::size_t>(total));
    ASSERT_EQ(split.labeled.labels.size(), static_cast<std::size_t>(total));
    for (std::size_t i = 0; i < split.labeled.indices.size(); ++i)
      EXPECT_EQ(split.labeled.labels[i], labels[split.labeled.indices[i]]);
    for (const int count : histogram(split.labeled.labels)) EXPECT_EQ(count, total / 10);
  }
}

TEST(LabeledSplit, LabeledAndUnlabeledAreSortedDisjointAndCoverEveryImage) {
  const Bytes labels = random_labels();
  const LabeledSplit split = split_labeled(labels, 10, 100, 3);
  const Indices& labeled = split.labeled.indices;
  const Indices& unlabeled = split.unlabeled.indices;
  EXPECT_TRUE(std::is_sorted(labeled.begin(), labeled.end()));
  EXPECT_TRUE(std::is_sorted(unlabeled.begin(), unlabeled.end()));
  EXPECT_EQ(labeled.size() + unlabeled.size(), labels.size());
  std::vector<int> seen(labels.size(), 0);
  for (const std::int32_t i : labeled) ++seen.at(static_cast<std::size_t>(i));
  for (const std::int32_t i : unlabeled) ++seen.at(static_cast<std::size_t>(i));
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << "image " << i;
}

TEST(LabeledSplit, WholeBalancedSetCanBeLabeled) {
  Bytes labels(50);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  const LabeledSplit split = split_labeled(labels, 10, 50, 9);
  EXPECT_EQ(split.labeled.labels, labels);
  EXPECT_TRUE(split.unlabeled.indices.empty());
}

TEST(LabeledSplit, SameSeedGivesSameSplit) {
  const Bytes labels = random_labels();
  const LabeledSplit a = split_labeled(labels, 10, 100, 1234);
  const LabeledSplit b = split_labeled(labels, 10, 100, 1234);
  EXPECT_EQ(a.labeled.indices, b.labeled.indices);
  EXPECT_EQ(a.unlabeled.indices, b.unlabeled.indices);
}

TEST(LabeledSplit, DifferentSeedsGiveDifferentSplits) {
  const Bytes labels = random_labels();
  std::vector<Indices> chosen;
  for (std::uint64_t seed = 0; seed < 5; ++seed)
    chosen.push_back(split_labeled(labels, 10, 100, seed).labeled.indices);
  for (std::size_t a = 0; a < chosen.size(); ++a)
    for (std::size_t b = a + 1; b < chosen.size(); ++b)
      EXPECT_NE(chosen[a], chosen[b]) << "seeds " << a << " and " << b;
}

// The documented procedure, written out again from the header's comment: class pools in
// ascending index order; one std::mt19937_64(seed) over classes 0..K-1; a partial Fisher-Yates
// shuffle with draws by rejection of outputs below 2^64 mod n. A run's labeled set is recorded by
// its seed, so a change to the procedure (another distribution, another class order) must show.
Indices documented_choice(const Bytes& labels, int num_classes, int total, std::uint64_t seed) {
  std::vector<Indices> pools(static_cast<std::size_t>(num_classes));
  for (std::size_t i = 0; i < labels.size(); ++i)
    pools[labels[i]].push_back(static_cast<std::int32_t>(i));
  std::mt19937_64 rng(seed);
  Indices chosen;
  for (Indices& pool : pools)
    for (std::size_t i = 0; i < static_cast<std::size_t>(total / num_classes); ++i) {
      const std::uint64_t n = pool.size() - i;
      std::uint64_t r = rng();
      while (r < (std::uint64_t{0} - n) % n) r = rng();
      std::swap(pool[i], pool[i + r % n]);
      chosen.push_back(pool[i]);
    }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

TEST(LabeledSplit, ChoiceFollowsTheDocumentedProcedure) {
  const Bytes labels = random_labels();
  for (const std::uint64_t seed : {0ull, 1ull, 0xDEADBEEFull})
    EXPECT_EQ(split_labeled(labels, 10, 100, seed).labeled.indices,
              documented_choice(labels, 10, 100, seed));
}

// Over many seeds, each image of a class of 10 is chosen with probability 3/10 when 3 per class
// are taken. 20,000 seeds: expected 6,000 times, standard deviation sqrt(20000 * 0.3 * 0.7) = 65;
// the bound of 400 (6 standard deviations) fails a biased shuffle (an off-by-one that never picks
// the last image of a pool, or one that favours low indices) and passes a fair one.
TEST(LabeledSplit, EveryImageOfAClassIsEquallyLikelyToBeChosen) {
  Bytes labels(20);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 2);
  std::vector<int> times_chosen(labels.size(), 0);
  constexpr int kSeeds = 20000;
  for (int seed = 0; seed < kSeeds; ++seed)
    for (const std::int32_t i :
         split_labeled(labels, 2, 6, static_cast<std::uint64_t>(seed)).labeled.indices)
      ++times_chosen[static_cast<std::size_t>(i)];
  for (std::size_t i = 0; i < labels.size(); ++i)
    EXPECT_NEAR(times_chosen[i], 6000, 400) << "image " << i;
}

TEST(LabeledSplit, NonPositiveSizeIsRejected) {
  EXPECT_CONTAINS(split_error(random_labels(), 0), "the labeled set size must be positive, got 0");
  EXPECT_CONTAINS(split_error(random_labels(), -10),
                  "the labeled set size must be positive, got -10");
}

TEST(LabeledSplit, SizeNotAMultipleOfTheClassesIsRejected) {
  EXPECT_CONTAINS(split_error(random_labels(), 95),
                  "the labeled set size 95 is not a multiple of the 10 classes");
}

TEST(LabeledSplit, SizeBeyondTheTrainingSetIsRejected) {
  EXPECT_CONTAINS(split_error(random_labels(), 1010),
                  "the labeled set size 1010 exceeds the 1000 training images");
}

TEST(LabeledSplit, ClassTooSmallIsRejected) {
  Bytes labels = random_labels();
  int kept = 0;
  for (std::uint8_t& label : labels)
    if (label == 3 && ++kept > 5) label = 4;
  EXPECT_CONTAINS(
      split_error(labels, 100),
      "the labeled set size 100 needs 10 images of class 3, but the training set has only 5");
}

TEST(LabeledSplit, LabelOutsideTheClassesIsRejected) {
  Bytes labels = random_labels();
  labels[17] = 10;
  EXPECT_CONTAINS(split_error(labels, 100), "label 10 of image 17 is outside the classes 0 to 9");
}

// SGAN.md: the unlabeled images' "labels are never read". That is a promise about the trainer,
// code that only sees what this API hands it, so no run-time test of the split can watch for a
// read that later code might make. What can be checked, and can fail, is that the trainer's
// inputs hold no such labels. UnlabeledSet is exactly one vector of indices, LabeledSet exactly
// indices and their labels, and SemiSupervisedSet exactly the image shape, the pixels, one
// LabeledSet and one UnlabeledSet: the structured bindings below compile only for those exact
// member lists, so adding a label field to any of these types breaks this test's build.
TEST(LabeledSplit, TrainerFacingTypesHoldNoLabelsOfUnlabeledImages) {
  SemiSupervisedSet set;
  [[maybe_unused]] auto& [count, rows, cols, pixels, labeled, unlabeled] = set;
  [[maybe_unused]] auto& [labeled_indices, labeled_labels] = labeled;
  [[maybe_unused]] auto& [unlabeled_indices] = unlabeled;
  static_assert(std::is_same_v<decltype(count), int> && std::is_same_v<decltype(rows), int> &&
                std::is_same_v<decltype(cols), int>);
  static_assert(std::is_same_v<decltype(pixels), Bytes>);
  static_assert(std::is_same_v<decltype(labeled), LabeledSet>);
  static_assert(std::is_same_v<decltype(unlabeled), UnlabeledSet>);
  static_assert(std::is_same_v<decltype(labeled_indices), Indices>);
  static_assert(std::is_same_v<decltype(labeled_labels), Bytes>);
  static_assert(std::is_same_v<decltype(unlabeled_indices), Indices>);
}

// The run-time half: building the trainer's view consumes the data set's full label vector, so
// after the call the only labels left anywhere are the N of the labeled set.
TEST(LabeledSplit, SemiSupervisedSetConsumesTheFullLabels) {
  const Bytes labels = random_labels();
  Bytes pixels(labels.size() * 4);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i % 251);
  Dataset train{static_cast<int>(labels.size()), 2, 2, pixels, labels};
  const SemiSupervisedSet set = make_semi_supervised_set(std::move(train), 100, 5);
  EXPECT_TRUE(train.labels.empty());
  EXPECT_EQ(train.labels.capacity(), 0u);
  EXPECT_EQ(set.count, 1000);
  EXPECT_EQ(set.rows, 2);
  EXPECT_EQ(set.cols, 2);
  EXPECT_EQ(set.pixels, pixels);
  ASSERT_EQ(set.labeled.labels.size(), 100u);
  for (std::size_t i = 0; i < set.labeled.indices.size(); ++i)
    EXPECT_EQ(set.labeled.labels[i], labels[set.labeled.indices[i]]);
  const LabeledSplit split = split_labeled(labels, 10, 100, 5);
  EXPECT_EQ(set.labeled.indices, split.labeled.indices);
  EXPECT_EQ(set.unlabeled.indices, split.unlabeled.indices);
}

TEST(LabeledSplit, JsonRecordHoldsSeedIndicesAndLabels) {
  const LabeledSplit split = split_labeled(random_labels(), 10, 20, 77);
  const fs::path path =
      fs::temp_directory_path() / ("sgan_labeled_split_test_" + std::to_string(getpid()) + ".json");
  write_labeled_set_json(path, split.labeled, 77);
  const nlohmann::json json = nlohmann::json::parse(std::ifstream(path));
  fs::remove(path);
  EXPECT_EQ(json.at("seed").get<std::uint64_t>(), 77u);
  EXPECT_EQ(json.at("labels_total").get<int>(), 20);
  EXPECT_EQ(json.at("indices").get<Indices>(), split.labeled.indices);
  EXPECT_EQ(json.at("labels").get<Bytes>(), split.labeled.labels);
}

} // namespace
} // namespace sgan
