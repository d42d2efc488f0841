#pragma once
// Variants of the batchnorm kernels that wait for a GPU measurement, as conv_variants.h does for
// the convolutions: sgan_bench_kernels times each beside the default on every batchnorm case in
// the same run (bench/TUNING.md, prediction 6), and the tests hold each to the CPU reference. The
// cuda:: functions of kernels/batchnorm.h run the default. The variants sum a channel in
// different orders, so their results agree to rounding, not bit for bit; each is deterministic.
#include "kernels/batchnorm.h"

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

inline constexpr BatchNormVariant default_batchnorm_variant =
    BatchNormVariant::one_block_per_channel;
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
