#pragma once
// The CPU backend's one product, P = start + L R, that the dense and convolution kernels
// (kernels/cpu/dense.cpp, kernels/cpu/window.cpp) are written in.
//
// A single running sum is one chain of dependent multiply-adds (latency-bound), and a
// row-at-a-time loop streams all of R once per row (bandwidth-bound), so the product is computed
// in tiles of 4 x 8 independent double sums that stay in registers and reuse every load across
// them, four doubles to a vector where the processor has AVX2, eight where it has AVX-512, and the
// row tiles pass over R one cache-sized panel of columns at a time. Every element's sum still
// starts from its start value and runs over k in ascending order, so it equals the plain loop
// `sum = start; for k: sum += double(L[r, k]) * double(R[k, c])` bitwise, whatever the tiling
// and the thread count.
#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <cstddef>

namespace sgan::cpu {

// A row-major matrix operand: element (r, c) at data[r * stride + c].
template <typename T> struct Operand {
  const T* data;
  int stride;
  const T* row(int r) const { return data + std::size_t(r) * stride; }
};

// The value each element's sum starts from: data[r * row_step + c * col_step], or 0 where data is
// null (a bias per column is {b, 0, 1}, a bias per row {b, 1, 0}, a running sum {sums, cols, 1}).
template <typename S> struct Start {
  const S* data = nullptr;
  int row_step = 0, col_step = 0;
  double at(int r, int c) const {
    return data ? double(data[std::size_t(r) * row_step + std::size_t(c) * col_step]) : 0.0;
  }
};

namespace matrix_product_detail {

constexpr int tile_rows = 4;
constexpr int tile_cols = 8; // 4 x 8 double sums: 8 AVX registers, 16 SSE2 registers

// W doubles in one vector register, as GCC's and Clang's vector extension: written out so that a
// tile's sums stay in registers whatever the auto-vectoriser decides (left to it, the same loops
// ran at half this speed or less, depending on the code around them). Each target gets the width
// of its registers: GCC splits a vector wider than the target's through memory, at a quarter of
// the speed.
template <int W> struct vector_of;
template <> struct vector_of<2> {
  using type = double __attribute__((vector_size(2 * sizeof(double))));
};
template <> struct vector_of<4> {
  using type = double __attribute__((vector_size(4 * sizeof(double))));
};
template <> struct vector_of<8> {
  using type = double __attribute__((vector_size(8 * sizeof(double))));
};
template <int W> using doubles = typename vector_of<W>::type;

// sum[a][c] = start(r0 + a, c0 + c) + sum_{k < depth} L[r0 + a, k] R[k, c0 + c] for a < A, c < C,
// in double over k ascending: separate multiplies and adds, one rounding each, on either target
// (the project builds with no fused multiply-add on the host, or with -ffp-contract=off), so both
// compute the same bits.
template <int W, int A, int C, typename TL, typename TR, typename S>
[[gnu::always_inline]] inline void tile_sums_body(Operand<TL> left, Operand<TR> right, int depth,
                                                  Start<S> start, int r0, int c0,
                                                  double (&sum)[A][C]) {
  constexpr int width = C % W == 0 ? W : 2;
  static_assert(C % width == 0);
  constexpr int groups = C / width;
  using group = doubles<width>;
  group acc[A][groups];
  for (int a = 0; a < A; ++a)
    for (int v = 0; v < groups; ++v)
      for (int e = 0; e < width; ++e) acc[a][v][e] = start.at(r0 + a, c0 + width * v + e);
  const TL* left_rows[A];
  for (int a = 0; a < A; ++a) left_rows[a] = left.row(r0 + a);
  for (int k = 0; k < depth; ++k) {
    const TR* right_step = right.row(k) + c0;
    group rv[groups];
    for (int v = 0; v < groups; ++v)
      for (int e = 0; e < width; ++e) rv[v][e] = double(right_step[width * v + e]);
    for (int a = 0; a < A; ++a) {
      // A scalar times a vector multiplies every lane by it: one broadcast, where filling a
      // vector lane by lane took five shuffles (and 0 + L would turn -0 into +0).
      const double l = double(left_rows[a][k]);
      for (int v = 0; v < groups; ++v) acc[a][v] += l * rv[v];
    }
  }
  for (int a = 0; a < A; ++a)
    for (int v = 0; v < groups; ++v)
      for (int e = 0; e < width; ++e) sum[a][width * v + e] = acc[a][v][e];
}

// The tile for the compilation's own target, and for AVX2 where the processor has it (x86-64
// builds are for SSE2, whose registers hold two doubles; AVX2's hold four). Not inlined into
// their caller, whose store may call tanh or exp: across such calls GCC keeps the sums in memory.
#if defined(__AVX__)
constexpr int baseline_width = 4;
#else
constexpr int baseline_width = 2;
#endif
template <int A, int C, typename TL, typename TR, typename S>
[[gnu::noinline]] void tile_sums_baseline(Operand<TL> left, Operand<TR> right, int depth,
                                          Start<S> start, int r0, int c0, double (&sum)[A][C]) {
  tile_sums_body<baseline_width>(left, right, depth, start, r0, c0, sum);
}

#if defined(__x86_64__) && !defined(__AVX2__)
template <int A, int C, typename TL, typename TR, typename S>
[[gnu::noinline, gnu::target("avx2")]] void tile_sums_avx2(Operand<TL> left, Operand<TR> right,
                                                           int depth, Start<S> start, int r0,
                                                           int c0, double (&sum)[A][C]) {
  tile_sums_body<4>(left, right, depth, start, r0, c0, sum);
}

// AVX-512's registers hold eight doubles: a 4 x 8 tile is four of them, as many independent sums
// as the adder's latency needs to keep two 512-bit pipes busy (1.1-1.2x over AVX2 on the SGAN
// layers here). That target brings fused multiply-add with it, which GCC would contract the
// multiply and the add into: fp-contract=off keeps them two roundings, the other variants' bits.
template <int A, int C, typename TL, typename TR, typename S>
[[gnu::noinline, gnu::target("avx512f"), gnu::optimize("fp-contract=off")]] void
tile_sums_avx512(Operand<TL> left, Operand<TR> right, int depth, Start<S> start, int r0, int c0,
                 double (&sum)[A][C]) {
  tile_sums_body<8>(left, right, depth, start, r0, c0, sum);
}
inline const bool has_avx2 = [] {
  __builtin_cpu_init(); // may run before libgcc's own initialiser
  return __builtin_cpu_supports("avx2") != 0;
}();
inline const bool has_avx512 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") != 0;
}();
#endif

template <int A, int C, typename TL, typename TR, typename S>
void tile_sums(Operand<TL> left, Operand<TR> right, int depth, Start<S> start, int r0, int c0,
               double (&sum)[A][C]) {
#if defined(__x86_64__) && !defined(__AVX2__)
  if (has_avx512) return tile_sums_avx512(left, right, depth, start, r0, c0, sum);
  if (has_avx2) return tile_sums_avx2(left, right, depth, start, r0, c0, sum);
#endif
  tile_sums_baseline(left, right, depth, start, r0, c0, sum);
}

template <int A, int C, typename TL, typename TR, typename S, typename Store>
void tile(Operand<TL> left, Operand<TR> right, int depth, Start<S> start, int r0, int c0,
          const Store& store) {
  double sum[A][C];
  tile_sums(left, right, depth, start, r0, c0, sum);
  for (int a = 0; a < A; ++a)
    for (int c = 0; c < C; ++c) store(r0 + a, c0 + c, sum[a][c]);
}

// Columns [c_begin, c_end) of rows r0 .. r0 + A - 1 of the product: tiles of 8 columns, then of
// 2, then the last odd column as plain sums.
template <int A, typename TL, typename TR, typename S, typename Store>
void tile_row(Operand<TL> left, Operand<TR> right, int depth, int c_begin, int c_end,
              Start<S> start, int r0, const Store& store) {
  int c = c_begin;
  for (; c + tile_cols <= c_end; c += tile_cols)
    tile<A, tile_cols>(left, right, depth, start, r0, c, store);
  for (; c + 2 <= c_end; c += 2) tile<A, 2>(left, right, depth, start, r0, c, store);
  if (c < c_end)
    for (int a = 0; a < A; ++a) {
      double sum = start.at(r0 + a, c);
      for (int k = 0; k < depth; ++k) sum += double(left.row(r0 + a)[k]) * double(right.row(k)[c]);
      store(r0 + a, c, sum);
    }
}

// The columns of R that every row tile passes over in turn: a multiple of the tile's width whose
// share of R (depth x panel) fits in 256 KiB, so that it stays in a core's cache from one row tile
// to the next instead of streaming all of R from memory for each (2x faster on the improved
// recipe's 784 x 1000 layer).
template <typename TR> int panel_cols(int depth) {
  constexpr std::size_t panel_bytes = 256 * 1024;
  const std::size_t fitting = panel_bytes / (std::max(depth, 1) * sizeof(TR));
  return std::max(tile_cols, int(std::min<std::size_t>(fitting, 1 << 20)) / tile_cols * tile_cols);
}

} // namespace matrix_product_detail

// store(r, c, P[r, c]) for rows [row_begin, row_end) of P = start + L R, L [rows, depth],
// R [depth, cols], each element once, on the calling thread.
template <typename TL, typename TR, typename S, typename Store>
void multiply_rows(int row_begin, int row_end, int depth, int cols, Operand<TL> left,
                   Operand<TR> right, Start<S> start, const Store& store) {
  using namespace matrix_product_detail;
  const int panel = panel_cols<TR>(depth);
  for (int c0 = 0; c0 < cols; c0 += panel) {
    const int c1 = std::min(cols, c0 + panel);
    int r = row_begin;
    for (; r + tile_rows <= row_end; r += tile_rows)
      tile_row<tile_rows>(left, right, depth, c0, c1, start, r, store);
    for (; r < row_end; ++r) tile_row<1>(left, right, depth, c0, c1, start, r, store);
  }
}

// The whole product, blocks of rows on parallel threads (kernels/cpu/parallel.h).
template <typename TL, typename TR, typename S, typename Store>
void multiply(int rows, int depth, int cols, Operand<TL> left, Operand<TR> right, Start<S> start,
              const Store& store) {
  using matrix_product_detail::tile_rows;
  const int row_tiles = (rows + tile_rows - 1) / tile_rows;
  parallel_for(row_tiles, double(tile_rows) * depth * cols, [&](int first, int last) {
    multiply_rows(first * tile_rows, std::min(rows, last * tile_rows), depth, cols, left, right,
                  start, store);
  });
}

} // namespace sgan::cpu
