#pragma once
// The order in which an epoch visits the data, a pure function of (seed, epoch), so a resumed run
// regenerates exactly the batches the interrupted one would have drawn.
//
// An epoch is unlabeled.size() / batch iterations (the remainder waits for a later epoch's
// shuffle). Unlabeled images are a fresh permutation each epoch, and the generator step's
// feature matching reads a second, independent one (openai/improved-gan's trainx_unl2), so G
// matches statistics of other images than the ones D was just trained on; the few labeled images
// are re-shuffled and repeated to fill the same number of iterations (as improved-gan does).
#include <cstdint>
#include <vector>

namespace sgan {

struct EpochOrder {
  std::vector<std::int32_t> unlabeled;       // iterations * batch training-set indices (D step)
  std::vector<std::int32_t> generator_unlabeled;  // the same count, another permutation (G step)
  std::vector<std::int32_t> labeled;         // iterations * batch training-set indices
  std::vector<std::int32_t> labeled_labels;  // the labels of `labeled`, position by position
};

int iterations_per_epoch(std::size_t unlabeled_count, int batch);

// labeled_indices[i] has label labeled_labels[i]; the unlabeled images come with no labels.
EpochOrder epoch_order(std::uint64_t seed, int epoch, int batch,
                       const std::vector<std::int32_t>& labeled_indices,
                       const std::vector<std::int32_t>& labeled_labels,
                       const std::vector<std::int32_t>& unlabeled_indices);

}  // namespace sgan
