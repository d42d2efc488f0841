// The fused (K+1)-way SGAN softmax cross-entropy (loss and logit gradient in one pass) and the
// feature-matching generator loss; no vendor twin.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/sgan_loss.h"

#include <cstdint>
#include <vector>

namespace sgan::bench {
namespace {

struct SganLossCase {
  const char* name;
  int rows_per_batch; // D's step: labeled, unlabeled and fake rows; G's step: generator rows
  bool fixed_zero_fake_logit;
  bool generator_rows;
};

struct FeatureMatchingCase {
  const char* name; // the D layer whose output is matched
  int features;
};

// Every use of the losses in both recipes: D's step of each, the article G's non-saturating loss
// and the improved G's feature matching. Add a row to time another.
const SganLossCase sgan_loss_cases[] = {
    {"article.D", 3, false, false},
    {"improved.D", 3, true, false},
    {"article.G", 1, false, true},
};
const FeatureMatchingCase feature_matching_cases[] = {
    {"improved.D.fc5", 250},
};

// D's batch is n labeled, n unlabeled, then n fake rows; G's is n generator rows.
std::vector<SganRow> row_kinds(const SganLossCase& c, int batch) {
  std::vector<SganRow> kinds(std::size_t(c.rows_per_batch) * std::size_t(batch));
  for (std::size_t r = 0; r < kinds.size(); ++r) {
    const std::size_t block = r / std::size_t(batch);
    kinds[r] = c.generator_rows ? SganRow::generator
               : block == 0     ? SganRow::labeled
               : block == 1     ? SganRow::unlabeled
                                : SganRow::fake;
  }
  return kinds;
}

// Reads the logits and, per row, its kind, label and weight; writes the logit gradient and the
// row's loss (every per-row value is four bytes, as a float).
void register_loss(Gpu& gpu, const SganLossCase& c, int batch) {
  const SganLossShape s{c.rows_per_batch * batch, 10, c.fixed_zero_fake_logit};
  const std::vector<SganRow> kinds = row_kinds(c, batch);
  const float weight = 1.0f / float(batch);
  register_case(
      case_name("sgan_loss", "fwd_bwd", c.name, s.rows), gpu,
      [s, kinds, weight](benchmark::State& state, Gpu& g) {
        const auto logits = random_array(s.logits_size(), 1, -3.0f, 3.0f);
        const DeviceArray<SganRow> kind(kinds);
        const auto label = random_indices(std::size_t(s.rows), 2, s.classes);
        const DeviceArray<float> weights(std::vector<float>(std::size_t(s.rows), weight));
        const DeviceArray<float> row_loss(std::size_t(s.rows)), dlogits(s.logits_size());
        time_case(state, g, Work::floats(2.0 * double(s.logits_size()) + 4.0 * s.rows), [&] {
          cuda::sgan_softmax_xent_forward_backward(s, logits.get(), kind.get(), label.get(),
                                                   weights.get(), row_loss.get(), dlogits.get(),
                                                   nullptr, g.stream());
        });
      });
}

// Reads the real and fake features, writes the fake rows' gradient (and one loss value).
void register_feature_matching(Gpu& gpu, const FeatureMatchingCase& c, int batch) {
  const FeatureMatchingShape s{batch, batch, c.features};
  const std::size_t real = std::size_t(s.real_rows) * std::size_t(s.features),
                    fake = std::size_t(s.fake_rows) * std::size_t(s.features);
  register_case(
      case_name("feature_matching", "fwd_bwd", c.name, batch), gpu,
      [s, real, fake](benchmark::State& state, Gpu& g) {
        const auto real_features = random_array(real, 1), fake_features = random_array(fake, 2);
        const DeviceArray<float> loss(1), d_fake(fake);
        time_case(state, g, Work::floats(double(real) + 2.0 * double(fake) + 1.0), [&] {
          cuda::feature_matching_forward_backward(s, real_features.get(), fake_features.get(),
                                                  loss.get(), d_fake.get(), g.stream());
        });
      });
}

} // namespace

void register_sgan_loss_cases(Gpu& gpu) {
  for (const SganLossCase& c : sgan_loss_cases)
    for (const int batch : recipe_batches) register_loss(gpu, c, batch);
  // D's loss of each recipe past the L2 cache: about large_elements logits (11 a row).
  register_loss(gpu, {"large.article.D", 3, false, false}, large_elements / (3 * 11));
  register_loss(gpu, {"large.improved.D", 3, true, false}, large_elements / (3 * 11));
  for (const FeatureMatchingCase& c : feature_matching_cases)
    for (const int batch : recipe_batches) register_feature_matching(gpu, c, batch);
}

} // namespace sgan::bench
#endif
