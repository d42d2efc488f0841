// Batch normalisation on the device: the one_block_per_channel variant (batchnorm_variants.h, the
// dispatch's choice for channels of few values) and the dispatch between it and split_channels.
// Train forward and backward run one block per channel: each thread sums a fixed, strided subset of
// the channel's m = n * spatial values in double, then block_sum adds the partial sums in a fixed
// order, so every run gives the same bits (no atomics).
//
// The batch statistics take one pass over x, as sums of values shifted by the channel's first
// value K:  S1 = sum (x - K),  S2 = sum (x - K)^2,  mean = K + S1 / m,  var = S2 / m - (S1 / m)^2.
// Unshifted, S2 / m - (S1 / m)^2 cancels catastrophically when |mean| >> std; with K a value of the
// channel, |mean - K| is of the order of the spread, and in double the cancellation costs a digit
// or two of sixteen. A second pass then normalises.
#include "kernels/batchnorm.h"
#include "kernels/cuda/batchnorm_split_channels.h"
#include "kernels/cuda/batchnorm_variants.h"
#include "kernels/cuda/common.cuh"

#include <cstdint>
#include <stdexcept>

namespace sgan::cuda {
namespace {

// Offset in [n, c, spatial] of channel ch's j-th value, j = i * spatial + k (sample i, position
// k); `spatial` divides by s.spatial. For BatchNorm1d (spatial 1) a channel's values are c apart.
__device__ inline std::int64_t
channel_value_offset(const BatchNormShape& s, const FastDivmod& spatial, int ch, std::uint32_t j) {
  if (s.spatial == 1) return std::int64_t(j) * s.c + ch;
  int i, k;
  spatial.divmod(int(j), i, k);
  return (std::int64_t(i) * s.c + ch) * s.spatial + k;
}

// How many of its channel's values a thread loads at once (j = t, t + T, ..., t + (R - 1) T for
// T threads), all issued before the first is used. One value a trip of the loop, as before
// 2026-12-04, left each thread one load in flight and a channel of m values ~m / 512 memory round
// trips: 16 us for article G's bn2 at batch 64 (12,544 values a channel) against cuDNN's 8 on an
// H200 (bench/TUNING.md, prediction 16). Where the channel fits (m <= T R: up to 16,384 values) the
// values stay in registers for the second pass instead of being read again. Each thread still adds
// its values in increasing j, so the sums, and every output, have the bits of the one-a-trip loop.
// ptxas (sm_90): 104 registers forward, 114 backward, no spills (at most 128 for 512 threads).
constexpr int forward_values_a_thread = 32;
constexpr int backward_values_a_thread = 32;
constexpr int channel_block_max_threads = 512;

// v[r] = x[channel value base + r T] for the values below m, 0 past it.
template <int R>
__device__ inline void load_channel_values(const BatchNormShape& s, const FastDivmod& spatial,
                                           int ch, std::uint32_t m, std::uint32_t base,
                                           const float* __restrict__ x, float (&v)[R]) {
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const std::uint32_t j = base + r * blockDim.x;
    v[r] = j < m ? x[channel_value_offset(s, spatial, ch, j)] : 0.0f;
  }
}

__global__ void __launch_bounds__(channel_block_max_threads)
    batchnorm_forward_train_kernel(BatchNormShape s, FastDivmod spatial, BatchNormHyper hyper,
                                   Activation epilogue, const float* __restrict__ x,
                                   const float* __restrict__ gamma, const float* __restrict__ beta,
                                   float* __restrict__ y, float* running_mean, float* running_var,
                                   float* saved_mean, float* saved_invstd) {
  constexpr int R = forward_values_a_thread;
  __shared__ double scratch[warp_size];
  const int ch = blockIdx.x;
  const std::uint32_t m = std::uint32_t(s.n) * std::uint32_t(s.spatial);
  const std::uint32_t chunk = blockDim.x * R; // values a block loads at once

  const double shift = x[channel_value_offset(s, spatial, ch, 0)];
  double shifted_sum = 0, shifted_squares = 0;
  float v[R];
  for (std::uint32_t base = threadIdx.x; base < m; base += chunk) {
    load_channel_values(s, spatial, ch, m, base, x, v);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (base + r * blockDim.x >= m) break;
      const double d = double(v[r]) - shift;
      shifted_sum += d;
      shifted_squares += d * d;
    }
  }
  shifted_sum = block_sum(shifted_sum, scratch);
  shifted_squares = block_sum(shifted_squares, scratch);

  const double shifted_mean = shifted_sum / m;
  const double var = fmax(shifted_squares / m - shifted_mean * shifted_mean, 0.0);
  const double mean = shift + shifted_mean;
  const double invstd = 1.0 / sqrt(var + double(hyper.eps));

  if (threadIdx.x == 0) {
    const double momentum = hyper.momentum;
    running_mean[ch] = float((1 - momentum) * double(running_mean[ch]) + momentum * mean);
    if (m > 1)
      running_var[ch] = float((1 - momentum) * double(running_var[ch]) +
                              momentum * var * double(m) / double(m - 1));
    saved_mean[ch] = float(mean);
    saved_invstd[ch] = float(invstd);
  }

  // Centred in double: a float mean would carry an error of |mean| 6e-8, which scaled by invstd
  // matters once |mean| >> std.
  const double scale = double(gamma[ch]) * invstd;
  const float bias = beta[ch];
  for (std::uint32_t base = threadIdx.x; base < m; base += chunk) {
    if (m > chunk) load_channel_values(s, spatial, ch, m, base, x, v); // else v holds them
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::uint32_t j = base + r * blockDim.x;
      if (j >= m) break;
      y[channel_value_offset(s, spatial, ch, j)] =
          activation_apply(epilogue, float((double(v[r]) - mean) * scale) + bias);
    }
  }
}

// One thread per element; the channel of element e is (e / spatial) % c.
__global__ void
batchnorm_forward_eval_kernel(BatchNormShape s, BatchNormHyper hyper, Activation epilogue,
                              std::int64_t size, const float* __restrict__ x,
                              const float* __restrict__ gamma, const float* __restrict__ beta,
                              const float* __restrict__ running_mean,
                              const float* __restrict__ running_var, float* __restrict__ y) {
  for (std::int64_t e = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; e < size;
       e += std::int64_t(gridDim.x) * blockDim.x) {
    const int ch = int((e / s.spatial) % s.c);
    const float scale = gamma[ch] / sqrtf(running_var[ch] + hyper.eps);
    y[e] = activation_apply(epilogue, (x[e] - running_mean[ch]) * scale + beta[ch]);
  }
}

// dbeta += sum dy, dgamma += sum dy xhat, then
// dx = gamma invstd (dy - sum dy / m - xhat sum dy xhat / m). dx may alias dy: each thread reads
// dy[j] before writing dx[j], and the reduction's barriers order the two passes.
__global__ void __launch_bounds__(channel_block_max_threads)
    batchnorm_backward_kernel(BatchNormShape s, FastDivmod spatial, const float* __restrict__ x,
                              const float* dy, const float* __restrict__ gamma,
                              const float* __restrict__ saved_mean,
                              const float* __restrict__ saved_invstd, float* dx, float* dgamma,
                              float* dbeta) {
  constexpr int R = backward_values_a_thread;
  __shared__ double scratch[warp_size];
  const int ch = blockIdx.x;
  const std::uint32_t m = std::uint32_t(s.n) * std::uint32_t(s.spatial);
  const std::uint32_t chunk = blockDim.x * R;
  const float mean = saved_mean[ch], invstd = saved_invstd[ch];

  double sum_dy = 0, sum_dy_xhat = 0;
  float xs[R], gs[R];
  for (std::uint32_t base = threadIdx.x; base < m; base += chunk) {
    load_channel_values(s, spatial, ch, m, base, x, xs);
    load_channel_values(s, spatial, ch, m, base, dy, gs);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (base + r * blockDim.x >= m) break;
      const double g = gs[r];
      sum_dy += g;
      sum_dy_xhat += g * ((double(xs[r]) - mean) * invstd);
    }
  }
  sum_dy = block_sum(sum_dy, scratch);
  sum_dy_xhat = block_sum(sum_dy_xhat, scratch);

  if (threadIdx.x == 0) {
    dbeta[ch] = float(double(dbeta[ch]) + sum_dy);
    dgamma[ch] = float(double(dgamma[ch]) + sum_dy_xhat);
  }

  const float scale = gamma[ch] * invstd;
  const float mean_dy = float(sum_dy / m), mean_dy_xhat = float(sum_dy_xhat / m);
  for (std::uint32_t base = threadIdx.x; base < m; base += chunk) {
    if (m > chunk) { // else xs and gs hold them
      load_channel_values(s, spatial, ch, m, base, x, xs);
      load_channel_values(s, spatial, ch, m, base, dy, gs);
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::uint32_t j = base + r * blockDim.x;
      if (j >= m) break;
      const float xhat = (xs[r] - mean) * invstd;
      dx[channel_value_offset(s, spatial, ch, j)] = scale * (gs[r] - mean_dy - xhat * mean_dy_xhat);
    }
  }
}

// The per-channel kernels index a channel's values with 32-bit j.
std::uint32_t checked_values_per_channel(const BatchNormShape& s) {
  const std::int64_t m = values_per_channel(s);
  if (m > INT32_MAX) throw std::invalid_argument("batchnorm: more than 2^31 values per channel");
  return static_cast<std::uint32_t>(m);
}

// Enough warps to cover the channel's values, at most 512 threads: a BatchNorm1d channel of 100
// values gets 4 warps, a 64 x 28 x 28 channel 16 warps that each loop over it.
int channel_block_threads(std::uint32_t m) {
  constexpr std::uint32_t max_threads = channel_block_max_threads;
  const std::uint32_t warps = (m + warp_size - 1) / warp_size;
  return int(warps * warp_size < max_threads ? warps * warp_size : max_threads);
}

} // namespace

void batchnorm_forward_train(BatchNormVariant variant, const BatchNormShape& s,
                             const BatchNormHyper& hyper, const float* x, const float* gamma,
                             const float* beta, float* y, float* running_mean, float* running_var,
                             float* saved_mean, float* saved_invstd, const Activation& epilogue,
                             cudaStream_t stream) {
  if (s.size() == 0) return;
  const std::uint32_t m = checked_values_per_channel(s);
  if (variant == BatchNormVariant::split_channels)
    return split_channels::forward_train(s, hyper, x, gamma, beta, y, running_mean, running_var,
                                         saved_mean, saved_invstd, epilogue, stream);
  launch({unsigned(s.c), channel_block_threads(m), stream}, batchnorm_forward_train_kernel, s,
         FastDivmod(s.spatial), hyper, epilogue, x, gamma, beta, y, running_mean, running_var,
         saved_mean, saved_invstd);
}

void batchnorm_forward_eval(BatchNormVariant variant, const BatchNormShape& s,
                            const BatchNormHyper& hyper, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var,
                            float* y, const Activation& epilogue, cudaStream_t stream) {
  if (s.size() == 0) return;
  if (variant == BatchNormVariant::split_channels) {
    checked_values_per_channel(s); // throws where 32-bit indices within a channel would not do
    return split_channels::forward_eval(s, hyper, x, gamma, beta, running_mean, running_var, y,
                                        epilogue, stream);
  }
  constexpr int threads = 256;
  const auto size = static_cast<std::int64_t>(s.size());
  launch({elementwise_blocks(size, threads), threads, stream}, batchnorm_forward_eval_kernel, s,
         hyper, epilogue, size, x, gamma, beta, running_mean, running_var, y);
}

void batchnorm_backward(BatchNormVariant variant, const BatchNormShape& s, const float* x,
                        const float* dy, const float* gamma, const float* saved_mean,
                        const float* saved_invstd, float* dx, float* dgamma, float* dbeta,
                        cudaStream_t stream) {
  if (s.size() == 0) return;
  const std::uint32_t m = checked_values_per_channel(s);
  if (variant == BatchNormVariant::split_channels)
    return split_channels::backward(s, x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta,
                                    stream);
  launch({unsigned(s.c), channel_block_threads(m), stream}, batchnorm_backward_kernel, s,
         FastDivmod(s.spatial), x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta);
}

void batchnorm_forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                             const float* gamma, const float* beta, float* y, float* running_mean,
                             float* running_var, float* saved_mean, float* saved_invstd,
                             const Activation& epilogue, cudaStream_t stream) {
  batchnorm_forward_train(batchnorm_train_variant_for(s), s, hyper, x, gamma, beta, y, running_mean,
                          running_var, saved_mean, saved_invstd, epilogue, stream);
}

void batchnorm_forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float* y, const Activation& epilogue,
                            cudaStream_t stream) {
  batchnorm_forward_eval(batchnorm_eval_variant_for(s), s, hyper, x, gamma, beta, running_mean,
                         running_var, y, epilogue, stream);
}

void batchnorm_backward(const BatchNormShape& s, const float* x, const float* dy,
                        const float* gamma, const float* saved_mean, const float* saved_invstd,
                        float* dx, float* dgamma, float* dbeta, cudaStream_t stream) {
  batchnorm_backward(batchnorm_train_variant_for(s), s, x, dy, gamma, saved_mean, saved_invstd, dx,
                     dgamma, dbeta, stream);
}

} // namespace sgan::cuda
