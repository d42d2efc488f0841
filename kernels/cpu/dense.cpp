// The dense reference: kernels/dense.h's formulas, every sum accumulated in double whatever T is.
//
// It is also the CPU backend's training kernel, so the loops are blocked: a single running sum is
// one chain of dependent multiply-adds (latency-bound), and a row-at-a-time loop streams all of W
// once per row (bandwidth-bound). Each block keeps several independent sums in flight and reuses
// every load across them. Every element's sum still runs over its index in ascending order, so
// the results are exactly those of the plain triple loop.
#include <algorithm>
#include <vector>

#include "kernels/dense.h"

namespace sgan::cpu {
namespace {

constexpr int block = 4;  // rows (or outputs) handled together

// y[r0 + a, o0 + c] for a < R, c < O: R * O independent sums over i.
template <int R, int O, typename T>
void forward_tile(const DenseShape& s, const T* x, const T* w, const T* b, T* y, int r0, int o0,
                  const Activation& epilogue) {
  double sum[R][O];
  for (int a = 0; a < R; ++a)
    for (int c = 0; c < O; ++c) sum[a][c] = b ? double(b[o0 + c]) : 0.0;
  const T* x_rows[R];
  const T* w_rows[O];
  for (int a = 0; a < R; ++a) x_rows[a] = x + std::size_t(r0 + a) * s.in;
  for (int c = 0; c < O; ++c) w_rows[c] = w + std::size_t(o0 + c) * s.in;
  for (int i = 0; i < s.in; ++i) {
    double xv[R], wv[O];
    for (int a = 0; a < R; ++a) xv[a] = double(x_rows[a][i]);
    for (int c = 0; c < O; ++c) wv[c] = double(w_rows[c][i]);
    for (int a = 0; a < R; ++a)
      for (int c = 0; c < O; ++c) sum[a][c] += xv[a] * wv[c];
  }
  for (int a = 0; a < R; ++a)
    for (int c = 0; c < O; ++c)
      y[std::size_t(r0 + a) * s.out + o0 + c] = T(activation_apply(epilogue, sum[a][c]));
}

template <int R, typename T>
void forward_rows(const DenseShape& s, const T* x, const T* w, const T* b, T* y, int r0,
                  const Activation& epilogue) {
  int o = 0;
  for (; o + block <= s.out; o += block) forward_tile<R, block>(s, x, w, b, y, r0, o, epilogue);
  for (; o < s.out; ++o) forward_tile<R, 1>(s, x, w, b, y, r0, o, epilogue);
}

}  // namespace

template <typename T>
void dense_forward(const DenseShape& s, const T* x, const T* w, const T* b, T* y,
                   const Activation& epilogue) {
  int r = 0;
  for (; r + block <= s.n; r += block) forward_rows<block>(s, x, w, b, y, r, epilogue);
  for (; r < s.n; ++r) forward_rows<1>(s, x, w, b, y, r, epilogue);
}

// dx[r, i] = sum_o dy[r, o] w[o, i]: for a block of rows, accumulate whole rows of dx over o, so
// each row of w is read once per block and the inner loop runs along contiguous memory.
template <typename T>
void dense_backward_data(const DenseShape& s, const T* dy, const T* w, T* dx) {
  std::vector<double> acc(std::size_t(block) * s.in);
  for (int r0 = 0; r0 < s.n; r0 += block) {
    const int rows = std::min(block, s.n - r0);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int o = 0; o < s.out; ++o) {
      const T* w_row = w + std::size_t(o) * s.in;
      for (int a = 0; a < rows; ++a) {
        const double d = double(dy[std::size_t(r0 + a) * s.out + o]);
        double* acc_row = acc.data() + std::size_t(a) * s.in;
        for (int i = 0; i < s.in; ++i) acc_row[i] += d * double(w_row[i]);
      }
    }
    for (int a = 0; a < rows; ++a)
      for (int i = 0; i < s.in; ++i)
        dx[std::size_t(r0 + a) * s.in + i] = T(acc[std::size_t(a) * s.in + i]);
  }
}

// dw[o, i] += sum_r dy[r, o] x[r, i]: for a block of outputs, accumulate whole rows of dw over r,
// reading each row of x once per block.
template <typename T>
void dense_backward_weight(const DenseShape& s, const T* x, const T* dy, T* dw) {
  std::vector<double> acc(std::size_t(block) * s.in);
  for (int o0 = 0; o0 < s.out; o0 += block) {
    const int outputs = std::min(block, s.out - o0);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int r = 0; r < s.n; ++r) {
      const T* x_row = x + std::size_t(r) * s.in;
      for (int c = 0; c < outputs; ++c) {
        const double d = double(dy[std::size_t(r) * s.out + o0 + c]);
        double* acc_row = acc.data() + std::size_t(c) * s.in;
        for (int i = 0; i < s.in; ++i) acc_row[i] += d * double(x_row[i]);
      }
    }
    for (int c = 0; c < outputs; ++c) {
      T* grad = dw + std::size_t(o0 + c) * s.in;
      for (int i = 0; i < s.in; ++i)
        grad[i] = T(double(grad[i]) + acc[std::size_t(c) * s.in + i]);
    }
  }
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
