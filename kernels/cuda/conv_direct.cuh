#pragma once
// Direct convolution for conv2d forwards of few output channels (c_out <= 4: G.to_image's
// 64 -> 1, 7x7, stride 1, pad 3 on 28x28), the direct_few_channels variant (conv_variants.h):
//
//   y[image, co, oh, ow] = act(b[co] + sum_{ci, i, j} x[image, ci, oh s - pad_top + i,
//                                                       ow s - pad_left + j] w[co, ci, i, j])
//
// with x zero outside the image. A block computes a 16 x 16 tile of output pixels of one image,
// one pixel a thread, for all c_out channels. It walks the input channels in chunks: each chunk's
// input patch (the tile's windows: (16 - 1) s + kh rows by (16 - 1) s + kw columns, zeros
// outside the image) and its weights are copied into shared memory once, with consecutive
// threads reading consecutive addresses, and every thread then sums its window out of shared
// memory. Each output sums k = (ci, i, j) in increasing order, as the implicit GEMM's thread does.
//
// Why (bench/TUNING.md, prediction 12): as an implicit GEMM this forward has N = c_out <= 4
// columns and K = c_in kh kw (3,136 for G.to_image), and every output pixel gathers its own K
// window values one by one from global memory / L1, so each input value is fetched up to kh kw
// = 49 times; measured 1,489 us at batch 256 against cuDNN's 252 on an H200. Here each input value
// leaves global memory once per tile it overlaps (tile + halo: 22 x 22 = 484 patch values for 256
// outputs, ~1.5x the image once the out-of-image halo is skipped) and its 49 reuses are shared
// loads; the weights are read once a block per chunk instead of once a thread.
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/common.cuh"

#include <cstdint>

namespace sgan::cuda::conv {

// The tile and the shared-memory budget: 16 x 16 outputs, one a thread; up to 4,096 patch floats
// (16 KB: 8 channels of G.to_image's 22 x 22 patch) and 2,048 weight floats (8 KB) a chunk.
struct DirectTile {
  static constexpr int rows = 16, cols = 16, threads = rows * cols;
  static constexpr int max_channels = 4; // c_out
  static constexpr int patch_floats = 4096;
  static constexpr int weight_floats = 2048;
};

struct DirectForwardProblem {
  const float* x = nullptr;
  const float* w = nullptr;
  int c_in = 0, h_in = 0, w_in = 0, h_out = 0, w_out = 0;
  int kh = 0, kw = 0, stride = 1, pad_top = 0, pad_left = 0;
  int tiles_w = 0;          // output tiles across a row of the image
  int chunk = 0;            // input channels staged at a time
  FastDivmod patch_size;    // e -> (chunk channel, patch pixel): ((rows - 1) stride + kh) columns
  FastDivmod patch_cols;    // patch pixel -> (row, column): (cols - 1) stride + kw
  FastDivmod chunk_weights; // e -> (co, chunk k): chunk kh kw
};

// One block per (tile, image): blockIdx.x = tile row * tiles_w + tile column, blockIdx.y = image.
// Shared layout: patch[ci][r][col] for the chunk's channels, weights[(ci kh kw + i kw + j) C + co]
// so that one tap's C weights are adjacent. bias may be null.
template <int C>
__global__ void __launch_bounds__(DirectTile::threads)
    conv_direct_forward_kernel(const DirectForwardProblem p, const float* __restrict__ bias,
                               const Activation epilogue, float* __restrict__ y) {
  static_assert(C >= 1 && C <= DirectTile::max_channels, "1 to 4 output channels");
  __shared__ float patch[DirectTile::patch_floats];
  __shared__ float weights[DirectTile::weight_floats];

  const int t = threadIdx.x;
  const int image = blockIdx.y;
  const int tile_row = static_cast<int>(blockIdx.x) / p.tiles_w;
  const int tile_col = static_cast<int>(blockIdx.x) - tile_row * p.tiles_w;
  const int oh = tile_row * DirectTile::rows + t / DirectTile::cols;
  const int ow = tile_col * DirectTile::cols + t % DirectTile::cols;
  // Input pixel of the patch's top-left corner (may be negative: padding).
  const int ih0 = tile_row * DirectTile::rows * p.stride - p.pad_top;
  const int iw0 = tile_col * DirectTile::cols * p.stride - p.pad_left;
  const int taps = p.kh * p.kw;
  const std::int64_t k_size = std::int64_t(p.c_in) * taps;
  const std::int64_t plane = std::int64_t(p.h_in) * p.w_in;
  const float* x_image = p.x + std::int64_t(image) * p.c_in * plane;
  // This thread's window starts at patch row (t / cols) s, column (t % cols) s.
  const int window =
      (t / DirectTile::cols) * p.stride * p.patch_cols.divisor + (t % DirectTile::cols) * p.stride;

  float acc[C] = {};
  for (int c0 = 0; c0 < p.c_in; c0 += p.chunk) {
    const int channels = min(p.chunk, p.c_in - c0);
    // Consecutive threads read consecutive columns of a patch row: coalesced.
    for (int e = t; e < channels * p.patch_size.divisor; e += DirectTile::threads) {
      int ci, pixel, r, col;
      p.patch_size.divmod(e, ci, pixel);
      p.patch_cols.divmod(pixel, r, col);
      const int ih = ih0 + r, iw = iw0 + col;
      const bool in_image = ih >= 0 && ih < p.h_in && iw >= 0 && iw < p.w_in;
      patch[e] =
          in_image ? __ldg(x_image + (c0 + ci) * plane + std::int64_t(ih) * p.w_in + iw) : 0.0f;
    }
    // w[co, c0 + kk / taps, ...] = w[co k_size + c0 taps + kk]: contiguous in kk for each co.
    for (int e = t; e < C * p.chunk_weights.divisor; e += DirectTile::threads) {
      int co, kk;
      p.chunk_weights.divmod(e, co, kk);
      if (kk < channels * taps)
        weights[kk * C + co] = __ldg(p.w + co * k_size + std::int64_t(c0) * taps + kk);
    }
    __syncthreads();
    for (int ci = 0; ci < channels; ++ci) {
      const float* window_ci = patch + ci * p.patch_size.divisor + window;
      const float* weights_ci = weights + ci * taps * C;
      for (int i = 0; i < p.kh; ++i) {
        for (int j = 0; j < p.kw; ++j) {
          const float v = window_ci[i * p.patch_cols.divisor + j];
          const float* tap = weights_ci + (i * p.kw + j) * C;
#pragma unroll
          for (int co = 0; co < C; ++co) acc[co] += v * tap[co];
        }
      }
    }
    __syncthreads(); // every thread has read the chunk before the next one overwrites it
  }

  if (oh >= p.h_out || ow >= p.w_out) return;
  const std::int64_t out_plane = std::int64_t(p.h_out) * p.w_out;
#pragma unroll
  for (int co = 0; co < C; ++co) {
    const float value = acc[co] + (bias ? __ldg(bias + co) : 0.0f);
    y[(std::int64_t(image) * C + co) * out_plane + std::int64_t(oh) * p.w_out + ow] =
        activation_apply(epilogue, value);
  }
}

} // namespace sgan::cuda::conv
