// The conv_transpose2d reference, written from its own definition in kernels/conv_transpose2d.h
// in its own indices (not by calling conv2d), so the tests can check that the two really are
// adjoint. One output element at a time, accumulated in double.
#include "kernels/conv_transpose2d.h"

#include <cstddef>

namespace sgan::cpu {
namespace {

std::size_t index4(int a, int b, int c, int d, int size_b, int size_c, int size_d) {
  return ((std::size_t(a) * size_b + b) * size_c + c) * size_d + d;
}

bool inside(int i, int size) { return i >= 0 && i < size; }

} // namespace

// y[n, co, oh, ow] gathers the input pixels whose scattered kernel covers it: the taps (i, j) with
// oh = ih s - pad_top + i, i.e. ih = (oh + pad_top - i) / s where that division is exact.
template <typename T>
void conv_transpose2d_forward(const ConvTranspose2dShape& s, const T* x, const T* w, const T* b,
                              T* y, const Activation& epilogue) {
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.c_out; ++co)
      for (int oh = 0; oh < s.h_out; ++oh)
        for (int ow = 0; ow < s.w_out; ++ow) {
          double sum = b ? double(b[co]) : 0.0;
          for (int ci = 0; ci < s.c_in; ++ci)
            for (int i = 0; i < s.kh; ++i) {
              const int th = oh + s.pad_top - i;
              if (th < 0 || th % s.stride != 0 || !inside(th / s.stride, s.h_in)) continue;
              const int ih = th / s.stride;
              for (int j = 0; j < s.kw; ++j) {
                const int tw = ow + s.pad_left - j;
                if (tw < 0 || tw % s.stride != 0 || !inside(tw / s.stride, s.w_in)) continue;
                const int iw = tw / s.stride;
                sum += double(x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]) *
                       double(w[index4(ci, co, i, j, s.c_out, s.kh, s.kw)]);
              }
            }
          y[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)] = T(activation_apply(epilogue, sum));
        }
}

// dx[n, ci, ih, iw] = sum_{co, i, j} dy[n, co, ih s - pad_top + i, iw s - pad_left + j] w[ci, co,
// i, j]
template <typename T>
void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const T* dy, const T* w, T* dx) {
  for (int n = 0; n < s.n; ++n)
    for (int ci = 0; ci < s.c_in; ++ci)
      for (int ih = 0; ih < s.h_in; ++ih)
        for (int iw = 0; iw < s.w_in; ++iw) {
          double sum = 0.0;
          for (int co = 0; co < s.c_out; ++co)
            for (int i = 0; i < s.kh; ++i) {
              const int oh = ih * s.stride - s.pad_top + i;
              if (!inside(oh, s.h_out)) continue;
              for (int j = 0; j < s.kw; ++j) {
                const int ow = iw * s.stride - s.pad_left + j;
                if (!inside(ow, s.w_out)) continue;
                sum += double(dy[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)]) *
                       double(w[index4(ci, co, i, j, s.c_out, s.kh, s.kw)]);
              }
            }
          dx[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)] = T(sum);
        }
}

template <typename T>
void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const T* x, const T* dy,
                                      T* dw) {
  for (int ci = 0; ci < s.c_in; ++ci)
    for (int co = 0; co < s.c_out; ++co)
      for (int i = 0; i < s.kh; ++i)
        for (int j = 0; j < s.kw; ++j) {
          double sum = 0.0;
          for (int n = 0; n < s.n; ++n)
            for (int ih = 0; ih < s.h_in; ++ih) {
              const int oh = ih * s.stride - s.pad_top + i;
              if (!inside(oh, s.h_out)) continue;
              for (int iw = 0; iw < s.w_in; ++iw) {
                const int ow = iw * s.stride - s.pad_left + j;
                if (!inside(ow, s.w_out)) continue;
                sum += double(x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]) *
                       double(dy[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)]);
              }
            }
          T& g = dw[index4(ci, co, i, j, s.c_out, s.kh, s.kw)];
          g = T(double(g) + sum);
        }
}

template <typename T>
void conv_transpose2d_backward_bias(const ConvTranspose2dShape& s, const T* dy, T* db) {
  const std::size_t pixels = std::size_t(s.h_out) * s.w_out;
  for (int co = 0; co < s.c_out; ++co) {
    double sum = 0.0;
    for (int n = 0; n < s.n; ++n) {
      const T* plane = dy + index4(n, co, 0, 0, s.c_out, s.h_out, s.w_out);
      for (std::size_t p = 0; p < pixels; ++p) sum += double(plane[p]);
    }
    db[co] = T(double(db[co]) + sum);
  }
}

#define SGAN_INSTANTIATE_CONV_TRANSPOSE2D(T)                                                       \
  template void conv_transpose2d_forward<T>(const ConvTranspose2dShape&, const T*, const T*,       \
                                            const T*, T*, const Activation&);                      \
  template void conv_transpose2d_backward_data<T>(const ConvTranspose2dShape&, const T*, const T*, \
                                                  T*);                                             \
  template void conv_transpose2d_backward_weight<T>(const ConvTranspose2dShape&, const T*,         \
                                                    const T*, T*);                                 \
  template void conv_transpose2d_backward_bias<T>(const ConvTranspose2dShape&, const T*, T*);
SGAN_INSTANTIATE_CONV_TRANSPOSE2D(float)
SGAN_INSTANTIATE_CONV_TRANSPOSE2D(double)
#undef SGAN_INSTANTIATE_CONV_TRANSPOSE2D

} // namespace sgan::cpu
