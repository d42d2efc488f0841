// The dense reference: direct loops over kernels/dense.h's formulas, every sum accumulated in
// double whatever T is.
#include "kernels/dense.h"

namespace sgan::cpu {

template <typename T>
void dense_forward(const DenseShape& s, const T* x, const T* w, const T* b, T* y,
                   const Activation& epilogue) {
  for (int r = 0; r < s.n; ++r) {
    const T* x_row = x + std::size_t(r) * s.in;
    for (int o = 0; o < s.out; ++o) {
      const T* w_row = w + std::size_t(o) * s.in;
      double sum = b ? double(b[o]) : 0.0;
      for (int i = 0; i < s.in; ++i) sum += double(x_row[i]) * double(w_row[i]);
      y[std::size_t(r) * s.out + o] = T(activation_apply(epilogue, sum));
    }
  }
}

template <typename T>
void dense_backward_data(const DenseShape& s, const T* dy, const T* w, T* dx) {
  for (int r = 0; r < s.n; ++r) {
    const T* dy_row = dy + std::size_t(r) * s.out;
    for (int i = 0; i < s.in; ++i) {
      double sum = 0;
      for (int o = 0; o < s.out; ++o)
        sum += double(dy_row[o]) * double(w[std::size_t(o) * s.in + i]);
      dx[std::size_t(r) * s.in + i] = T(sum);
    }
  }
}

template <typename T>
void dense_backward_weight(const DenseShape& s, const T* x, const T* dy, T* dw) {
  for (int o = 0; o < s.out; ++o) {
    for (int i = 0; i < s.in; ++i) {
      double sum = 0;
      for (int r = 0; r < s.n; ++r)
        sum += double(dy[std::size_t(r) * s.out + o]) * double(x[std::size_t(r) * s.in + i]);
      T& grad = dw[std::size_t(o) * s.in + i];
      grad = T(double(grad) + sum);
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
