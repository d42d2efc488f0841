// The conv_transpose2d reference, written from its own definition in kernels/conv_transpose2d.h
// in its own indices (not by calling conv2d), so the tests can check that the two really are
// adjoint. Accumulated in double; as in the conv2d reference, each loop computes `block`
// neighbouring channels at once (independent sums sharing each load of the other operand), and
// images (forward, backward-data) or input channels (backward-weight) run on parallel threads,
// every element's sum running over its terms in the order of the plain loops on one thread.
#include "kernels/conv_transpose2d.h"

#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <cstddef>

namespace sgan::cpu {
namespace {

std::size_t index4(int a, int b, int c, int d, int size_b, int size_c, int size_d) {
  return ((std::size_t(a) * size_b + b) * size_c + c) * size_d + d;
}

bool inside(int i, int size) { return i >= 0 && i < size; }

constexpr int block = 4; // channels computed together

} // namespace

// y[n, co, oh, ow] gathers the input pixels whose scattered kernel covers it: the taps (i, j) with
// oh = ih s - pad_top + i, i.e. ih = (oh + pad_top - i) / s where that division is exact.
template <typename T>
void conv_transpose2d_forward(const ConvTranspose2dShape& s, const T* x, const T* w, const T* b,
                              T* y, const Activation& epilogue) {
  parallel_for(s.n, s.macs() / std::max(1, s.n), [&](int first, int last) {
    for (int n = first; n < last; ++n)
      for (int co0 = 0; co0 < s.c_out; co0 += block) {
        const int cos = std::min(block, s.c_out - co0);
        for (int oh = 0; oh < s.h_out; ++oh)
          for (int ow = 0; ow < s.w_out; ++ow) {
            double sum[block];
            for (int k = 0; k < cos; ++k) sum[k] = b ? double(b[co0 + k]) : 0.0;
            for (int ci = 0; ci < s.c_in; ++ci)
              for (int i = 0; i < s.kh; ++i) {
                const int th = oh + s.pad_top - i;
                if (th < 0 || th % s.stride != 0 || !inside(th / s.stride, s.h_in)) continue;
                const int ih = th / s.stride;
                for (int j = 0; j < s.kw; ++j) {
                  const int tw = ow + s.pad_left - j;
                  if (tw < 0 || tw % s.stride != 0 || !inside(tw / s.stride, s.w_in)) continue;
                  const int iw = tw / s.stride;
                  const double xv = double(x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]);
                  for (int k = 0; k < cos; ++k)
                    sum[k] += xv * double(w[index4(ci, co0 + k, i, j, s.c_out, s.kh, s.kw)]);
                }
              }
            for (int k = 0; k < cos; ++k)
              y[index4(n, co0 + k, oh, ow, s.c_out, s.h_out, s.w_out)] =
                  T(activation_apply(epilogue, sum[k]));
          }
      }
  });
}

// dx[n, ci, ih, iw] = sum_{co, i, j} dy[n, co, ih s - pad_top + i, iw s - pad_left + j] w[ci, co,
// i, j]
template <typename T>
void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const T* dy, const T* w, T* dx) {
  parallel_for(s.n, s.macs() / std::max(1, s.n), [&](int first, int last) {
    for (int n = first; n < last; ++n)
      for (int ci0 = 0; ci0 < s.c_in; ci0 += block) {
        const int cis = std::min(block, s.c_in - ci0);
        for (int ih = 0; ih < s.h_in; ++ih)
          for (int iw = 0; iw < s.w_in; ++iw) {
            double sum[block] = {};
            for (int co = 0; co < s.c_out; ++co)
              for (int i = 0; i < s.kh; ++i) {
                const int oh = ih * s.stride - s.pad_top + i;
                if (!inside(oh, s.h_out)) continue;
                for (int j = 0; j < s.kw; ++j) {
                  const int ow = iw * s.stride - s.pad_left + j;
                  if (!inside(ow, s.w_out)) continue;
                  const double g = double(dy[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)]);
                  for (int k = 0; k < cis; ++k)
                    sum[k] += g * double(w[index4(ci0 + k, co, i, j, s.c_out, s.kh, s.kw)]);
                }
              }
            for (int k = 0; k < cis; ++k)
              dx[index4(n, ci0 + k, ih, iw, s.c_in, s.h_in, s.w_in)] = T(sum[k]);
          }
      }
  });
}

template <typename T>
void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const T* x, const T* dy,
                                      T* dw) {
  parallel_for(s.c_in, s.macs() / std::max(1, s.c_in), [&](int first, int last) {
    for (int ci = first; ci < last; ++ci)
      for (int co0 = 0; co0 < s.c_out; co0 += block) {
        const int cos = std::min(block, s.c_out - co0);
        for (int i = 0; i < s.kh; ++i)
          for (int j = 0; j < s.kw; ++j) {
            double sum[block] = {};
            for (int n = 0; n < s.n; ++n)
              for (int ih = 0; ih < s.h_in; ++ih) {
                const int oh = ih * s.stride - s.pad_top + i;
                if (!inside(oh, s.h_out)) continue;
                for (int iw = 0; iw < s.w_in; ++iw) {
                  const int ow = iw * s.stride - s.pad_left + j;
                  if (!inside(ow, s.w_out)) continue;
                  const double xv = double(x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]);
                  for (int k = 0; k < cos; ++k)
                    sum[k] +=
                        xv * double(dy[index4(n, co0 + k, oh, ow, s.c_out, s.h_out, s.w_out)]);
                }
              }
            for (int k = 0; k < cos; ++k) {
              T& g = dw[index4(ci, co0 + k, i, j, s.c_out, s.kh, s.kw)];
              g = T(double(g) + sum[k]);
            }
          }
      }
  });
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
