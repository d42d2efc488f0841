// The SGAN losses on the GPU, with the math of the CPU reference (kernels/cpu/sgan_loss.cpp, which
// states it in full): each row is reduced to m = max of the real logits, S = sum exp(l_j - m),
// S_other (S without the label's term) and z = (l_K - m) - log S, and every loss and gradient is a
// stable function of them and q = softmax_R(l).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/sgan_loss_variants.h"
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

// What a row's loss and gradient need beyond its logits, from the row's reductions over the real
// logits (see the table in kernels/cpu/sgan_loss.cpp): m = max_real, S = sum_real, S_other (S
// without the label's term) and, for a labeled row, l_y.
struct RowTerms {
  float loss;         // before the row weight
  float q_scale;      // d l_j = w q_scale q_j for the real j other than the label
  float d_fake_logit; // d l_K / w
  float label_miss;   // d l_y = -w label_miss
  float inverse_sum;  // 1 / S
};

__device__ inline RowTerms row_terms(SganRow kind, bool explicit_fake, float max_real,
                                     float sum_real, float sum_other, float label_logit,
                                     float fake_logit) {
  const float log_sum_real = logf(sum_real);
  const float z = (fake_logit - max_real) - log_sum_real;
  const float p_fake = sigmoid(z), p_not_fake = sigmoid(-z);
  RowTerms t;
  if (kind == SganRow::labeled) {
    t.loss = (max_real - label_logit) + log_sum_real + (explicit_fake ? softplus(z) : 0.0f);
    t.q_scale = explicit_fake ? p_not_fake : 1.0f;
    t.d_fake_logit = p_fake;
  } else if (kind == SganRow::fake) {
    t.loss = softplus(-z);
    t.q_scale = p_not_fake;
    t.d_fake_logit = -p_not_fake;
  } else {
    t.loss = softplus(z);
    t.q_scale = -p_fake;
    t.d_fake_logit = p_fake;
  }
  t.inverse_sum = 1.0f / sum_real;
  t.label_miss = t.q_scale * sum_other * t.inverse_sum + (explicit_fake ? p_fake : 0.0f);
  return t;
}

// Whether row r can be reduced: a known kind, and for a labeled row a label in [0, K).
__device__ inline bool valid_row(SganRow kind, std::int32_t y, int classes) {
  const bool labeled = kind == SganRow::labeled;
  const bool known_kind =
      labeled || kind == SganRow::unlabeled || kind == SganRow::fake || kind == SganRow::generator;
  return known_kind && !(labeled && (y < 0 || y >= classes));
}

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
  if (!valid_row(row_kind, y, K)) {
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
  const RowTerms t = row_terms(row_kind, explicit_fake, max_real, sum_real, sum_other,
                               labeled ? l[y] : 0.0f, explicit_fake ? l[K] : 0.0f);
  const float w = weight[r];
  for (int j = lane; j < K; j += warp_size)
    d[j] = j == y ? -w * t.label_miss : w * (t.q_scale * expf(l[j] - max_real) * t.inverse_sum);
  const int argmax = warp_argmax(lane_max, lane_argmax);
  if (lane == 0) {
    if (explicit_fake) d[K] = w * t.d_fake_logit;
    row_loss[r] = w * t.loss;
    if (correct) correct[r] = labeled && argmax == y ? 1 : 0;
  }
}

// The staged_rows variant (sgan_loss_variants.h; the dispatch's choice for large batches): a
// block's rows are adjacent in memory, so the block copies its whole stretch of logits into
// shared memory with coalesced loads, 4 a thread in flight, then each thread reduces one row
// there (the row stride, K + 1 = 11 or K = 10 words, puts a warp's 32 rows in distinct banks or 2
// to a bank) and writes its gradient in place, and the block copies the stretch out with
// coalesced stores. One warp per row (the kernel above) leaves 22 of 32 lanes idle at K = 10 and
// reads each row's kind, label and weight a warp at a time (bench/TUNING.md, prediction 8).
constexpr int staged_threads = 256;
constexpr int staged_capacity = 8192;                               // floats of shared memory
constexpr int staged_max_stride = staged_capacity / staged_threads; // 32: K <= 31 explicit

// to[i] = from[i] for i < count, by the block: 4 elements a thread whose loads are all issued
// before the first store (a loop of one load and one store has one load in flight a thread).
__device__ inline void copy_by_block(const float* __restrict__ from, float* __restrict__ to,
                                     int count) {
  constexpr int group = 4;
  for (int i = threadIdx.x; i < count; i += group * staged_threads) {
    float v[group];
#pragma unroll
    for (int u = 0; u < group; ++u) {
      const int at = i + u * staged_threads;
      v[u] = at < count ? from[at] : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < group; ++u) {
      const int at = i + u * staged_threads;
      if (at < count) to[at] = v[u];
    }
  }
}

__global__ void sgan_softmax_xent_staged_kernel(
    SganLossShape s, const float* __restrict__ logits, const SganRow* __restrict__ kind,
    const std::int32_t* __restrict__ label, const float* __restrict__ weight,
    float* __restrict__ row_loss, float* __restrict__ dlogits, std::int32_t* __restrict__ correct) {
  __shared__ float tile[staged_threads * staged_max_stride];
  const int K = s.classes;
  const bool explicit_fake = !s.fixed_zero_fake_logit;
  const int stride = explicit_fake ? K + 1 : K;
  const int first_row = blockIdx.x * staged_threads;
  const int rows = min(staged_threads, s.rows - first_row);
  const std::size_t base = std::size_t(first_row) * stride;
  // The row's kind, weight and (labeled rows only) label are loaded while the stretch is.
  const int r = first_row + int(threadIdx.x);
  const bool in_batch = int(threadIdx.x) < rows;
  const SganRow row_kind = in_batch ? kind[r] : SganRow::unlabeled;
  const float w = in_batch ? weight[r] : 0.0f;
  copy_by_block(logits + base, tile, rows * stride);
  const bool labeled = in_batch && row_kind == SganRow::labeled;
  const std::int32_t y = labeled ? label[r] : -1;
  __syncthreads();

  if (in_batch) {
    float* l = tile + threadIdx.x * stride; // the row's logits, then its gradient
    if (!valid_row(row_kind, y, K)) {
      for (int j = 0; j < stride; ++j) l[j] = __int_as_float(0x7fffffff);
      row_loss[r] = __int_as_float(0x7fffffff);
      if (correct) correct[r] = 0;
    } else {
      float max_real = l[0];
      int argmax = 0;
      for (int j = 1; j < K; ++j)
        if (l[j] > max_real) {
          max_real = l[j];
          argmax = j;
        }
      float sum_real = 0.0f, sum_other = 0.0f;
      for (int j = 0; j < K; ++j) {
        const float e = expf(l[j] - max_real);
        sum_real += e;
        if (j != y) sum_other += e;
      }
      const RowTerms t = row_terms(row_kind, explicit_fake, max_real, sum_real, sum_other,
                                   labeled ? l[y] : 0.0f, explicit_fake ? l[K] : 0.0f);
      for (int j = 0; j < K; ++j)
        l[j] = j == y ? -w * t.label_miss : w * (t.q_scale * expf(l[j] - max_real) * t.inverse_sum);
      if (explicit_fake) l[K] = w * t.d_fake_logit;
      row_loss[r] = w * t.loss;
      if (correct) correct[r] = labeled && argmax == y ? 1 : 0;
    }
  }
  __syncthreads();
  copy_by_block(tile, dlogits + base, rows * stride);
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

void sgan_softmax_xent_forward_backward(SganLossVariant variant, const SganLossShape& s,
                                        const float* logits, const SganRow* kind,
                                        const std::int32_t* label, const float* weight,
                                        float* row_loss, float* dlogits, std::int32_t* correct,
                                        cudaStream_t stream) {
  if (s.classes < 1) throw std::invalid_argument("the SGAN loss needs at least one real class");
  if (s.rows <= 0) return;
  if (variant == SganLossVariant::staged_rows && s.row_stride() <= staged_max_stride) {
    launch({ceil_div(s.rows, staged_threads), staged_threads, stream},
           sgan_softmax_xent_staged_kernel, s, logits, kind, label, weight, row_loss, dlogits,
           correct);
    return;
  }
  launch({ceil_div(s.rows, rows_per_block), threads_per_block, stream}, sgan_softmax_xent_kernel, s,
         logits, kind, label, weight, row_loss, dlogits, correct);
}

void sgan_softmax_xent_forward_backward(const SganLossShape& s, const float* logits,
                                        const SganRow* kind, const std::int32_t* label,
                                        const float* weight, float* row_loss, float* dlogits,
                                        std::int32_t* correct, cudaStream_t stream) {
  sgan_softmax_xent_forward_backward(sgan_loss_variant_for(s), s, logits, kind, label, weight,
                                     row_loss, dlogits, correct, stream);
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
