#pragma once
// The class-balanced labeled split of SGAN.md's protocol: N training images, N/K of each class,
// chosen by the run's seed, keep their labels; every other training image is unlabeled, and its
// label is never read. The types enforce the second half: an UnlabeledSet holds indices only, and
// the trainer's view of the data (SemiSupervisedSet) is built by consuming the full label vector.
#include "engine/data/mnist.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace sgan {

// The labeled images: the only labels the trainer may read.
struct LabeledSet {
  std::vector<std::int32_t> indices; // ascending, into the training set
  std::vector<std::uint8_t> labels;  // labels[i] is the class of image indices[i]
};

// The unlabeled images: indices only, so no code handed one can read their labels.
struct UnlabeledSet {
  std::vector<std::int32_t> indices; // ascending, into the training set
};

struct LabeledSplit {
  LabeledSet labeled;
  UnlabeledSet unlabeled;
};

// Splits a training set with labels `labels` (each below `num_classes`) into `labels_total`
// labeled images, labels_total / num_classes of each class, and the rest unlabeled; together
// they cover every image once.
//
// The choice is a function of (labels, num_classes, labels_total, seed) alone, the same on every
// platform: the images of each class, in ascending index order, form its pool; one
// std::mt19937_64 seeded with `seed` (its output sequence is fixed by the C++ standard) serves
// classes 0, 1, ..., K-1 in turn, taking labels_total / K images from each pool by a partial
// Fisher-Yates shuffle (position i swaps with a uniform draw from [i, pool size)); the draw is
// our own unbiased rejection sampling, since std::uniform_int_distribution differs between
// standard libraries.
//
// Throws std::invalid_argument naming the problem where labels_total is not positive, not a
// multiple of num_classes, larger than the training set, or asks for more images of some class
// than the set holds, or where a label is not below num_classes.
LabeledSplit split_labeled(std::span<const std::uint8_t> labels, int num_classes, int labels_total,
                           std::uint64_t seed);

// The training set as the semi-supervised trainer receives it: every image's pixels, labels for
// the labeled images only.
struct SemiSupervisedSet {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels; // count * rows * cols, as in Dataset
  LabeledSet labeled;
  UnlabeledSet unlabeled;
};

// Splits `train` (MNIST's kMnistClasses classes) as split_labeled does and moves its pixels into
// the result. `train`'s label vector is consumed and released, so after this call the labels of
// the unlabeled images exist nowhere.
SemiSupervisedSet make_semi_supervised_set(Dataset&& train, int labels_total, std::uint64_t seed);

// Writes `labeled` with the seed that chose it to `path`, atomically, as the run's audit trail:
// {"seed": S, "labels_total": N, "indices": [...], "labels": [...]}.
void write_labeled_set_json(const std::filesystem::path& path, const LabeledSet& labeled,
                            std::uint64_t seed);

} // namespace sgan
