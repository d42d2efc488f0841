#include "engine/data/labeled_split.h"

#include "engine/io/atomic_file.h"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <utility>

namespace sgan {
namespace {

// Uniform in [0, n): the outputs below 2^64 mod n are rejected, so the accepted range is a whole
// number of copies of [0, n) and every residue is equally likely.
std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= threshold) return r % n;
  }
}

void check_split_request(std::span<const std::uint8_t> labels, int num_classes, int labels_total) {
  if (num_classes < 1)
    throw std::invalid_argument(fmt::format("class count must be positive, got {}", num_classes));
  if (labels.size() > static_cast<std::size_t>(INT32_MAX))
    throw std::invalid_argument(
        fmt::format("a training set of {} images is too large to index", labels.size()));
  if (labels_total <= 0)
    throw std::invalid_argument(
        fmt::format("the labeled set size must be positive, got {}", labels_total));
  if (labels_total % num_classes != 0)
    throw std::invalid_argument(fmt::format(
        "the labeled set size {} is not a multiple of the {} classes", labels_total, num_classes));
  if (static_cast<std::size_t>(labels_total) > labels.size())
    throw std::invalid_argument(fmt::format(
        "the labeled set size {} exceeds the {} training images", labels_total, labels.size()));
}

// The indices of each class's images, ascending.
std::vector<std::vector<std::int32_t>> class_pools(std::span<const std::uint8_t> labels,
                                                   int num_classes) {
  std::vector<std::vector<std::int32_t>> pools(static_cast<std::size_t>(num_classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= num_classes)
      throw std::invalid_argument(fmt::format("label {} of image {} is outside the classes 0 to {}",
                                              labels[i], i, num_classes - 1));
    pools[labels[i]].push_back(static_cast<std::int32_t>(i));
  }
  return pools;
}

} // namespace

LabeledSplit split_labeled(std::span<const std::uint8_t> labels, int num_classes, int labels_total,
                           std::uint64_t seed) {
  check_split_request(labels, num_classes, labels_total);
  std::vector<std::vector<std::int32_t>> pools = class_pools(labels, num_classes);
  const std::size_t per_class = static_cast<std::size_t>(labels_total / num_classes);
  for (int c = 0; c < num_classes; ++c)
    if (pools[c].size() < per_class)
      throw std::invalid_argument(fmt::format(
          "the labeled set size {} needs {} images of class {}, but the training set has only {}",
          labels_total, per_class, c, pools[c].size()));

  std::vector<bool> is_labeled(labels.size(), false);
  std::mt19937_64 rng(seed);
  for (std::vector<std::int32_t>& pool : pools)
    for (std::size_t i = 0; i < per_class; ++i) {
      std::swap(pool[i], pool[i + draw_below(rng, pool.size() - i)]);
      is_labeled[pool[i]] = true;
    }

  LabeledSplit split;
  split.labeled.indices.reserve(static_cast<std::size_t>(labels_total));
  split.labeled.labels.reserve(static_cast<std::size_t>(labels_total));
  split.unlabeled.indices.reserve(labels.size() - static_cast<std::size_t>(labels_total));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto index = static_cast<std::int32_t>(i);
    if (is_labeled[i]) {
      split.labeled.indices.push_back(index);
      split.labeled.labels.push_back(labels[i]);
    } else {
      split.unlabeled.indices.push_back(index);
    }
  }
  return split;
}

SemiSupervisedSet make_semi_supervised_set(Dataset&& train, int labels_total, std::uint64_t seed) {
  LabeledSplit split = split_labeled(train.labels, kMnistClasses, labels_total, seed);
  std::vector<std::uint8_t>().swap(train.labels);
  SemiSupervisedSet set;
  set.count = train.count;
  set.rows = train.rows;
  set.cols = train.cols;
  set.pixels = std::move(train.pixels);
  set.labeled = std::move(split.labeled);
  set.unlabeled = std::move(split.unlabeled);
  return set;
}

void write_labeled_set_json(const std::filesystem::path& path, const LabeledSet& labeled,
                            std::uint64_t seed) {
  const nlohmann::json json = {{"seed", seed},
                               {"labels_total", labeled.indices.size()},
                               {"indices", labeled.indices},
                               {"labels", labeled.labels}};
  write_file_atomically(path, [&](std::ostream& out) { out << json.dump() << '\n'; });
}

} // namespace sgan
