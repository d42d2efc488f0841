#pragma once
// The two kernels of the SGAN cross-entropy and the choice between them by the number of rows.
// cuda::sgan_softmax_xent_forward_backward (kernels/sgan_loss.h) runs sgan_loss_variant_for(s);
// the overload that takes a variant runs that one, so the tests hold each to the CPU reference.
// The variants add a row's terms in different orders, so they agree to rounding, not bit for bit.
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

// staged_rows from this many rows. On an H200 (bench/results/2026-12-04-6f1563c-NVIDIA-H200/),
// at the SGAN sizes, 64 to 768 rows, both are launch-bound and warp_per_row is the faster by
// 0.05-0.7 us (3.76-3.93 us against 3.98-4.52 us); at 3050400 rows staged_rows is 11.7x faster
// (120 us against 1411 us, K + 1 = 11 logits a row). Taken as linear in the rows between those
// sizes, the two times cross near 2400 rows; 4096 errs towards the measured small batches.
inline constexpr int staged_rows_min_rows = 4096;

constexpr SganLossVariant sgan_loss_variant_for(const SganLossShape& s) {
  return s.rows >= staged_rows_min_rows ? SganLossVariant::staged_rows
                                        : SganLossVariant::warp_per_row;
}

void sgan_softmax_xent_forward_backward(SganLossVariant variant, const SganLossShape& s,
                                        const float* logits, const SganRow* kind,
                                        const std::int32_t* label, const float* weight,
                                        float* row_loss, float* dlogits, std::int32_t* correct,
                                        cudaStream_t stream);

} // namespace sgan::cuda
#endif
