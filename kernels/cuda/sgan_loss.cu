// The SGAN losses on the GPU, with the math of the CPU reference (kernels/cpu/sgan_loss.cpp, which
// states it in full): each row is reduced to m = max of the real logits, S = sum exp(l_j - m),
// S_other (S without the label's term) and z = (l_K - m) - log S, and every loss and gradient is a
// stable function of them and q = softmax_R(l).
#include "kernels/cuda/common.cuh"
#include "kernels/sgan_loss.h"

#include <stdexcept>

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;
constexpr int rows_per_block = threads_per_block / warp_size;
constexpr int feature_matching_threads = 1024;

// The butterfly leaves the same bits in every lane: each step combines a pair of values that both
// lanes of the pair hold, with a commutative operation.
__device__ inline float warp_max(float value) {
  for (int offset = warp_size / 2; offset > 0; offset /= 2)
    value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

// The first index of the largest value over the warp: each lane brings its own first maximum.
__device__ inline int warp_argmax(float value, int index) {
  for (int offset = warp_size / 2; offset > 0; offset /= 2) {
    const float other_value = __shfl_xor_sync(0xffffffffu, value, offset);
    const int other_index = __shfl_xor_sync(0xffffffffu, index, offset);
    if (other_value > value || (other_value == value && other_index < index)) {
      value = other_value;
      index = other_index;
    }
  }
  return index;
}

__device__ inline float softplus(float z) { return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))); }
__device__ inline float sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }

// One warp per row: lane k handles real logits k, k + 32, ...; lane 0 writes the row's loss,
// correct flag and l_K's gradient.
__global__ void sgan_softmax_xent_kernel(SganLossShape s, const float* __restrict__ logits,
                                         const SganRow* __restrict__ kind,
                                         const std::int32_t* __restrict__ label,
                                         const float* __restrict__ weight,
                                         float* __restrict__ row_loss, float* __restrict__ dlogits,
                                         std::int32_t* __restrict__ correct) {
  const int r = blockIdx.x * rows_per_block + threadIdx.x / warp_size;
  const int lane = threadIdx.x % warp_size;
  if (r >= s.rows) return; // whole warps only: the shuffles below need all 32 lanes
  const int K = s.classes;
  const bool explicit_fake = !s.fixed_zero_fake_logit;
  const int stride = explicit_fake ? K + 1 : K; // s.row_stride(), which is host-only
  const float* l = logits + std::size_t(r) * stride;
  float* d = dlogits + std::size_t(r) * stride;
  const SganRow row_kind = kind[r];
  const bool labeled = row_kind == SganRow::labeled;
  const std::int32_t y = labeled ? label[r] : -1;
  const bool known_kind = labeled || row_kind == SganRow::unlabeled || row_kind == SganRow::fake ||
                          row_kind == SganRow::generator;
  if (!known_kind || (labeled && (y < 0 || y >= K))) {
    for (int j = lane; j < stride; j += warp_size) d[j] = __int_as_float(0x7fffffff);
    if (lane == 0) {
      row_loss[r] = __int_as_float(0x7fffffff);
      if (correct) correct[r] = 0;
    }
    return;
  }

  // The lane's first maximum (ascending j), then the warp's.
  float lane_max = -INFINITY;
  int lane_argmax = K;
  for (int j = lane; j < K; j += warp_size)
    if (l[j] > lane_max || lane_argmax == K) {
      lane_max = l[j];
      lane_argmax = j;
    }
  const float max_real = warp_max(lane_max);
  float lane_sum = 0.0f, lane_other = 0.0f; // other: all real classes but the label's
  for (int j = lane; j < K; j += warp_size) {
    const float e = expf(l[j] - max_real);
    lane_sum += e;
    if (j != y) lane_other += e;
  }
  const float sum_real = warp_sum(lane_sum);
  const float sum_other = warp_sum(lane_other);
  const float log_sum_real = logf(sum_real);
  const float fake_logit = explicit_fake ? l[K] : 0.0f;
  const float z = (fake_logit - max_real) - log_sum_real;
  const float p_fake = sigmoid(z), p_not_fake = sigmoid(-z);
  const float w = weight[r];

  // Per kind: the loss, the factor that turns q_j into the gradient's softmax part, and the
  // gradient for l_K (see the table in kernels/cpu/sgan_loss.cpp).
  float loss, q_scale, d_fake_logit;
  if (labeled) {
    loss = (max_real - l[y]) + log_sum_real + (explicit_fake ? softplus(z) : 0.0f);
    q_scale = explicit_fake ? p_not_fake : 1.0f;
    d_fake_logit = p_fake;
  } else if (row_kind == SganRow::fake) {
    loss = softplus(-z);
    q_scale = p_not_fake;
    d_fake_logit = -p_not_fake;
  } else {
    loss = softplus(z);
    q_scale = -p_fake;
    d_fake_logit = p_fake;
  }
  const float inverse_sum = 1.0f / sum_real;
  const float label_miss = q_scale * sum_other * inverse_sum + (explicit_fake ? p_fake : 0.0f);
  for (int j = lane; j < K; j += warp_size)
    d[j] = j == y ? -w * label_miss : w * (q_scale * expf(l[j] - max_real) * inverse_sum);
  const int argmax = warp_argmax(lane_max, lane_argmax);
  if (lane == 0) {
    if (explicit_fake) d[K] = w * d_fake_logit;
    row_loss[r] = w * loss;
    if (correct) correct[r] = labeled && argmax == y ? 1 : 0;
  }
}

// One block: thread t handles features t, t + blockDim, ...; for each it forms the two column
// means (rows in order), writes that column of d_fake and keeps (a_f - b_f)^2 for the loss, which
// block_sum adds in a fixed order. The feature-matching layer is small (250 features of 100 rows
// in the improved recipe), so one block is enough and no scratch memory is needed.
__global__ void feature_matching_kernel(FeatureMatchingShape s, const float* __restrict__ real,
                                        const float* __restrict__ fake, float* __restrict__ loss,
                                        float* __restrict__ d_fake) {
  __shared__ float scratch[warp_size];
  const int F = s.features;
  const float grad_scale = -2.0f / (float(F) * float(s.fake_rows));
  float sum_sq = 0.0f;
  for (int f = threadIdx.x; f < F; f += blockDim.x) {
    float real_sum = 0.0f, fake_sum = 0.0f;
    for (int r = 0; r < s.real_rows; ++r) real_sum += real[std::size_t(r) * F + f];
    for (int r = 0; r < s.fake_rows; ++r) fake_sum += fake[std::size_t(r) * F + f];
    const float diff = real_sum / float(s.real_rows) - fake_sum / float(s.fake_rows);
    sum_sq += diff * diff;
    const float grad = grad_scale * diff;
    for (int r = 0; r < s.fake_rows; ++r) d_fake[std::size_t(r) * F + f] = grad;
  }
  const float total = block_sum(sum_sq, scratch);
  if (threadIdx.x == 0) *loss = total / float(F);
}

} // namespace

void sgan_softmax_xent_forward_backward(const SganLossShape& s, const float* logits,
                                        const SganRow* kind, const std::int32_t* label,
                                        const float* weight, float* row_loss, float* dlogits,
                                        std::int32_t* correct, cudaStream_t stream) {
  if (s.classes < 1) throw std::invalid_argument("the SGAN loss needs at least one real class");
  if (s.rows <= 0) return;
  launch({ceil_div(s.rows, rows_per_block), threads_per_block, stream}, sgan_softmax_xent_kernel, s,
         logits, kind, label, weight, row_loss, dlogits, correct);
}

void feature_matching_forward_backward(const FeatureMatchingShape& s, const float* real,
                                       const float* fake, float* loss, float* d_fake,
                                       cudaStream_t stream) {
  if (s.real_rows < 1 || s.fake_rows < 1 || s.features < 1)
    throw std::invalid_argument("feature matching needs at least one real row, one fake row and "
                                "one feature");
  launch({1, feature_matching_threads, stream}, feature_matching_kernel, s, real, fake, loss,
         d_fake);
}

} // namespace sgan::cuda
