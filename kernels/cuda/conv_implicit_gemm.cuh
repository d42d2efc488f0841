#pragma once
// Implicit GEMM for 2-D convolution. Every direction of conv2d (and so of conv_transpose2d) is a
// matrix product whose operands are gathered from the NCHW tensors on the fly, slice by slice,
// into shared memory; no im2col matrix is ever written to global memory.
//
//   forward          y[m, n]   = act(b[n] + sum_k X[m, k] W[k, n])   m = (image, oh, ow), n = co,
//                                                                    k = (ci, i, j)
//   backward_data    dx[m, n]  = act(b[n] + sum_k DY[m, k] W[k, n])  m = (image, ih, iw), n = ci,
//                                                                    k = (co, i, j)
//   backward_weight  dw[m, n] += sum_k DY[m, k] X[k, n]              m = co, n = (ci, i, j),
//                                                                    k = (image, oh, ow)
//
// A block computes a bm x bn tile of the product, stepping through k in slices of bk; each thread
// owns a tm x tn block of accumulators in registers, laid out in the tile as its Fragments say.
// The next slice is fetched from global memory into registers while the current one is
// multiplied out of shared memory; with two stages of shared memory the fetched slice is stored
// into the other stage while the current one is read, so a slice costs one barrier, not two.
//
// The forward and backward_data bias + activation epilogue is applied as the tile is written, so
// conv_transpose2d's forward (conv2d's backward_data plus bias and activation) is one launch too.
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv_variants.h"
#include "kernels/cuda/tensor_cores.cuh"

#include <cstdint>

namespace sgan::cuda::conv {

// Where a thread's tm x tn accumulators lie in the block tile, and so how it reads its operands
// out of shared memory for each k. Every layout sums each output over the same k in the same
// order: their results are bitwise equal; only the speed may differ (bench/TUNING.md).
//
// Shared memory returns 128 bytes a clock to an SM: one 32-bit register for a whole warp. A 4 x 4
// thread tile needs 8 registers per k for 16 FMAs, and an SM retires 4 warp-FMAs a clock, so the
// loads (8 clocks), not the FMAs (4), set the pace: half of peak, however the loads are
// vectorised. But a load whose lanes agree in pairs (lanes l and l ^ 1, or l and l ^ 2, read one
// address) packs two lanes into each 128 bytes returned, in half the clocks (NVIDIA's forum, for
// sm_70 to sm_75; on an H200 the pairing gained nothing of its own, below).
enum class Fragments {
  // Rows bm / tm apart, columns bn / tn apart; consecutive threads own consecutive rows, so each
  // of a warp's tm + tn scalar shared loads per k reads consecutive words.
  strided,
  // tm adjacent rows and tn adjacent columns, read with 16-byte shared loads where tm (tn) is a
  // multiple of 4 (a quarter of the load instructions), with the lanes placed so that both loads
  // agree in pairs: a warp covers 8 threads along the tile's fast axis by 4 along the other, lane
  // bits 1-3 the fast-axis position and bits 0 and 4 the slow-axis one, so lanes l and l ^ 1 read
  // the same fast-axis operand and lanes l and l ^ 2 the same slow-axis operand (CUTLASS's SIMT
  // warp policies interleave their lanes likewise: RowMajorInterleaved<2>). On an H200 the 64 x 64
  // tiles ran 1.03-1.28x faster with these fragments than with strided ones wherever K spans more
  // than one slice, and no faster with the lanes in plain order (lane % 8, lane / 8; that layout
  // was deleted): the issue slots the vector loads save, not the shared-memory return path, made
  // the difference (bench/TUNING.md, prediction 1).
  contiguous_paired_lanes,
  // Not FP32: the operands are rounded to TF32 as they are staged in shared memory and each warp
  // multiplies them on the tensor cores (mma.sync m16n8k8, tensor_cores.cuh), so the sums are
  // those of TF32 products, in the tensor cores' order (the opt-in TF32 precision). A warp covers
  // tm / 2 tiles of 16 rows by tn / 2 tiles of 8 columns; its lanes hold the accumulators where
  // PTX puts them: lane (g, t) = (lane / 4, lane % 4) rows g and g + 8 of each row tile, columns
  // 2 t and 2 t + 1 of each column tile.
  tf32_tensor_cores,
};

SGAN_HOST_DEVICE constexpr bool is_contiguous(Fragments f) {
  return f == Fragments::contiguous_paired_lanes;
}

// The block tile: bm x bn outputs per block, tm x tn per thread, k consumed bk at a time, through
// Stages shared-memory slices (slice_loop below). MinBlocks, where not 0: the blocks an SM must
// hold at once (__launch_bounds__' second argument), which caps a thread's registers where ptxas
// would take more. 0 leaves ptxas its own choice: the same code as no second argument, where an
// explicit 1 gave other code (nvcc 13.0: 87 registers instead of 55 for the 64 x 64 forward).
template <int BM, int BN, int BK, int TM, int TN, Fragments F = Fragments::strided, int Stages = 1,
          int MinBlocks = 0>
struct Tile {
  static constexpr int bm = BM, bn = BN, bk = BK, tm = TM, tn = TN, stages = Stages,
                       min_blocks = MinBlocks;
  static constexpr Fragments fragments = F;
  static constexpr int row_threads = BM / TM; // threads along m
  static constexpr int col_threads = BN / TN; // threads along n
  static constexpr int threads = row_threads * col_threads;
  static_assert(BM % TM == 0 && BN % TN == 0, "a thread's sub-tile must divide the block tile");
  static_assert(threads % warp_size == 0 && threads <= 1024, "whole warps, at most 1024 threads");
  static_assert(Stages == 1 || Stages == 2, "one shared-memory slice, or two in turn");
  static_assert(F != Fragments::tf32_tensor_cores ||
                    (TM % 2 == 0 && TN % 2 == 0 && BK % 8 == 0 && row_threads % 8 == 0 &&
                     col_threads % 4 == 0),
                "a tensor-core warp covers 16 x 8 tiles in 8 x 4 lanes, k 8 at a time");
};

// The tile offset of the e-th of a thread's `Count` rows (or columns), for the thread at `index`
// of the `Threads` along that axis.
template <Fragments F, int Count, int Threads>
__device__ __forceinline__ int fragment_offset(int index, int e) {
  return is_contiguous(F) ? index * Count + e : index + e * Threads;
}

// Thread t's place on the tile's grid of FastThreads x SlowThreads threads, for the FP32
// fragments (place_thread below).
template <Fragments F, int FastThreads, int SlowThreads>
__device__ __forceinline__ void place_fp32_thread(int t, int& fast, int& slow) {
  if constexpr (F == Fragments::strided) {
    fast = t % FastThreads;
    slow = t / FastThreads;
  } else {
    static_assert(FastThreads % 8 == 0 && SlowThreads % 4 == 0, "a warp covers 8 x 4 threads");
    constexpr int warps_along_fast = FastThreads / 8;
    const int lane = t % warp_size, warp = t / warp_size;
    const int lane_fast = (lane >> 1) & 7;
    const int lane_slow = (lane & 1) | (lane >> 4) << 1;
    fast = warp % warps_along_fast * 8 + lane_fast;
    slow = warp / warps_along_fast * 4 + lane_slow;
  }
}

// Where a thread's r-th row (c-th column) of accumulators lies in the block tile, for the thread
// at row_index (col_index) along that axis.
template <class Tile> __device__ __forceinline__ int tile_row(int row_index, int r) {
  if constexpr (Tile::fragments == Fragments::tf32_tensor_cores) // warp tiles of 16: g, g + 8
    return row_index / 8 * (Tile::tm * 8) + r / 2 * 16 + r % 2 * 8 + row_index % 8;
  else
    return fragment_offset<Tile::fragments, Tile::tm, Tile::row_threads>(row_index, r);
}
template <class Tile> __device__ __forceinline__ int tile_col(int col_index, int c) {
  if constexpr (Tile::fragments == Fragments::tf32_tensor_cores) // tiles of 8: 2 t, 2 t + 1
    return col_index / 4 * (Tile::tn * 4) + c / 2 * 8 + col_index % 4 * 2 + c % 2;
  else
    return fragment_offset<Tile::fragments, Tile::tn, Tile::col_threads>(col_index, c);
}

// Thread t's (row_index, col_index), with consecutive threads along the rows (RowsFast) or the
// columns: the axis the kernel's output writes are contiguous along, so that a warp's stores
// coalesce. A tensor-core thread's indices are its warp's place along each axis and its lane's
// (g = lane / 4 along the rows, t = lane % 4 along the columns), warps placed along the fast axis
// first.
template <class Tile, bool RowsFast>
__device__ __forceinline__ void place_thread(int t, int& row_index, int& col_index) {
  constexpr Fragments F = Tile::fragments;
  if constexpr (F == Fragments::tf32_tensor_cores) {
    constexpr int row_warps = Tile::row_threads / 8, col_warps = Tile::col_threads / 4;
    const int lane = t % warp_size, warp = t / warp_size;
    const int warp_row = RowsFast ? warp % row_warps : warp / col_warps;
    const int warp_col = RowsFast ? warp / row_warps : warp % col_warps;
    row_index = warp_row * 8 + lane / 4;
    col_index = warp_col * 4 + lane % 4;
  } else if constexpr (RowsFast) {
    place_fp32_thread<F, Tile::row_threads, Tile::col_threads>(t, row_index, col_index);
  } else {
    place_fp32_thread<F, Tile::col_threads, Tile::row_threads>(t, col_index, row_index);
  }
}

// Row stride of a shared-memory slice written k-fastest (a half-warp stores 16 consecutive k of
// one row, the other half the next row). Strided fragments: 2 x odd words put those 32 stores on
// 32 banks. Contiguous fragments read 16-byte vectors, so the stride is a multiple of 4 words
// (4 x odd: the stores meet at most 2 to a bank). Tensor-core fragments read 4 k rows of 8
// consecutive words a load, on 32 distinct banks where the stride is 8 x odd.
template <Fragments F> SGAN_HOST_DEVICE constexpr int k_fastest_stride(int width) {
  if constexpr (F == Fragments::tf32_tensor_cores) {
    const int padded = (width + 7) / 8 * 8;
    return padded / 8 % 2 == 1 ? padded : padded + 8;
  } else if constexpr (!is_contiguous(F)) {
    return width % 4 == 0 ? width + 2 : width + 1;
  } else {
    const int padded = (width + 3) / 4 * 4;
    return padded / 4 % 2 == 1 ? padded : padded + 4;
  }
}

// Row stride of a slice written m-fastest (consecutive threads store consecutive rows of one k):
// the width itself, which keeps those stores on distinct banks, except for tensor-core fragments,
// whose loads want 8 x odd words as above.
template <Fragments F> SGAN_HOST_DEVICE constexpr int m_fastest_stride(int width) {
  return F == Fragments::tf32_tensor_cores ? k_fastest_stride<F>(width) : width;
}

// A value as it is staged in shared memory: rounded to TF32 for the tensor cores, else as is.
template <Fragments F> __device__ __forceinline__ float staged(float value) {
  if constexpr (F == Fragments::tf32_tensor_cores)
    return round_to_tf32(value);
  else
    return value;
}

// A thread's Count operand values for one k out of the slice row `slice_row`.
template <Fragments F, int Count, int Threads>
__device__ __forceinline__ void read_fragment(const float* slice_row, int index,
                                              float (&fragment)[Count]) {
  if constexpr (is_contiguous(F) && Count % 4 == 0) {
    const float4* vectors = reinterpret_cast<const float4*>(slice_row + index * Count);
#pragma unroll
    for (int q = 0; q < Count / 4; ++q) {
      const float4 v = vectors[q];
      fragment[4 * q] = v.x;
      fragment[4 * q + 1] = v.y;
      fragment[4 * q + 2] = v.z;
      fragment[4 * q + 3] = v.w;
    }
  } else {
#pragma unroll
    for (int e = 0; e < Count; ++e)
      fragment[e] = slice_row[fragment_offset<F, Count, Threads>(index, e)];
  }
}

// acc[r][c] += sum_kk a[kk][row(r)] * b[kk][col(c)] over one slice, a and b of row strides
// AStride and BStride (16-byte aligned, and the strides multiples of 4, where fragments are read
// as vectors).
template <class Tile, int AStride, int BStride>
__device__ __forceinline__ void multiply_slice(const float* a, const float* b, int row_index,
                                               int col_index, float (&acc)[Tile::tm][Tile::tn]) {
  constexpr Fragments F = Tile::fragments;
  constexpr int TM = Tile::tm, TN = Tile::tn;
  if constexpr (F == Fragments::tf32_tensor_cores) {
    // Per 8 k: each of the warp's tm / 2 row tiles' A fragment and tn / 2 column tiles' B
    // fragment read once (PTX's layout, tensor_cores.cuh), then every pair multiplied.
    const int g = row_index % 8, t = col_index % 4;
    const float* a_warp = a + t * AStride + tile_row<Tile>(row_index, 0); // row g of tile 0
    const float* b_warp = b + t * BStride + (col_index / 4 * (TN * 4) + g);
#pragma unroll
    for (int kk = 0; kk < Tile::bk; kk += 8) {
      std::uint32_t a_frag[TM / 2][4], b_frag[TN / 2][2];
#pragma unroll
      for (int i = 0; i < TM / 2; ++i) {
        const float* p = a_warp + kk * AStride + i * 16;
        a_frag[i][0] = __float_as_uint(p[0]);
        a_frag[i][1] = __float_as_uint(p[8]);
        a_frag[i][2] = __float_as_uint(p[4 * AStride]);
        a_frag[i][3] = __float_as_uint(p[4 * AStride + 8]);
      }
#pragma unroll
      for (int j = 0; j < TN / 2; ++j) {
        const float* p = b_warp + kk * BStride + j * 8;
        b_frag[j][0] = __float_as_uint(p[0]);
        b_frag[j][1] = __float_as_uint(p[4 * BStride]);
      }
#pragma unroll
      for (int i = 0; i < TM / 2; ++i)
#pragma unroll
        for (int j = 0; j < TN / 2; ++j) {
          float d[4] = {acc[2 * i][2 * j], acc[2 * i][2 * j + 1], acc[2 * i + 1][2 * j],
                        acc[2 * i + 1][2 * j + 1]};
          mma_m16n8k8_tf32(d, a_frag[i], b_frag[j]);
          acc[2 * i][2 * j] = d[0];
          acc[2 * i][2 * j + 1] = d[1];
          acc[2 * i + 1][2 * j] = d[2];
          acc[2 * i + 1][2 * j + 1] = d[3];
        }
    }
  } else {
    static_assert(!is_contiguous(F) ||
                      ((TM % 4 != 0 || AStride % 4 == 0) && (TN % 4 != 0 || BStride % 4 == 0)),
                  "16-byte fragment loads need slice strides of whole vectors");
#pragma unroll
    for (int kk = 0; kk < Tile::bk; ++kk) {
      float a_frag[TM], b_frag[TN];
      read_fragment<F, TM, Tile::row_threads>(a + kk * AStride, row_index, a_frag);
      read_fragment<F, TN, Tile::col_threads>(b + kk * BStride, col_index, b_frag);
#pragma unroll
      for (int r = 0; r < TM; ++r)
#pragma unroll
        for (int c = 0; c < TN; ++c) acc[r][c] = fmaf(a_frag[r], b_frag[c], acc[r][c]);
    }
  }
}

// The k loop both kernels share, over the slices [k_begin, k_end) in steps of bk: load(k0) fetches
// slice k0 from global memory into registers, store(stage) puts the fetched slice into shared
// stage `stage`, multiply(stage) multiplies that stage's slice into the accumulators. Every slice
// is summed in the same order whatever the stages, so the results are bitwise the same.
//   One stage: store, barrier, fetch the next slice, multiply, barrier (the next store must wait
//   until every thread has read the slice).
//   Two stages: fetch the next slice, multiply stage s, store the next slice into stage s ^ 1,
//   barrier. Stage s ^ 1 was last read in the previous trip, before its barrier, and the barrier
//   ending this trip orders the store before the next trip's reads: one barrier a slice.
// An empty range (a part of a split K past the end of K) fetches zeros and multiplies nothing. No
// early return for it: one cost the one-stage kernels up to 20 registers a thread (nvcc 13.0,
// bench/results/2026-12-05-9f617a9-cpu-ptxas-sm90-conv-kernels).
template <int Stages, int BK, class Load, class Store, class Multiply>
__device__ __forceinline__ void slice_loop(int k_begin, int k_end, Load&& load, Store&& store,
                                           Multiply&& multiply) {
  load(k_begin);
  if constexpr (Stages == 1) {
    for (int k0 = k_begin; k0 < k_end; k0 += BK) {
      store(0);
      __syncthreads();
      if (k0 + BK < k_end) load(k0 + BK);
      multiply(0);
      __syncthreads();
    }
  } else {
    store(0);
    __syncthreads();
    int stage = 0;
    for (int k0 = k_begin; k0 < k_end; k0 += BK) {
      const bool more = k0 + BK < k_end;
      if (more) load(k0 + BK);
      multiply(stage);
      if (more) store(stage ^ 1);
      __syncthreads();
      stage ^= 1;
    }
  }
}

__device__ __forceinline__ bool inside(int i, int size) {
  return static_cast<unsigned int>(i) < static_cast<unsigned int>(size);
}

// ---------------------------------------------------------------------------------------------
// Forward: out = y, rows m = (image, oh, ow), columns n = co, k = (ci, i, j).
//   A[m, k] = x[image, ci, oh s - pad_top + i, ow s - pad_left + j]  (0 outside x)
//   B[k, n] = w[co, ci, i, j] = w[n K + k]
struct ForwardProblem {
  const float* x = nullptr;
  const float* w = nullptr;
  int c_in = 0, h_in = 0, w_in = 0, w_out = 0, stride = 1, pad_top = 0, pad_left = 0;
  int channels = 0;        // N = c_out
  int k_size = 0;          // K = c_in kh kw
  std::int64_t rows = 0;   // M = n h_out w_out
  std::int64_t pixels = 0; // h_out w_out, the stride between output channels
  FastDivmod taps;         // k -> (ci, i kw + j)
  FastDivmod tap_cols;     // i kw + j -> (i, j)

  // What a thread needs of its A row across the whole k loop.
  struct Row {
    std::int64_t x_offset = 0; // x[image, 0, 0, 0]
    int ih0 = 0, iw0 = 0;      // top-left input pixel of the window, may be negative
    bool valid = false;
  };

  __device__ ForwardProblem phase(int) const { return *this; }

  __device__ Row row(std::int64_t m) const {
    Row r;
    if (m >= rows) return r;
    const std::int64_t image = m / pixels;
    const int p = static_cast<int>(m - image * pixels);
    const int oh = p / w_out, ow = p - oh * w_out;
    r.x_offset = image * c_in * h_in * w_in;
    r.ih0 = oh * stride - pad_top;
    r.iw0 = ow * stride - pad_left;
    r.valid = true;
    return r;
  }

  __device__ float a(const Row& r, int k) const {
    if (!r.valid || k >= k_size) return 0.0f;
    int ci, tap, i, j;
    taps.divmod(k, ci, tap);
    tap_cols.divmod(tap, i, j);
    const int ih = r.ih0 + i, iw = r.iw0 + j;
    if (!inside(ih, h_in) || !inside(iw, w_in)) return 0.0f;
    return __ldg(x + r.x_offset + static_cast<std::int64_t>(ci) * h_in * w_in + ih * w_in + iw);
  }

  __device__ float b(int k, int n) const {
    if (k >= k_size || n >= channels) return 0.0f;
    return __ldg(w + static_cast<std::int64_t>(n) * k_size + k);
  }

  // out[m, n] = y[out_offset(m) + n pixels]
  __device__ std::int64_t out_offset(std::int64_t m) const {
    const std::int64_t image = m / pixels;
    return image * channels * pixels + (m - image * pixels);
  }
  __device__ std::int64_t out_channel_stride() const { return pixels; }
};

// ---------------------------------------------------------------------------------------------
// backward_data: out = dx, rows m = (image, ih, iw), columns n = ci, k = (co, i, j).
// dx[ih] receives dy[oh] through tap i only where ih + pad_top - i = oh s. Input rows fall into s
// classes by (ih + pad_top) mod s = r, and class r meets exactly the taps i = r, r + s, ...; so
// the s x s (row class, column class) pairs are s^2 independent dense GEMMs ("phases"), each with
// K = c_out ceil((kh - r) / s) ceil((kw - r') / s), and no multiply is spent on a tap that cannot
// contribute. blockIdx.z picks the phase; its rows are ih = first_ih + a s, iw = first_iw + b s.
struct BackwardDataPhase {
  const float* dy = nullptr;
  const float* w = nullptr;
  int c_in = 0, h_in = 0, w_in = 0, c_out = 0, h_out = 0, w_out = 0, kh = 0, kw = 0, stride = 1;
  int tap_row0 = 0, tap_col0 = 0; // the phase's taps: i = tap_row0 + ti s, j = tap_col0 + tj s
  int first_ih = 0, first_iw = 0; // the phase's first input row and column
  int rows_h = 0, rows_w = 0;     // how many input rows / columns the phase has
  int oh0 = 0, ow0 = 0;           // (first_ih + pad_top - tap_row0) / s, exact; same for columns
  int channels = 0;               // N = c_in
  int k_size = 0;                 // K = c_out taps_h taps_w
  std::int64_t rows = 0;          // M = n rows_h rows_w
  FastDivmod taps;                // k -> (co, ti taps_w + tj)
  FastDivmod tap_cols;            // ti taps_w + tj -> (ti, tj)

  struct Row {
    std::int64_t dy_offset = 0; // dy[image, 0, 0, 0]
    int oh = 0, ow = 0;         // the output pixel tap (ti, tj) = (0, 0) reads: oh - ti, ow - tj
    bool valid = false;
  };

  __device__ Row row(std::int64_t m) const {
    Row r;
    if (m >= rows) return r;
    const int per_image = rows_h * rows_w;
    const std::int64_t image = m / per_image;
    const int p = static_cast<int>(m - image * per_image);
    const int a = p / rows_w, b = p - a * rows_w;
    r.dy_offset = image * c_out * h_out * w_out;
    r.oh = oh0 + a;
    r.ow = ow0 + b;
    r.valid = true;
    return r;
  }

  __device__ float a(const Row& r, int k) const {
    if (!r.valid || k >= k_size) return 0.0f;
    int co, tap, ti, tj;
    taps.divmod(k, co, tap);
    tap_cols.divmod(tap, ti, tj);
    const int oh = r.oh - ti, ow = r.ow - tj;
    if (!inside(oh, h_out) || !inside(ow, w_out)) return 0.0f;
    return __ldg(dy + r.dy_offset + static_cast<std::int64_t>(co) * h_out * w_out + oh * w_out +
                 ow);
  }

  __device__ float b(int k, int n) const {
    if (k >= k_size || n >= channels) return 0.0f;
    int co, tap, ti, tj;
    taps.divmod(k, co, tap);
    tap_cols.divmod(tap, ti, tj);
    const int i = tap_row0 + ti * stride, j = tap_col0 + tj * stride;
    return __ldg(w + ((static_cast<std::int64_t>(co) * c_in + n) * kh + i) * kw + j);
  }

  __device__ std::int64_t out_offset(std::int64_t m) const {
    const int per_image = rows_h * rows_w;
    const std::int64_t image = m / per_image;
    const int p = static_cast<int>(m - image * per_image);
    const int a = p / rows_w, b = p - a * rows_w;
    const int ih = first_ih + a * stride, iw = first_iw + b * stride;
    return image * c_in * h_in * w_in + static_cast<std::int64_t>(ih) * w_in + iw;
  }
  __device__ std::int64_t out_channel_stride() const {
    return static_cast<std::int64_t>(h_in) * w_in;
  }
};

struct BackwardDataProblem {
  const float* dy = nullptr;
  const float* w = nullptr;
  int images = 0, c_in = 0, h_in = 0, w_in = 0, c_out = 0, h_out = 0, w_out = 0;
  int kh = 0, kw = 0, stride = 1, pad_top = 0, pad_left = 0;

  // Phase z = (tap_row0, tap_col0) = (z / s, z % s).
  __device__ BackwardDataPhase phase(int z) const {
    BackwardDataPhase p;
    p.dy = dy;
    p.w = w;
    p.c_in = c_in;
    p.h_in = h_in;
    p.w_in = w_in;
    p.c_out = c_out;
    p.h_out = h_out;
    p.w_out = w_out;
    p.kh = kh;
    p.kw = kw;
    p.stride = stride;
    p.tap_row0 = z / stride;
    p.tap_col0 = z % stride;
    // first_ih is the smallest ih >= 0 with ih = tap_row0 - pad_top (mod s).
    p.first_ih = ((p.tap_row0 - pad_top) % stride + stride) % stride;
    p.first_iw = ((p.tap_col0 - pad_left) % stride + stride) % stride;
    p.rows_h = p.first_ih < h_in ? (h_in - 1 - p.first_ih) / stride + 1 : 0;
    p.rows_w = p.first_iw < w_in ? (w_in - 1 - p.first_iw) / stride + 1 : 0;
    const int taps_h = p.tap_row0 < kh ? (kh - 1 - p.tap_row0) / stride + 1 : 0;
    const int taps_w = p.tap_col0 < kw ? (kw - 1 - p.tap_col0) / stride + 1 : 0;
    // first_ih + pad_top - tap_row0 is a multiple of s and > -s, so >= 0.
    p.oh0 = (p.first_ih + pad_top - p.tap_row0) / stride;
    p.ow0 = (p.first_iw + pad_left - p.tap_col0) / stride;
    p.channels = c_in;
    p.k_size = c_out * taps_h * taps_w;
    p.rows = static_cast<std::int64_t>(images) * p.rows_h * p.rows_w;
    p.taps = FastDivmod(taps_h * taps_w > 0 ? taps_h * taps_w : 1);
    p.tap_cols = FastDivmod(taps_w > 0 ? taps_w : 1);
    return p;
  }
};

// How a forward or backward_data product's K is split between blocks: blockIdx.z is
// phase * splits + part, and part sums k in [part k_per_split, (part + 1) k_per_split) and writes
// its raw sums to partials[part size + e], laid out as out (size floats a part), for a second,
// fixed-order pass that adds the parts with the bias and the activation. With one split (the
// default) the block sums all of K and applies them itself as the tile is written.
struct KSplit {
  int splits = 1;
  int k_per_split = 0; // a multiple of the tile's bk; unused with one split
  float* partials = nullptr;
  std::int64_t size = 0;
};

// out[m, n] = act(bias[n] + sum_k A[m, k] B[k, n]) for the phase of `problem` that blockIdx.z
// names (with the part of K, see KSplit), whose out[m, n] lives at
// out[out_offset(m) + n out_channel_stride()]. Grid: x over row tiles of the largest phase, y over
// column tiles, z over phases times splits. bias may be null.
template <class Tile, class Problem>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    conv_gemm_kernel(const Problem problem, const float* __restrict__ bias,
                     const Activation epilogue, float* __restrict__ out, const KSplit split) {
  constexpr int BM = Tile::bm, BN = Tile::bn, BK = Tile::bk, TM = Tile::tm, TN = Tile::tn;
  constexpr int threads = Tile::threads;
  // A is gathered m-fastest (consecutive threads read consecutive output pixels, i.e. neighbouring
  // input pixels); each thread keeps one row for the whole k loop so its row decode is done once.
  static_assert(threads % BM == 0, "each thread loads A for one fixed row");
  constexpr int a_k_step = threads / BM;
  static_assert(BK % a_k_step == 0, "the A slice must split evenly over the threads");
  constexpr int a_loads = BK / a_k_step;
  // B is read k-fastest: the weights are contiguous in k for the forward pass.
  constexpr int b_loads = (BK * BN + threads - 1) / threads;
  constexpr int a_stride = m_fastest_stride<Tile::fragments>(BM);
  constexpr int b_stride = k_fastest_stride<Tile::fragments>(BN);

  __shared__ __align__(16) float a_slices[Tile::stages][BK * a_stride];
  __shared__ __align__(16) float b_slices[Tile::stages][BK * b_stride];

  const int part = static_cast<int>(blockIdx.z) % split.splits;
  const auto g = problem.phase(static_cast<int>(blockIdx.z) / split.splits);
  // A phase with a shorter K than the split was sized for may leave a part empty: it writes zeros.
  const int k_begin = split.splits == 1 ? 0 : part * split.k_per_split;
  const int k_end = split.splits == 1 ? g.k_size : min(g.k_size, k_begin + split.k_per_split);
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.x) * BM;
  if (m0 >= g.rows) return; // block-uniform: this phase has fewer rows than the grid covers
  const int n0 = blockIdx.y * BN;
  const int t = threadIdx.x;

  const int a_m = t % BM, a_k = t / BM;
  const auto a_row = g.row(m0 + a_m);
  float a_next[a_loads], b_next[b_loads];

  auto load = [&](int k0) {
#pragma unroll
    for (int l = 0; l < a_loads; ++l) a_next[l] = g.a(a_row, k0 + a_k + l * a_k_step);
#pragma unroll
    for (int l = 0; l < b_loads; ++l) {
      const int e = t + l * threads;
      b_next[l] = e < BK * BN ? g.b(k0 + e % BK, n0 + e / BK) : 0.0f;
    }
  };
  auto store = [&](int stage) {
#pragma unroll
    for (int l = 0; l < a_loads; ++l)
      a_slices[stage][(a_k + l * a_k_step) * a_stride + a_m] = staged<Tile::fragments>(a_next[l]);
#pragma unroll
    for (int l = 0; l < b_loads; ++l) {
      const int e = t + l * threads;
      if (e < BK * BN)
        b_slices[stage][(e % BK) * b_stride + e / BK] = staged<Tile::fragments>(b_next[l]);
    }
  };

  // Output pixels m are contiguous in memory (within an image row), channels pixels apart.
  int tm_index, tn_index;
  place_thread<Tile, true>(t, tm_index, tn_index);
  float acc[TM][TN] = {};
  slice_loop<Tile::stages, BK>(k_begin, k_end, load, store, [&](int stage) {
    multiply_slice<Tile, a_stride, b_stride>(a_slices[stage], b_slices[stage], tm_index, tn_index,
                                             acc);
  });

  const std::int64_t channel_stride = g.out_channel_stride();
#pragma unroll
  for (int r = 0; r < TM; ++r) {
    const std::int64_t m = m0 + tile_row<Tile>(tm_index, r);
    if (m >= g.rows) continue;
    const std::int64_t offset = g.out_offset(m);
#pragma unroll
    for (int c = 0; c < TN; ++c) {
      const int n = n0 + tile_col<Tile>(tn_index, c);
      if (n >= g.channels) continue;
      if (split.partials) {
        split.partials[part * split.size + offset + n * channel_stride] = acc[r][c];
        continue;
      }
      const float value = acc[r][c] + (bias ? __ldg(bias + n) : 0.0f);
      out[offset + n * channel_stride] = activation_apply(epilogue, value);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// backward_weight: dw[m, n] += sum_k A[m, k] B[k, n], rows m = co, columns n = (ci, i, j),
// k = (image, oh, ow):
//   A[m, k] = dy[image, co, oh, ow]
//   B[k, n] = x[image, ci, oh s - pad_top + i, ow s - pad_left + j]  (0 outside x)
// K is long (n h_out w_out) and M N small, so K is split over blockIdx.z: split z sums k in
// [z k_per_split, (z + 1) k_per_split) and, where there are several splits, writes its tile to
// partials[z] for a second, fixed-order pass; with one split it adds into dw directly.
struct WeightGradProblem {
  const float* x = nullptr;
  const float* dy = nullptr;
  int c_in = 0, h_in = 0, w_in = 0, c_out = 0, stride = 1, pad_top = 0, pad_left = 0;
  int rows = 0;            // M = c_out
  int cols = 0;            // N = c_in kh kw
  int k_size = 0;          // K = n h_out w_out
  int pixels = 0;          // h_out w_out
  FastDivmod image_pixels; // k -> (image, oh w_out + ow)
  FastDivmod pixel_cols;   // oh w_out + ow -> (oh, ow)
  FastDivmod taps;         // n -> (ci, i kw + j)
  FastDivmod tap_cols;     // i kw + j -> (i, j)
};

template <class Tile>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    weight_grad_kernel(const WeightGradProblem p, const int k_per_split, float* __restrict__ dw,
                       float* __restrict__ partials) {
  constexpr int BM = Tile::bm, BN = Tile::bn, BK = Tile::bk, TM = Tile::tm, TN = Tile::tn;
  constexpr int threads = Tile::threads;
  // Both operands are read k-fastest (consecutive k are neighbouring output pixels); each thread
  // keeps one k column so the (image, oh, ow) decode is done once per slice for all its loads.
  static_assert(threads % BK == 0, "each thread loads one fixed k of every slice");
  constexpr int k_group = threads / BK; // rows of A (columns of B) one round of loads covers
  constexpr int a_loads = (BM + k_group - 1) / k_group;
  constexpr int b_loads = (BN + k_group - 1) / k_group;
  constexpr int a_stride = k_fastest_stride<Tile::fragments>(BM);
  constexpr int b_stride = k_fastest_stride<Tile::fragments>(BN);

  __shared__ __align__(16) float a_slices[Tile::stages][BK * a_stride];
  __shared__ __align__(16) float b_slices[Tile::stages][BK * b_stride];

  const int t = threadIdx.x;
  const int n0 = blockIdx.x * BN, m0 = blockIdx.y * BM;
  const int k_begin = blockIdx.z * k_per_split;
  const int k_end = min(p.k_size, k_begin + k_per_split);
  const int load_k = t % BK, load_lane = t / BK;

  // The B columns (ci, i, j) this thread loads, the same for every slice.
  std::int64_t col_offset[b_loads];
  int col_i[b_loads], col_j[b_loads];
  bool col_valid[b_loads];
#pragma unroll
  for (int l = 0; l < b_loads; ++l) {
    const int nn = load_lane + l * k_group;
    const int n = n0 + nn;
    col_valid[l] = nn < BN && n < p.cols;
    int ci = 0, tap = 0, i = 0, j = 0;
    if (col_valid[l]) {
      p.taps.divmod(n, ci, tap);
      p.tap_cols.divmod(tap, i, j);
    }
    col_offset[l] = static_cast<std::int64_t>(ci) * p.h_in * p.w_in;
    col_i[l] = i - p.pad_top;
    col_j[l] = j - p.pad_left;
  }

  float a_next[a_loads], b_next[b_loads];
  auto load = [&](int k0) {
    const int k = k0 + load_k;
    const bool k_valid = k < k_end;
    int image = 0, pixel = 0, oh = 0, ow = 0;
    if (k_valid) {
      p.image_pixels.divmod(k, image, pixel);
      p.pixel_cols.divmod(pixel, oh, ow);
    }
    const float* dy_pixel = p.dy + static_cast<std::int64_t>(image) * p.c_out * p.pixels + pixel;
    const float* x_image = p.x + static_cast<std::int64_t>(image) * p.c_in * p.h_in * p.w_in;
#pragma unroll
    for (int l = 0; l < a_loads; ++l) {
      const int mm = load_lane + l * k_group;
      const int m = m0 + mm;
      a_next[l] = k_valid && mm < BM && m < p.rows
                      ? __ldg(dy_pixel + static_cast<std::int64_t>(m) * p.pixels)
                      : 0.0f;
    }
#pragma unroll
    for (int l = 0; l < b_loads; ++l) {
      const int ih = oh * p.stride + col_i[l], iw = ow * p.stride + col_j[l];
      b_next[l] = k_valid && col_valid[l] && inside(ih, p.h_in) && inside(iw, p.w_in)
                      ? __ldg(x_image + col_offset[l] + ih * p.w_in + iw)
                      : 0.0f;
    }
  };
  auto store = [&](int stage) {
#pragma unroll
    for (int l = 0; l < a_loads; ++l) {
      const int mm = load_lane + l * k_group;
      if (mm < BM) a_slices[stage][load_k * a_stride + mm] = staged<Tile::fragments>(a_next[l]);
    }
#pragma unroll
    for (int l = 0; l < b_loads; ++l) {
      const int nn = load_lane + l * k_group;
      if (nn < BN) b_slices[stage][load_k * b_stride + nn] = staged<Tile::fragments>(b_next[l]);
    }
  };

  // dw rows are contiguous in n, so threads run n-fastest for coalesced writes.
  int tm_index, tn_index;
  place_thread<Tile, false>(t, tm_index, tn_index);
  float acc[TM][TN] = {};
  slice_loop<Tile::stages, BK>(k_begin, k_end, load, store, [&](int stage) {
    multiply_slice<Tile, a_stride, b_stride>(a_slices[stage], b_slices[stage], tm_index, tn_index,
                                             acc);
  });

  const std::int64_t split_offset = static_cast<std::int64_t>(blockIdx.z) * p.rows * p.cols;
#pragma unroll
  for (int r = 0; r < TM; ++r) {
    const int m = m0 + tile_row<Tile>(tm_index, r);
    if (m >= p.rows) continue;
#pragma unroll
    for (int c = 0; c < TN; ++c) {
      const int n = n0 + tile_col<Tile>(tn_index, c);
      if (n >= p.cols) continue;
      const std::int64_t e = static_cast<std::int64_t>(m) * p.cols + n;
      if (partials)
        partials[split_offset + e] = acc[r][c];
      else
        dw[e] += acc[r][c];
    }
  }
}

} // namespace sgan::cuda::conv

namespace sgan::cuda {

// conv2d's backward_data with conv_transpose2d's forward epilogue: dx = act(b + conv2d^T(dy)).
// bias may be null. Shared by conv2d.cu (no bias, identity) and conv_transpose2d.cu.
void conv2d_backward_data_epilogue(ConvVariant variant, const Conv2dShape& s, const float* dy,
                                   const float* w, const float* bias, const Activation& epilogue,
                                   float* dx, cudaStream_t stream);

// db[c] += sum_{image, p} dy[image, c, p] for dy of shape [images, channels, pixels], in a fixed
// order. Shared by conv2d's and conv_transpose2d's backward_bias.
void channel_sum_accumulate(int images, int channels, std::int64_t pixels, const float* dy,
                            float* db, cudaStream_t stream);

} // namespace sgan::cuda
