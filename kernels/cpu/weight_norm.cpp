// The weight-normalisation reference: kernels/weight_norm.h's formulas row by row, sums in double.
#include "kernels/weight_norm.h"

#include <cmath>

namespace sgan::cpu {

template <typename T>
void weight_norm_forward(const WeightNormShape& s, const T* v, const T* g, T* w, T* norm) {
  for (int r = 0; r < s.rows; ++r) {
    const T* v_row = v + std::size_t(r) * s.cols;
    double sum_sq = 0;
    for (int c = 0; c < s.cols; ++c) sum_sq += double(v_row[c]) * double(v_row[c]);
    const double length = std::sqrt(sum_sq);
    const double scale = double(g[r]) / length;
    for (int c = 0; c < s.cols; ++c) w[std::size_t(r) * s.cols + c] = T(scale * double(v_row[c]));
    norm[r] = T(length);
  }
}

template <typename T>
void weight_norm_backward(const WeightNormShape& s, const T* v, const T* g, const T* norm,
                          const T* dw, T* dv, T* dg) {
  for (int r = 0; r < s.rows; ++r) {
    const std::size_t row = std::size_t(r) * s.cols;
    const double length = double(norm[r]);
    double dot = 0;
    for (int c = 0; c < s.cols; ++c) dot += double(dw[row + c]) * double(v[row + c]);
    const double t = dot / length;
    dg[r] = T(double(dg[r]) + t);
    const double scale = double(g[r]) / length;
    for (int c = 0; c < s.cols; ++c) {
      const double grad = scale * (double(dw[row + c]) - t * double(v[row + c]) / length);
      dv[row + c] = T(double(dv[row + c]) + grad);
    }
  }
}

template void weight_norm_forward<float>(const WeightNormShape&, const float*, const float*, float*,
                                         float*);
template void weight_norm_forward<double>(const WeightNormShape&, const double*, const double*,
                                          double*, double*);
template void weight_norm_backward<float>(const WeightNormShape&, const float*, const float*,
                                          const float*, const float*, float*, float*);
template void weight_norm_backward<double>(const WeightNormShape&, const double*, const double*,
                                           const double*, const double*, double*, double*);

} // namespace sgan::cpu
