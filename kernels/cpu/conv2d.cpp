// The conv2d reference: every direction is a sum of kernels/conv2d.h accumulated in double,
// computed as one of the window sums of kernels/cpu/window.h with x as the large image and y as
// the small one. They are also the CPU backend's training kernels (register-tiled products,
// images or weight blocks on parallel threads); tests/kernels/cpu/conv_loops_test.cpp checks them
// bitwise against the plain loops of the definitions.
#include "kernels/conv2d.h"

#include "kernels/cpu/window.h"

#include <cstddef>

namespace sgan::cpu {
namespace {

Window window_of(const Conv2dShape& s) {
  return Window{s.n,     s.c_in, s.h_in, s.w_in,   s.c_out,   s.h_out,
                s.w_out, s.kh,   s.kw,   s.stride, s.pad_top, s.pad_left};
}

} // namespace

template <typename T>
void conv2d_forward(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y,
                    const Activation& epilogue) {
  window_reduce(window_of(s), x, w, b, y, epilogue);
}

template <typename T>
void conv2d_backward_data(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  window_spread(window_of(s), dy, w, static_cast<const T*>(nullptr), dx, Activation::identity());
}

template <typename T>
void conv2d_backward_weight(const Conv2dShape& s, const T* x, const T* dy, T* dw) {
  window_weight_gradient(window_of(s), dy, x, dw);
}

template <typename T> void conv2d_backward_bias(const Conv2dShape& s, const T* dy, T* db) {
  add_channel_sums(s.n, s.c_out, std::size_t(s.h_out) * s.w_out, dy, db);
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
