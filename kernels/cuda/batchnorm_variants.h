#pragma once
// The two batchnorm kernel families and the choice between them by the values per channel,
// m = n spatial. The cuda:: functions of kernels/batchnorm.h run batchnorm_train_variant_for(s)
// (train forward and backward) or batchnorm_eval_variant_for(s); the overloads that take a
// variant run that one, so the tests hold each to the CPU reference. The train passes sum a
// channel in different orders, so the variants agree to rounding, not bit for bit; each is
// deterministic. Eval computes each element with the same float formula in both.
#include "kernels/batchnorm.h"

#include <cstdint>

#if defined(SGAN_WITH_CUDA)
namespace sgan::cuda {

enum class BatchNormVariant {
  // Train forward and backward: one block per channel, statistics and normalisation in one
  // launch. Eval: one thread per element.
  one_block_per_channel,
  // Each channel's values split between up to 64 blocks of 256 threads: a launch of per-block
  // partial sums, then one that combines them (in split order) and normalises; BatchNorm1d's
  // [n, c] read 32 channels a warp, one row per load, instead of one channel a block, c floats
  // apart.
  split_channels,
};

inline constexpr BatchNormVariant batchnorm_variants[] = {BatchNormVariant::one_block_per_channel,
                                                          BatchNormVariant::split_channels};

constexpr const char* batchnorm_variant_name(BatchNormVariant v) {
  switch (v) {
  case BatchNormVariant::one_block_per_channel:
    return "one_block_per_channel";
  case BatchNormVariant::split_channels:
    return "split_channels";
  }
  return "unknown";
}

// Measured on an H200 (bench/results/2026-12-04-6f1563c-NVIDIA-H200/), one_block_per_channel
// against split_channels.
//
// Train forward and backward, split_channels from this many values per channel. At 3136 and
// 12544 (article G's bn1 at batch 64 and 256, bn2 at 64) one block a channel is faster: forward
// 7.46, 16.8, 16.2 us against 16.6, 19.7, 18.7 us, backward 6.03, 15.2, 14.1 against 19.2, 20.2,
// 18.7; so at BatchNorm1d's 64 and 256 rows (2-3x). From 50176 (bn2 at 256, bn3 at 64) the split
// is faster, forward 1.28x and 1.76x, backward 1.71x and 1.80x, up to 4.4x and 3.5x at 200704
// and 4-5.6x at 523712 and at BatchNorm1d's 67108 rows. Taken as power laws of m between 12544
// and 50176, forward and backward times both cross near 20000; 2^15 lies between.
inline constexpr std::int64_t split_channels_min_values_train = std::int64_t(1) << 15;

// Eval forward, split_channels from this many values per channel: from 12544 it is faster (1.64x
// and 1.81x, then 1.75-2.23x up to 523712); at 3136 the two tie (4.83 against 4.92 us) and at
// BatchNorm1d's 64 and 256 rows one thread per element is faster (3.68 against 4.09 us, 3.81
// against 4.42). 2^13 lies between 3136 and 12544. (BatchNorm1d eval at 67108 rows went
// unmeasured: cuDNN's twin of that case failed.)
inline constexpr std::int64_t split_channels_min_values_eval = std::int64_t(1) << 13;

constexpr std::int64_t values_per_channel(const BatchNormShape& s) {
  return std::int64_t(s.n) * s.spatial;
}

constexpr BatchNormVariant batchnorm_train_variant_for(const BatchNormShape& s) {
  return values_per_channel(s) >= split_channels_min_values_train
             ? BatchNormVariant::split_channels
             : BatchNormVariant::one_block_per_channel;
}

constexpr BatchNormVariant batchnorm_eval_variant_for(const BatchNormShape& s) {
  return values_per_channel(s) >= split_channels_min_values_eval
             ? BatchNormVariant::split_channels
             : BatchNormVariant::one_block_per_channel;
}

void batchnorm_forward_train(BatchNormVariant variant, const BatchNormShape& s,
                             const BatchNormHyper& hyper, const float* x, const float* gamma,
                             const float* beta, float* y, float* running_mean, float* running_var,
                             float* saved_mean, float* saved_invstd, const Activation& epilogue,
                             cudaStream_t stream);
void batchnorm_forward_eval(BatchNormVariant variant, const BatchNormShape& s,
                            const BatchNormHyper& hyper, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var,
                            float* y, const Activation& epilogue, cudaStream_t stream);
void batchnorm_backward(BatchNormVariant variant, const BatchNormShape& s, const float* x,
                        const float* dy, const float* gamma, const float* saved_mean,
                        const float* saved_invstd, float* dx, float* dgamma, float* dbeta,
                        cudaStream_t stream);

} // namespace sgan::cuda
#endif
