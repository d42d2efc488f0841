#pragma once
// Direct convolution for conv2d forwards and backward_weights of few output channels (c_out <= 4:
// G.to_image's 64 -> 1, 7x7, stride 1, pad 3 on 28x28), the direct_few_channels variant
// (conv_variants.h). The forward (backward_weight below):
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

// The convolution and where its tiles and patches lie, shared by the forward and backward_weight.
struct DirectGeometry : Conv2dShape {
  int tiles_w = 0;       // output tiles across a row of the image
  int chunk = 0;         // input channels staged at a time
  FastDivmod patch_size; // e -> (chunk channel, patch pixel): ((rows - 1) stride + kh) columns
  FastDivmod patch_cols; // patch pixel -> (row, column): (cols - 1) stride + kw
};

struct DirectForwardProblem {
  const float* x = nullptr;
  const float* w = nullptr;
  DirectGeometry g;
  FastDivmod chunk_weights; // e -> (co, chunk k): chunk kh kw
};

// The block's output tile: rows [row0, row0 + 16), columns [col0, col0 + 16) of the image.
struct DirectTilePlace {
  int row0 = 0, col0 = 0;
  __device__ explicit DirectTilePlace(const DirectGeometry& g, int tile) {
    const int tile_row = tile / g.tiles_w;
    row0 = tile_row * DirectTile::rows;
    col0 = (tile - tile_row * g.tiles_w) * DirectTile::cols;
  }
};

// patch[ci][r][col] = x_image[c0 + ci, row0 s - pad_top + r, col0 s - pad_left + col] for the
// chunk's `channels` input channels, zero outside the image: the tile's windows, copied by the
// block with consecutive threads reading consecutive columns of a patch row (coalesced).
__device__ __forceinline__ void stage_patch(const DirectGeometry& g, const DirectTilePlace& place,
                                            const float* __restrict__ x_image, int c0, int channels,
                                            float* __restrict__ patch) {
  const std::int64_t plane = std::int64_t(g.h_in) * g.w_in;
  const int ih0 = place.row0 * g.stride - g.pad_top; // may be negative: padding
  const int iw0 = place.col0 * g.stride - g.pad_left;
  for (int e = threadIdx.x; e < channels * g.patch_size.divisor; e += DirectTile::threads) {
    int ci, pixel, r, col;
    g.patch_size.divmod(e, ci, pixel);
    g.patch_cols.divmod(pixel, r, col);
    const int ih = ih0 + r, iw = iw0 + col;
    const bool in_image = ih >= 0 && ih < g.h_in && iw >= 0 && iw < g.w_in;
    patch[e] =
        in_image ? __ldg(x_image + (c0 + ci) * plane + std::int64_t(ih) * g.w_in + iw) : 0.0f;
  }
}

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

  const DirectGeometry& g = p.g;
  const int t = threadIdx.x;
  const int image = blockIdx.y;
  const DirectTilePlace place(g, static_cast<int>(blockIdx.x));
  const int oh = place.row0 + t / DirectTile::cols;
  const int ow = place.col0 + t % DirectTile::cols;
  const int taps = g.kh * g.kw;
  const std::int64_t k_size = std::int64_t(g.c_in) * taps;
  const float* x_image = p.x + std::int64_t(image) * g.c_in * g.h_in * g.w_in;
  // This thread's window starts at patch row (t / cols) s, column (t % cols) s.
  const int window =
      (t / DirectTile::cols) * g.stride * g.patch_cols.divisor + (t % DirectTile::cols) * g.stride;

  float acc[C] = {};
  for (int c0 = 0; c0 < g.c_in; c0 += g.chunk) {
    const int channels = min(g.chunk, g.c_in - c0);
    stage_patch(g, place, x_image, c0, channels, patch);
    // w[co, c0 + kk / taps, ...] = w[co k_size + c0 taps + kk]: contiguous in kk for each co.
    for (int e = t; e < C * p.chunk_weights.divisor; e += DirectTile::threads) {
      int co, kk;
      p.chunk_weights.divmod(e, co, kk);
      if (kk < channels * taps)
        weights[kk * C + co] = __ldg(p.w + co * k_size + std::int64_t(c0) * taps + kk);
    }
    __syncthreads();
    for (int ci = 0; ci < channels; ++ci) {
      const float* window_ci = patch + ci * g.patch_size.divisor + window;
      const float* weights_ci = weights + ci * taps * C;
      for (int i = 0; i < g.kh; ++i) {
        for (int j = 0; j < g.kw; ++j) {
          const float v = window_ci[i * g.patch_cols.divisor + j];
          const float* tap = weights_ci + (i * g.kw + j) * C;
#pragma unroll
          for (int co = 0; co < C; ++co) acc[co] += v * tap[co];
        }
      }
    }
    __syncthreads(); // every thread has read the chunk before the next one overwrites it
  }

  if (oh >= g.h_out || ow >= g.w_out) return;
  const std::int64_t out_plane = std::int64_t(g.h_out) * g.w_out;
#pragma unroll
  for (int co = 0; co < C; ++co) {
    const float value = acc[co] + (bias ? __ldg(bias + co) : 0.0f);
    y[(std::int64_t(image) * C + co) * out_plane + std::int64_t(oh) * g.w_out + ow] =
        activation_apply(epilogue, value);
  }
}

// ---------------------------------------------------------------------------------------------
// backward_weight of few output channels (c_out <= 4: G.to_image's dw is 1 x 64 x 7 x 7):
//
//   dw[co, ci, i, j] += sum_{image, oh, ow} dy[image, co, oh, ow]
//                                           x[image, ci, oh s - pad_top + i, ow s - pad_left + j]
//
// As an implicit GEMM this is one row (M = c_out) of N = c_in kh kw columns with K = n h_out w_out
// (50,176 at batch 64), where every k gathers its x values one by one; on an H200 546 us against
// cuDNN's 132 (bench/TUNING.md, prediction 13). Here a block takes one output tile, one chunk of
// input channels and a group of images: per image it stages the tile's input patch (as the
// forward does) and its C x 16 x 16 dy values in shared memory, and each thread sums, for up to
// weights_a_thread of the chunk's (ci, i, j) and every co, the products over the tile's pixels:
// one broadcast dy load serves the thread's weights. Each sum runs over the group's images, then
// rows, then columns, in increasing order; a block writes its sums to its own part of `partials`
// (part = image group * tiles + tile, each part laid out as dw), and a second pass adds the parts
// in increasing order, so the result does not depend on the schedule.
struct DirectWeightGradProblem {
  const float* x = nullptr;
  const float* dy = nullptr;
  DirectGeometry g;
  int images_per_block = 1; // the image group of blockIdx.z
};

constexpr int direct_weights_a_thread = 2;

// Grid: x over tiles, y over input-channel chunks, z over image groups.
template <int C>
__global__ void __launch_bounds__(DirectTile::threads)
    conv_direct_backward_weight_kernel(const DirectWeightGradProblem p,
                                       float* __restrict__ partials) {
  static_assert(C >= 1 && C <= DirectTile::max_channels, "1 to 4 output channels");
  constexpr int R = direct_weights_a_thread;
  __shared__ float patch[DirectTile::patch_floats];
  __shared__ float dy_tile[C * DirectTile::threads];

  const DirectGeometry& g = p.g;
  const int t = threadIdx.x;
  const DirectTilePlace place(g, static_cast<int>(blockIdx.x));
  const int tile_rows = min(DirectTile::rows, g.h_out - place.row0);
  const int tile_cols = min(DirectTile::cols, g.w_out - place.col0);
  const int c0 = static_cast<int>(blockIdx.y) * g.chunk;
  const int channels = min(g.chunk, g.c_in - c0);
  const int taps = g.kh * g.kw;
  const int image_begin = static_cast<int>(blockIdx.z) * p.images_per_block;
  const int image_end = min(g.n, image_begin + p.images_per_block);
  const std::int64_t in_image = std::int64_t(g.c_in) * g.h_in * g.w_in;
  const std::int64_t out_plane = std::int64_t(g.h_out) * g.w_out;

  // This thread's weights: chunk k = t + r threads, i.e. (ci, i, j), whose window over the tile's
  // pixel (0, 0) starts at patch[ci][i][j].
  int window[R];
  bool mine[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int kk = t + r * DirectTile::threads;
    mine[r] = kk < channels * taps;
    const int ci = kk / taps, tap = kk - ci * taps;
    const int i = tap / g.kw, j = tap - i * g.kw;
    window[r] = mine[r] ? ci * g.patch_size.divisor + i * g.patch_cols.divisor + j : 0;
  }

  float acc[R][C] = {};
  for (int image = image_begin; image < image_end; ++image) {
    stage_patch(g, place, p.x + image * in_image, c0, channels, patch);
    const int oh = place.row0 + t / DirectTile::cols, ow = place.col0 + t % DirectTile::cols;
#pragma unroll
    for (int co = 0; co < C; ++co)
      dy_tile[co * DirectTile::threads + t] =
          oh < g.h_out && ow < g.w_out ? __ldg(p.dy + (std::int64_t(image) * C + co) * out_plane +
                                               std::int64_t(oh) * g.w_out + ow)
                                       : 0.0f;
    __syncthreads();
    for (int py = 0; py < tile_rows; ++py) {
      const int patch_row = py * g.stride * g.patch_cols.divisor;
      for (int px = 0; px < tile_cols; ++px) {
        const int pixel = py * DirectTile::cols + px;
        float d[C];
#pragma unroll
        for (int co = 0; co < C; ++co) d[co] = dy_tile[co * DirectTile::threads + pixel];
        const int offset = patch_row + px * g.stride;
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const float v = patch[window[r] + offset];
#pragma unroll
          for (int co = 0; co < C; ++co) acc[r][co] += v * d[co];
        }
      }
    }
    __syncthreads(); // every thread has read this image's tile before the next overwrites it
  }

  const std::int64_t size = std::int64_t(C) * g.c_in * taps;
  float* part = partials + (std::int64_t(blockIdx.z) * gridDim.x + blockIdx.x) * size;
#pragma unroll
  for (int r = 0; r < R; ++r) {
    if (!mine[r]) continue;
    const int kk = t + r * DirectTile::threads;
#pragma unroll
    for (int co = 0; co < C; ++co)
      part[co * std::int64_t(g.c_in) * taps + std::int64_t(c0) * taps + kk] = acc[r][co];
  }
}

} // namespace sgan::cuda::conv
