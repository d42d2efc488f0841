#pragma once
// Variants of the SGAN cross-entropy kernel that wait for a GPU measurement, as conv_variants.h
// does for the convolutions: sgan_bench_kernels times each beside the default on every loss case
// in the same run (bench/TUNING.md, prediction 8), and the tests hold each to the CPU reference.
// cuda::sgan_softmax_xent_forward_backward (kernels/sgan_loss.h) runs the default. The variants
// add a row's terms in different orders, so they agree to rounding, not bit for bit.
#include "kernels/sgan_loss.h"

#if defined(SGAN_WITH_CUDA)
namespace sgan::cuda {

enum class SganLossVariant {
  // One warp per row, its lanes over the real logits.
  warp_per_row,
  // One thread per row, the block's rows copied through shared memory with coalesced loads and
  // stores; rows of more than 32 logits run warp_per_row.
  staged_rows,
};

inline constexpr SganLossVariant default_sgan_loss_variant = SganLossVariant::warp_per_row;
inline constexpr SganLossVariant sgan_loss_variants[] = {SganLossVariant::warp_per_row,
                                                         SganLossVariant::staged_rows};

constexpr const char* sgan_loss_variant_name(SganLossVariant v) {
  switch (v) {
  case SganLossVariant::warp_per_row:
    return "warp_per_row";
  case SganLossVariant::staged_rows:
    return "staged_rows";
  }
  return "unknown";
}

void sgan_softmax_xent_forward_backward(SganLossVariant variant, const SganLossShape& s,
                                        const float* logits, const SganRow* kind,
                                        const std::int32_t* label, const float* weight,
                                        float* row_loss, float* dlogits, std::int32_t* correct,
                                        cudaStream_t stream);

} // namespace sgan::cuda
#endif
