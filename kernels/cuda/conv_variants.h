#pragma once
// Variants of the implicit-GEMM convolution kernels (kernels/cuda/conv_implicit_gemm.cuh) that
// wait for a GPU measurement: sgan_bench_kernels times each one beside the default on every
// convolution case, in the same run, so a single GPU session can tell which to keep
// (bench/TUNING.md); the tests hold each one to the CPU reference and, where it sums in the
// default's order (conv_variants[]), to the default bit for bit. The cuda:: functions of
// kernels/conv2d.h and kernels/conv_transpose2d.h run the default.
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"

#if defined(SGAN_WITH_CUDA)
namespace sgan::cuda {

enum class ConvVariant {
  // The default, each tile family on the fragments measured fastest for it (2026-12-04, an H200,
  // bench/results/2026-12-04-6f1563c-NVIDIA-H200/): the 64 x 64 tiles (forward and backward_data
  // of more than 32 channels whose K spans more than one slice, backward_weight of more than 32
  // rows) on contiguous_fragments_paired_lanes, 1.03-1.28x faster there than strided_fragments;
  // every other tile on strided_fragments, including the 64 x 64 forward of one slice of K
  // (D.conv1's K = 9: 0.72-0.74x, its output stores less coalesced).
  measured_tiles,
  // Each thread's 4 x 4 accumulators strided across the tile, read with scalar shared loads (the
  // default until 2026-12-04).
  strided_fragments,
  // 4 adjacent rows x 4 adjacent columns a thread, read with 16-byte shared loads, the lanes
  // interleaved so that every shared load's lanes agree in pairs (bench/TUNING.md, prediction 1).
  contiguous_fragments_paired_lanes,
  // measured_tiles with 8 x 4 accumulators a thread instead of 4 x 4 where it runs the paired-lane
  // fragments: 128 x 64 tiles for forward / backward_data, 64 x 128 for backward_weight, so a
  // thread does 32 FMAs for 3 16-byte shared loads a k and its slice's gathers serve twice the
  // FMAs (bench/TUNING.md, prediction 17).
  large_thread_tiles,
  // measured_tiles with two shared-memory stages where it runs the 64 x 64 tiles: the slice
  // fetched for the next k step is stored into one stage while the other is multiplied, so each
  // 16-k slice costs one barrier instead of two (bench/TUNING.md, prediction 18).
  double_buffered_slices,
  // strided_fragments, with a product of one column (N = 1) or one row (backward_weight's M = 1)
  // on a 256 x 1 (1 x 256) tile instead of the 256 x 4 (4 x 256) one, whose other 3 columns
  // (rows) are zeros: 2/5 of the shared-memory reads per useful FMA (bench/TUNING.md,
  // prediction 2).
  one_column_tiles,
  // forward and backward_data with K split between blocks where the unsplit grid is small: few
  // columns (N <= 4, one_column_tiles' tile for N = 1) until the grid holds ~8 blocks a
  // multiprocessor, wider products until it holds one wave of the 64 x 64 tile; the parts are
  // added in a fixed order by a second pass with the bias and activation. backward_weight of one
  // row is split as finely as the few-column products. Sums in another order than the default, so
  // not bitwise equal to it (bench/TUNING.md, predictions 11 and 14).
  split_k_small_grids,
  // conv2d forward with c_out <= 4 as a direct convolution (kernels/cuda/conv_direct.cuh): a
  // block stages a 16 x 16 output tile's input patch (tile + kernel - 1 halo) and weights in
  // shared memory a chunk of input channels at a time, so each input value is read from global
  // memory once per tile instead of once per tap (bench/TUNING.md, prediction 12). Every other
  // direction and shape (and patches over the shared-memory budget) runs the default. Held to the
  // CPU reference only.
  direct_few_channels,
  // Not an FP32 candidate but the opt-in TF32 precision (--tf32): operands rounded to TF32 and
  // multiplied on the tensor cores (mma.sync m16n8k8), FP32 sums; about 1e-3 relative error
  // instead of 1e-7 (kernels/cuda/tensor_cores.cuh). Needs compute capability 8.0 or later.
  tf32_tensor_cores,
};

inline constexpr ConvVariant default_conv_variant = ConvVariant::measured_tiles;
// The FP32 variants, which compute the default's bits exactly; tf32_tensor_cores is not one.
inline constexpr ConvVariant conv_variants[] = {ConvVariant::measured_tiles,
                                                ConvVariant::strided_fragments,
                                                ConvVariant::contiguous_fragments_paired_lanes,
                                                ConvVariant::large_thread_tiles,
                                                ConvVariant::double_buffered_slices,
                                                ConvVariant::one_column_tiles};
// The FP32 variants that sum in another order: held to the CPU reference only.
inline constexpr ConvVariant reordered_conv_variants[] = {ConvVariant::split_k_small_grids,
                                                          ConvVariant::direct_few_channels};

constexpr const char* conv_variant_name(ConvVariant v) {
  switch (v) {
  case ConvVariant::measured_tiles:
    return "measured_tiles";
  case ConvVariant::strided_fragments:
    return "strided_fragments";
  case ConvVariant::contiguous_fragments_paired_lanes:
    return "contiguous_fragments_paired_lanes";
  case ConvVariant::large_thread_tiles:
    return "large_thread_tiles";
  case ConvVariant::double_buffered_slices:
    return "double_buffered_slices";
  case ConvVariant::one_column_tiles:
    return "one_column_tiles";
  case ConvVariant::split_k_small_grids:
    return "split_k_small_grids";
  case ConvVariant::direct_few_channels:
    return "direct_few_channels";
  case ConvVariant::tf32_tensor_cores:
    return "tf32_tensor_cores";
  }
  return "unknown";
}

void conv2d_forward(ConvVariant variant, const Conv2dShape& s, const float* x, const float* w,
                    const float* b, float* y, const Activation& epilogue, cudaStream_t stream);
void conv2d_backward_data(ConvVariant variant, const Conv2dShape& s, const float* dy,
                          const float* w, float* dx, cudaStream_t stream);
void conv2d_backward_weight(ConvVariant variant, const Conv2dShape& s, const float* x,
                            const float* dy, float* dw, cudaStream_t stream);

void conv_transpose2d_forward(ConvVariant variant, const ConvTranspose2dShape& s, const float* x,
                              const float* w, const float* b, float* y, const Activation& epilogue,
                              cudaStream_t stream);
void conv_transpose2d_backward_data(ConvVariant variant, const ConvTranspose2dShape& s,
                                    const float* dy, const float* w, float* dx,
                                    cudaStream_t stream);
void conv_transpose2d_backward_weight(ConvVariant variant, const ConvTranspose2dShape& s,
                                      const float* x, const float* dy, float* dw,
                                      cudaStream_t stream);

} // namespace sgan::cuda
#endif
