// The SGAN loss reference, in double whatever T is. A row is reduced to m = max_{j<K} l_j,
// S = sum_{j<K} exp(l_j - m) and z = (l_K - m) - log S = l_K - LSE(R), the log-odds of "fake";
// with q = softmax_R(l), every entry of kernels/sgan_loss.h's table is a stable function of them:
//   LSE(A) = LSE(R) + softplus(z),   p_K = sigmoid(z),   p_j = q_j sigmoid(-z)  (j < K)
//   labeled    loss  explicit: LSE(R) - l_y + softplus(z)      zero: LSE(R) - l_y
//              grad  p_j (explicit) or q_j (zero) for j != y,  p_K for l_K, and at y
//                    p_y - 1 = -(sigmoid(-z) S_other / S + p_K)  or  q_y - 1 = -S_other / S
//                    (S_other: S without the label's term, so the entry keeps its relative
//                    precision when p_y is near 1)
//   unlabeled, generator  loss softplus(z)    grad  p_j - q_j = -q_j p_K (j < K),  p_K
//   fake                  loss softplus(-z)   grad  p_j (j < K),  p_K - 1 = -sigmoid(-z)
// No 1 - softmax is ever formed and m cancels exactly in z, so logits of any size give finite
// losses and gradients.
#include "kernels/sgan_loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sgan::cpu {
namespace {

double softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); }
double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

bool valid_row(SganRow kind, std::int32_t label, int classes) {
  switch (kind) {
  case SganRow::labeled:
    return label >= 0 && label < classes;
  case SganRow::unlabeled:
  case SganRow::fake:
  case SganRow::generator:
    return true;
  }
  return false;
}

} // namespace

template <typename T>
void sgan_softmax_xent_forward_backward(const SganLossShape& s, const T* logits,
                                        const SganRow* kind, const std::int32_t* label,
                                        const T* weight, T* row_loss, T* dlogits,
                                        std::int32_t* correct) {
  if (s.classes < 1) throw std::invalid_argument("the SGAN loss needs at least one real class");
  const int K = s.classes;
  const int stride = s.row_stride();
  const bool explicit_fake = !s.fixed_zero_fake_logit;
  for (int r = 0; r < s.rows; ++r) {
    const T* l = logits + std::size_t(r) * stride;
    T* d = dlogits + std::size_t(r) * stride;
    const SganRow row_kind = kind[r];
    const std::int32_t y = row_kind == SganRow::labeled ? label[r] : -1;
    if (correct) correct[r] = 0;
    if (!valid_row(row_kind, y, K)) {
      const T nan = std::numeric_limits<T>::quiet_NaN();
      row_loss[r] = nan;
      std::fill(d, d + stride, nan);
      continue;
    }

    int argmax = 0;
    for (int j = 1; j < K; ++j)
      if (l[j] > l[argmax]) argmax = j;
    const double max_real = double(l[argmax]);
    double sum_real = 0, sum_other = 0; // sum_other leaves out the label's class
    for (int j = 0; j < K; ++j) {
      const double e = std::exp(double(l[j]) - max_real);
      sum_real += e;
      if (j != y) sum_other += e;
    }
    const double fake_logit = explicit_fake ? double(l[K]) : 0.0;
    const double z = (fake_logit - max_real) - std::log(sum_real);
    const double p_fake = sigmoid(z), p_not_fake = sigmoid(-z);
    const double w = double(weight[r]);

    // Per kind: the loss, the factor that turns q_j into the gradient's softmax part, and the
    // gradient for l_K.
    double loss = 0, q_scale = 0, d_fake_logit = 0;
    switch (row_kind) {
    case SganRow::labeled:
      loss = (max_real - double(l[y])) + std::log(sum_real) + (explicit_fake ? softplus(z) : 0.0);
      q_scale = explicit_fake ? p_not_fake : 1.0;
      d_fake_logit = p_fake;
      if (correct) correct[r] = argmax == y ? 1 : 0;
      break;
    case SganRow::unlabeled:
    case SganRow::generator:
      loss = softplus(z);
      q_scale = -p_fake;
      d_fake_logit = p_fake;
      break;
    case SganRow::fake:
      loss = softplus(-z);
      q_scale = p_not_fake;
      d_fake_logit = -p_not_fake;
      break;
    }
    row_loss[r] = T(w * loss);
    // 1 - p_y (explicit) or 1 - q_y (zero), for the label's entry.
    const double label_miss = q_scale * sum_other / sum_real + (explicit_fake ? p_fake : 0.0);
    for (int j = 0; j < K; ++j) {
      const double q = std::exp(double(l[j]) - max_real) / sum_real;
      d[j] = T(w * (j == y ? -label_miss : q_scale * q));
    }
    if (explicit_fake) d[K] = T(w * d_fake_logit);
  }
}

template <typename T>
void feature_matching_forward_backward(const FeatureMatchingShape& s, const T* real, const T* fake,
                                       T* loss, T* d_fake) {
  if (s.real_rows < 1 || s.fake_rows < 1 || s.features < 1)
    throw std::invalid_argument("feature matching needs at least one real row, one fake row and "
                                "one feature");
  const int F = s.features;
  double total = 0;
  for (int f = 0; f < F; ++f) {
    double real_sum = 0, fake_sum = 0;
    for (int r = 0; r < s.real_rows; ++r) real_sum += double(real[std::size_t(r) * F + f]);
    for (int r = 0; r < s.fake_rows; ++r) fake_sum += double(fake[std::size_t(r) * F + f]);
    const double diff = real_sum / s.real_rows - fake_sum / s.fake_rows;
    total += diff * diff;
    const double grad = -2.0 * diff / (double(F) * s.fake_rows);
    for (int r = 0; r < s.fake_rows; ++r) d_fake[std::size_t(r) * F + f] = T(grad);
  }
  *loss = T(total / F);
}

template void sgan_softmax_xent_forward_backward<float>(const SganLossShape&, const float*,
                                                        const SganRow*, const std::int32_t*,
                                                        const float*, float*, float*,
                                                        std::int32_t*);
template void sgan_softmax_xent_forward_backward<double>(const SganLossShape&, const double*,
                                                         const SganRow*, const std::int32_t*,
                                                         const double*, double*, double*,
                                                         std::int32_t*);
template void feature_matching_forward_backward<float>(const FeatureMatchingShape&, const float*,
                                                       const float*, float*, float*);
template void feature_matching_forward_backward<double>(const FeatureMatchingShape&, const double*,
                                                        const double*, double*, double*);

} // namespace sgan::cpu
