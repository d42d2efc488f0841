// The dense reference: kernels/dense.h's formulas, every sum accumulated in double whatever T is.
//
// It is also the CPU backend's training kernel, so each direction is one matrix product P = L R
// in register tiles, blocks of rows on parallel threads (kernels/cpu/matrix_product.h). Every
// element's sum still runs over its index in ascending order on one thread, so the results are
// exactly those of the plain triple loops of kernels/dense.h, for any thread count.
#include "kernels/dense.h"

#include "kernels/cpu/matrix_product.h"

#include <vector>

namespace sgan::cpu {
namespace {

// The products read their operands in double, converted once here rather than at each of their
// uses in the inner loop: a copy of a row-major [rows, cols] matrix, and the copy of its transpose
// (so that a product can read it row by row).
template <typename T> std::vector<double> in_double(const T* m, int rows, int cols) {
  return std::vector<double>(m, m + std::size_t(rows) * cols);
}
template <typename T> std::vector<double> transposed(const T* m, int rows, int cols) {
  std::vector<double> t(std::size_t(rows) * cols);
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
  const std::vector<double> x_d = in_double(x, s.n, s.in), w_t = transposed(w, s.out, s.in);
  multiply(s.n, s.in, s.out, Operand<double>{x_d.data(), s.in}, Operand<double>{w_t.data(), s.out},
           Start<T>{b, 0, 1}, [&](int r, int o, double sum) {
             y[std::size_t(r) * s.out + o] = T(activation_apply(epilogue, sum));
           });
}

// dx = dy W: L = dy [n, out], R = W [out, in].
template <typename T>
void dense_backward_data(const DenseShape& s, const T* dy, const T* w, T* dx) {
  const std::vector<double> dy_d = in_double(dy, s.n, s.out), w_d = in_double(w, s.out, s.in);
  multiply(s.n, s.out, s.in, Operand<double>{dy_d.data(), s.out}, Operand<double>{w_d.data(), s.in},
           Start<T>{}, [&](int r, int i, double sum) { dx[std::size_t(r) * s.in + i] = T(sum); });
}

// dW += dy^T x: L = dy^T [out, n], R = x [n, in]; the sum is formed first, then added to dW.
template <typename T>
void dense_backward_weight(const DenseShape& s, const T* x, const T* dy, T* dw) {
  if (s.n <= 0) return;
  const std::vector<double> dy_t = transposed(dy, s.n, s.out), x_d = in_double(x, s.n, s.in);
  multiply(s.out, s.n, s.in, Operand<double>{dy_t.data(), s.n}, Operand<double>{x_d.data(), s.in},
           Start<T>{}, [&](int o, int i, double sum) {
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
