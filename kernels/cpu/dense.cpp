// The dense reference: kernels/dense.h's formulas, every sum accumulated in double whatever T is.
//
// It is also the CPU backend's training kernel, so each direction is one matrix product P = L R
// computed in register tiles: a single running sum is one chain of dependent multiply-adds
// (latency-bound), and a row-at-a-time loop streams all of R once per row (bandwidth-bound), so
// a tile keeps 4 x 8 independent sums in registers and reuses every load across them; blocks of
// rows run on parallel threads (kernels/cpu/parallel.h). Every element's sum still runs over its
// index in ascending order on one thread, so the results are exactly those of the plain triple
// loops of kernels/dense.h, for any thread count.
#include "kernels/dense.h"

#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <vector>

namespace sgan::cpu {
namespace {

constexpr int tile_rows = 4;
constexpr int tile_cols = 8; // 4 x 8 double sums: 16 SSE2 registers

// A row-major matrix operand: element (r, c) at data[r * stride + c].
template <typename T> struct Operand {
  const T* data;
  int stride;
  const T* row(int r) const { return data + std::size_t(r) * stride; }
};

// Two doubles in one SSE2 (or NEON) register, as GCC's and Clang's vector extension: written out
// so that a tile's sums stay in registers whatever the auto-vectoriser decides (left to it, the
// same loops ran at half this speed or less, depending on the code around them).
using double2 = double __attribute__((vector_size(2 * sizeof(double))));

// sum[a][c] = start[c0 + c] + sum_{k < depth} L[r0 + a, k] R[k, c0 + c] for a < A, c < C (start
// null: 0), in double over k ascending. Not inlined into its caller, whose store may call tanh or
// exp: across such calls GCC keeps the sums in memory.
template <int A, int C, typename T>
[[gnu::noinline]] void tile_sums(Operand<T> left, Operand<T> right, int depth, const T* start,
                                 int r0, int c0, double (&sum)[A][C]) {
  static_assert(C % 2 == 0);
  constexpr int pairs = C / 2;
  auto pair = [](const T* p) { return double2{double(p[0]), double(p[1])}; };
  double2 acc[A][pairs];
  for (int v = 0; v < pairs; ++v) {
    const double2 first = start ? pair(start + c0 + 2 * v) : double2{0.0, 0.0};
    for (int a = 0; a < A; ++a) acc[a][v] = first;
  }
  const T* left_rows[A];
  for (int a = 0; a < A; ++a) left_rows[a] = left.row(r0 + a);
  for (int k = 0; k < depth; ++k) {
    const T* right_step = right.row(k) + c0;
    double2 rv[pairs];
    for (int v = 0; v < pairs; ++v) rv[v] = pair(right_step + 2 * v);
    for (int a = 0; a < A; ++a) {
      const double l = double(left_rows[a][k]);
      const double2 lv = {l, l};
      for (int v = 0; v < pairs; ++v) acc[a][v] += lv * rv[v];
    }
  }
  for (int a = 0; a < A; ++a)
    for (int v = 0; v < pairs; ++v) {
      sum[a][2 * v] = acc[a][v][0];
      sum[a][2 * v + 1] = acc[a][v][1];
    }
}

template <int A, int C, typename T, typename Store>
void tile(Operand<T> left, Operand<T> right, int depth, const T* start, int r0, int c0,
          const Store& store) {
  double sum[A][C];
  tile_sums(left, right, depth, start, r0, c0, sum);
  for (int a = 0; a < A; ++a)
    for (int c = 0; c < C; ++c) store(r0 + a, c0 + c, sum[a][c]);
}

// Rows r0 .. r0 + A - 1 of the product: tiles of 8 columns, then of 2, then the last odd column
// as plain sums.
template <int A, typename T, typename Store>
void tile_row(Operand<T> left, Operand<T> right, int depth, int cols, const T* start, int r0,
              const Store& store) {
  int c = 0;
  for (; c + tile_cols <= cols; c += tile_cols)
    tile<A, tile_cols>(left, right, depth, start, r0, c, store);
  for (; c + 2 <= cols; c += 2) tile<A, 2>(left, right, depth, start, r0, c, store);
  if (c < cols)
    for (int a = 0; a < A; ++a) {
      double sum = start ? double(start[c]) : 0.0;
      for (int k = 0; k < depth; ++k) sum += double(left.row(r0 + a)[k]) * double(right.row(k)[c]);
      store(r0 + a, c, sum);
    }
}

// store(r, c, P[r, c]) for P = start + L R, L [rows, depth], R [depth, cols], each element once.
template <typename T, typename Store>
void multiply(int rows, int depth, int cols, Operand<T> left, Operand<T> right, const T* start,
              const Store& store) {
  const int row_tiles = (rows + tile_rows - 1) / tile_rows;
  parallel_for(row_tiles, double(tile_rows) * depth * cols, [&](int first, int last) {
    const int end = std::min(rows, last * tile_rows);
    int r = first * tile_rows;
    for (; r + tile_rows <= end; r += tile_rows)
      tile_row<tile_rows>(left, right, depth, cols, start, r, store);
    for (; r < end; ++r) tile_row<1>(left, right, depth, cols, start, r, store);
  });
}

// The transpose of a row-major [rows, cols] matrix, so that a product can read it row by row.
template <typename T> std::vector<T> transposed(const T* m, int rows, int cols) {
  std::vector<T> t(std::size_t(rows) * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t[std::size_t(c) * rows + r] = m[std::size_t(r) * cols + c];
  return t;
}

}  // namespace

// y = act(b + x W^T): L = x [n, in], R = W^T [in, out].
template <typename T>
void dense_forward(const DenseShape& s, const T* x, const T* w, const T* b, T* y,
                   const Activation& epilogue) {
  if (s.n <= 0) return;
  const std::vector<T> w_t = transposed(w, s.out, s.in);
  multiply(s.n, s.in, s.out, Operand<T>{x, s.in}, Operand<T>{w_t.data(), s.out}, b,
           [&](int r, int o, double sum) {
             y[std::size_t(r) * s.out + o] = T(activation_apply(epilogue, sum));
           });
}

// dx = dy W: L = dy [n, out], R = W [out, in].
template <typename T>
void dense_backward_data(const DenseShape& s, const T* dy, const T* w, T* dx) {
  multiply(s.n, s.out, s.in, Operand<T>{dy, s.out}, Operand<T>{w, s.in},
           static_cast<const T*>(nullptr),
           [&](int r, int i, double sum) { dx[std::size_t(r) * s.in + i] = T(sum); });
}

// dW += dy^T x: L = dy^T [out, n], R = x [n, in]; the sum is formed first, then added to dW.
template <typename T>
void dense_backward_weight(const DenseShape& s, const T* x, const T* dy, T* dw) {
  if (s.n <= 0) return;
  const std::vector<T> dy_t = transposed(dy, s.n, s.out);
  multiply(s.out, s.n, s.in, Operand<T>{dy_t.data(), s.n}, Operand<T>{x, s.in},
           static_cast<const T*>(nullptr), [&](int o, int i, double sum) {
             T& grad = dw[std::size_t(o) * s.in + i];
             grad = T(double(grad) + sum);
           });
}

template <typename T> void dense_backward_bias(const DenseShape& s, const T* dy, T* db) {
  for (int o = 0; o < s.out; ++o) {
    double sum = 0;
    for (int r = 0; r < s.n; ++r) sum += double(dy[std::size_t(r) * s.out + o]);
    db[o] = T(double(db[o]) + sum);
  }
}

#define SGAN_INSTANTIATE_DENSE(T)                                                                  \
  template void dense_forward<T>(const DenseShape&, const T*, const T*, const T*, T*,              \
                                 const Activation&);                                               \
  template void dense_backward_data<T>(const DenseShape&, const T*, const T*, T*);                 \
  template void dense_backward_weight<T>(const DenseShape&, const T*, const T*, T*);               \
  template void dense_backward_bias<T>(const DenseShape&, const T*, T*);
SGAN_INSTANTIATE_DENSE(float)
SGAN_INSTANTIATE_DENSE(double)
#undef SGAN_INSTANTIATE_DENSE

} // namespace sgan::cpu
