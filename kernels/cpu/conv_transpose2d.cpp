// The conv_transpose2d reference: every direction is a sum of kernels/conv_transpose2d.h
// accumulated in double, computed as one of the window sums of kernels/cpu/window.h with y as the
// large image and x as the small one (the window of as_conv2d). conv2d's directions are the same
// sums with the roles of x and y exchanged, so the adjointness tests in
// conv_transpose2d_test.cpp exercise different sums (forward against conv2d forward is spread
// against reduce), and tests/kernels/cpu/conv_loops_test.cpp checks every direction bitwise
// against the plain loops of this file's own definition.
#include "kernels/conv_transpose2d.h"

#include "kernels/cpu/window.h"

#include <cstddef>

namespace sgan::cpu {
namespace {

Window window_of(const ConvTranspose2dShape& s) {
  return Window{s.n,    s.c_out, s.h_out, s.w_out,  s.c_in,    s.h_in,
                s.w_in, s.kh,    s.kw,    s.stride, s.pad_top, s.pad_left};
}

} // namespace

template <typename T>
void conv_transpose2d_forward(const ConvTranspose2dShape& s, const T* x, const T* w, const T* b,
                              T* y, const Activation& epilogue) {
  window_spread(window_of(s), x, w, b, y, epilogue);
}

template <typename T>
void conv_transpose2d_backward_data(const ConvTranspose2dShape& s, const T* dy, const T* w, T* dx) {
  window_reduce(window_of(s), dy, w, static_cast<const T*>(nullptr), dx, Activation::identity());
}

template <typename T>
void conv_transpose2d_backward_weight(const ConvTranspose2dShape& s, const T* x, const T* dy,
                                      T* dw) {
  window_weight_gradient(window_of(s), x, dy, dw);
}

template <typename T>
void conv_transpose2d_backward_bias(const ConvTranspose2dShape& s, const T* dy, T* db) {
  add_channel_sums(s.n, s.c_out, std::size_t(s.h_out) * s.w_out, dy, db);
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
