#pragma once
// The fused (K+1)-way softmax cross-entropy of the semi-supervised GAN (../shared/SGAN.md), one
// pass over a batch whose rows are of four kinds, and the feature-matching generator loss.
//
// Row r holds logits l_0..l_{K-1} for the real classes and, with an explicit fake logit, l_K
// (row stride K + 1); with a fixed zero fake logit (Salimans et al.) the row has K entries and
// l_K := 0. With LSE(S) = log sum_{j in S} exp(l_j), R = {0..K-1}, A = R + {K}, p = softmax_A(l),
// q = softmax_R(l) (q_K = 0):
//
//   kind        loss                                            d loss / d l_j
//   labeled     explicit: LSE(A) - l_y    zero: LSE(R) - l_y    p_j - [j=y]  /  q_j - [j=y]
//   unlabeled   LSE(A) - LSE(R)   = -log(1 - D_fake(x))         p_j - q_j
//   fake        LSE(A) - l_K      = -log D_fake(G(z))           p_j - [j=K]
//   generator   LSE(A) - LSE(R)   = -log(1 - D_fake(G(z)))      p_j - q_j   (non-saturating)
//
// Each row's loss and gradient are multiplied by weight[r] (a batch-mean 1/n and the unsupervised
// weight fold into it). Every term is computed in log space after subtracting the row max, so
// logits of +-80 and beyond give finite losses and gradients. label[r] is read for labeled rows
// only: the labels of unlabeled images are never touched. correct[r] = 1 for a labeled row whose
// argmax over the K real logits (first index on ties) equals its label, else 0; correct may be null
// where accuracy is not wanted. A labeled row whose label lies outside [0, K), or a row of no known
// kind, gets a NaN loss and gradient, so a bad batch cannot pass unnoticed. With a fixed zero fake
// logit the gradient has no entry for l_K (dlogits has K columns, like logits).
#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace sgan {

enum class SganRow : std::int32_t { labeled = 0, unlabeled = 1, fake = 2, generator = 3 };

struct SganLossShape {
  int rows = 0;
  int classes = 10;                    // K, the real classes
  bool fixed_zero_fake_logit = false;  // true: rows have K logits and l_K = 0

  int row_stride() const { return fixed_zero_fake_logit ? classes : classes + 1; }
  std::size_t logits_size() const { return std::size_t(rows) * row_stride(); }
};

// Feature matching (Salimans et al. 2016): with a = batch mean of f_real, b = batch mean of f_fake
// over F features,  loss = (1/F) sum_f (a_f - b_f)^2   (the mean, as the reference code
// openai/improved-gan computes it; SGAN.md's squared norm is F times this, a constant factor),
//   dloss/d f_fake[r, f] = -2 (a_f - b_f) / (F * fake_rows)   (overwrites d_fake).
// D is not updated in the generator step, so no gradient flows to f_real. All three counts must be
// at least 1 (std::invalid_argument otherwise).
struct FeatureMatchingShape {
  int real_rows = 0, fake_rows = 0, features = 0;
};

namespace cpu {
template <typename T>
void sgan_softmax_xent_forward_backward(const SganLossShape& s, const T* logits,
                                        const SganRow* kind, const std::int32_t* label,
                                        const T* weight, T* row_loss, T* dlogits,
                                        std::int32_t* correct);
template <typename T>
void feature_matching_forward_backward(const FeatureMatchingShape& s, const T* real,
                                       const T* fake, T* loss, T* d_fake);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
// One warp per row; loss is one float in device memory.
void sgan_softmax_xent_forward_backward(const SganLossShape& s, const float* logits,
                                        const SganRow* kind, const std::int32_t* label,
                                        const float* weight, float* row_loss, float* dlogits,
                                        std::int32_t* correct, cudaStream_t stream);
void feature_matching_forward_backward(const FeatureMatchingShape& s, const float* real,
                                       const float* fake, float* loss, float* d_fake,
                                       cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
