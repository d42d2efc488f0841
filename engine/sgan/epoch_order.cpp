#include "engine/sgan/epoch_order.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

namespace sgan {

namespace {
// `total` indices of `pool`: whole permutations, concatenated until there are enough.
std::vector<std::int32_t> permutations(const std::vector<std::int32_t>& pool, std::size_t total,
                                       std::mt19937_64& rng) {
  std::vector<std::int32_t> out;
  if (pool.empty()) return out;
  std::vector<std::int32_t> perm = pool;
  while (out.size() < total) {
    std::shuffle(perm.begin(), perm.end(), rng);
    const std::size_t take = std::min(perm.size(), total - out.size());
    out.insert(out.end(), perm.begin(), perm.begin() + long(take));
  }
  return out;
}
}  // namespace

int iterations_per_epoch(std::size_t unlabeled_count, int batch) {
  return std::max(1, static_cast<int>(unlabeled_count / static_cast<std::size_t>(batch)));
}

EpochOrder epoch_order(std::uint64_t seed, int epoch, int batch,
                       const std::vector<std::int32_t>& labeled_indices,
                       const std::vector<std::int32_t>& labeled_labels,
                       const std::vector<std::int32_t>& unlabeled_indices) {
  if (labeled_indices.empty() || labeled_indices.size() != labeled_labels.size())
    throw std::invalid_argument("an epoch needs labeled images, each with its label");
  // One generator per (seed, epoch): seed_seq mixes both words.
  std::seed_seq mix{std::uint32_t(seed), std::uint32_t(seed >> 32), std::uint32_t(epoch), 0x5a17u};
  std::mt19937_64 rng(mix);
  const int iterations = iterations_per_epoch(unlabeled_indices.size(), batch);
  const std::size_t total = static_cast<std::size_t>(iterations) * static_cast<std::size_t>(batch);

  EpochOrder order;
  order.unlabeled = permutations(unlabeled_indices, total, rng);
  std::vector<std::size_t> perm(labeled_indices.size());
  std::iota(perm.begin(), perm.end(), std::size_t(0));
  while (order.labeled.size() < total) {
    std::shuffle(perm.begin(), perm.end(), rng);
    for (std::size_t i = 0; i < perm.size() && order.labeled.size() < total; ++i) {
      order.labeled.push_back(labeled_indices[perm[i]]);
      order.labeled_labels.push_back(labeled_labels[perm[i]]);
    }
  }
  // Drawn last, so that D's batches are those of an order without it.
  order.generator_unlabeled = permutations(unlabeled_indices, total, rng);
  return order;
}

}  // namespace sgan
