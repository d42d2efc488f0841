// The conv2d reference: every direction written as the sum in kernels/conv2d.h, accumulated in
// double. Reads outside the input are skipped (they are zeros).
//
// It is also the CPU backend's training kernel, so each loop computes `block` neighbouring
// channels at once: their sums are independent chains (one running sum is latency-bound) and
// share every load of the other operand; images (forward, backward-data) or blocks of output
// channels (backward-weight) run on parallel threads (kernels/cpu/parallel.h). Each element's sum
// still runs over its terms in the order of the plain loops on one thread, so the results are
// exactly theirs, for any thread count.
#include "kernels/conv2d.h"

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

template <typename T>
void conv2d_forward(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y,
                    const Activation& epilogue) {
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
                const int ih = oh * s.stride - s.pad_top + i;
                if (!inside(ih, s.h_in)) continue;
                for (int j = 0; j < s.kw; ++j) {
                  const int iw = ow * s.stride - s.pad_left + j;
                  if (!inside(iw, s.w_in)) continue;
                  const double xv = double(x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]);
                  for (int k = 0; k < cos; ++k)
                    sum[k] += xv * double(w[index4(co0 + k, ci, i, j, s.c_in, s.kh, s.kw)]);
                }
              }
            for (int k = 0; k < cos; ++k)
              y[index4(n, co0 + k, oh, ow, s.c_out, s.h_out, s.w_out)] =
                  T(activation_apply(epilogue, sum[k]));
          }
      }
  });
}

// dx[n, ci, ih, iw] gathers dy[n, co, oh, ow] over the taps (i, j) with ih = oh s - pad_top + i,
// i.e. oh = (ih + pad_top - i) / s where that division is exact.
template <typename T>
void conv2d_backward_data(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  parallel_for(s.n, s.macs() / std::max(1, s.n), [&](int first, int last) {
    for (int n = first; n < last; ++n)
      for (int ci0 = 0; ci0 < s.c_in; ci0 += block) {
        const int cis = std::min(block, s.c_in - ci0);
        for (int ih = 0; ih < s.h_in; ++ih)
          for (int iw = 0; iw < s.w_in; ++iw) {
            double sum[block] = {};
            for (int co = 0; co < s.c_out; ++co)
              for (int i = 0; i < s.kh; ++i) {
                const int th = ih + s.pad_top - i;
                if (th < 0 || th % s.stride != 0 || !inside(th / s.stride, s.h_out)) continue;
                const int oh = th / s.stride;
                for (int j = 0; j < s.kw; ++j) {
                  const int tw = iw + s.pad_left - j;
                  if (tw < 0 || tw % s.stride != 0 || !inside(tw / s.stride, s.w_out)) continue;
                  const int ow = tw / s.stride;
                  const double g = double(dy[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)]);
                  for (int k = 0; k < cis; ++k)
                    sum[k] += g * double(w[index4(co, ci0 + k, i, j, s.c_in, s.kh, s.kw)]);
                }
              }
            for (int k = 0; k < cis; ++k)
              dx[index4(n, ci0 + k, ih, iw, s.c_in, s.h_in, s.w_in)] = T(sum[k]);
          }
      }
  });
}

template <typename T>
void conv2d_backward_weight(const Conv2dShape& s, const T* x, const T* dy, T* dw) {
  parallel_for(
      (s.c_out + block - 1) / block, s.macs() * block / std::max(1, s.c_out),
      [&](int first, int last) {
        for (int co0 = first * block; co0 < std::min(s.c_out, last * block); co0 += block) {
          const int cos = std::min(block, s.c_out - co0);
          for (int ci = 0; ci < s.c_in; ++ci)
            for (int i = 0; i < s.kh; ++i)
              for (int j = 0; j < s.kw; ++j) {
                double sum[block] = {};
                for (int n = 0; n < s.n; ++n)
                  for (int oh = 0; oh < s.h_out; ++oh) {
                    const int ih = oh * s.stride - s.pad_top + i;
                    if (!inside(ih, s.h_in)) continue;
                    for (int ow = 0; ow < s.w_out; ++ow) {
                      const int iw = ow * s.stride - s.pad_left + j;
                      if (!inside(iw, s.w_in)) continue;
                      const double xv = double(x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]);
                      for (int k = 0; k < cos; ++k)
                        sum[k] +=
                            double(dy[index4(n, co0 + k, oh, ow, s.c_out, s.h_out, s.w_out)]) * xv;
                    }
                  }
                for (int k = 0; k < cos; ++k) {
                  T& g = dw[index4(co0 + k, ci, i, j, s.c_in, s.kh, s.kw)];
                  g = T(double(g) + sum[k]);
                }
              }
        }
      });
}

template <typename T> void conv2d_backward_bias(const Conv2dShape& s, const T* dy, T* db) {
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

#define SGAN_INSTANTIATE_CONV2D(T)                                                                 \
  template void conv2d_forward<T>(const Conv2dShape&, const T*, const T*, const T*, T*,            \
                                  const Activation&);                                              \
  template void conv2d_backward_data<T>(const Conv2dShape&, const T*, const T*, T*);               \
  template void conv2d_backward_weight<T>(const Conv2dShape&, const T*, const T*, T*);             \
  template void conv2d_backward_bias<T>(const Conv2dShape&, const T*, T*);
SGAN_INSTANTIATE_CONV2D(float)
SGAN_INSTANTIATE_CONV2D(double)
#undef SGAN_INSTANTIATE_CONV2D

} // namespace sgan::cpu
