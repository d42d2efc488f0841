#pragma once
// The sliding window that conv2d and conv_transpose2d share, and the three sums over it that
// their six CPU directions are (kernels/cpu/conv2d.cpp, kernels/cpu/conv_transpose2d.cpp).
//
// A kh x kw kernel slides with `stride` over a "large" image so that pixel (a, b) of the "small"
// image sees the large pixels (a stride - pad_top + i, b stride - pad_left + j); large pixels
// outside the image are zeros. conv2d maps large to small (x is large, y small), its transpose
// small to large (x small, y large). In both, the weight is [small_channels, large_channels, kh,
// kw]: conv2d's [c_out, c_in, .], conv_transpose2d's [c_in, c_out, .].
//
// Each sum is a matrix product (kernels/cpu/matrix_product.h) over gathered copies of one image,
// or, where there are too few small channels for a product to reuse its copies, a direct sum over
// zero-padded planes, with the terms of every element in the order (channel, i, j), or (image, a,
// b) for the weight gradient, ascending. The copies hold zeros where the plain loops skip a tap
// that reads outside the image; adding 0 w instead of skipping it leaves every sum's bits
// unchanged, except that a sum standing at exactly -0 (a bias of -0 before any other term) becomes
// +0, and an infinite weight meeting padding gives NaN.
#include "kernels/activation.h"

#include <cstddef>

namespace sgan::cpu {

struct Window {
  int n = 0;
  int large_channels = 0, large_h = 0, large_w = 0;
  int small_channels = 0, small_h = 0, small_w = 0;
  int kh = 0, kw = 0, stride = 1, pad_top = 0, pad_left = 0;
};

// small_out[n, s, a, b] = act(start[s] + sum_{l, i, j} large[n, l, a stride - pad_top + i,
//                                                            b stride - pad_left + j] w[s, l, i,
//                                                            j])
// conv2d forward, conv_transpose2d backward-data. start may be null (0).
template <typename T>
void window_reduce(const Window& window, const T* large, const T* w, const T* start, T* small_out,
                   const Activation& epilogue);

// large_out[n, l, q, r] = act(start[l] + sum over (s, i, j) and the small pixels (a, b) with
//                         q = a stride - pad_top + i, r = b stride - pad_left + j of
//                         small[n, s, a, b] w[s, l, i, j])
// conv_transpose2d forward, conv2d backward-data. Computed one stride phase (q mod stride,
// r mod stride) at a time, over the taps of that phase only, so a stride-2 kernel adds no
// zero-inserted terms.
template <typename T>
void window_spread(const Window& window, const T* small, const T* w, const T* start, T* large_out,
                   const Activation& epilogue);

// dw[s, l, i, j] += sum_{n, a, b} small[n, s, a, b] large[n, l, a stride - pad_top + i,
//                                                      b stride - pad_left + j]
// Both backward-weights (conv2d: small = dy, large = x; conv_transpose2d: small = x, large = dy).
// The sum is formed first, then added to dw.
template <typename T>
void window_weight_gradient(const Window& window, const T* small, const T* large, T* dw);

// db[c] += sum_{n, p} dy[n, c, p] for dy [n, channels, pixels]: both bias gradients.
template <typename T>
void add_channel_sums(int n, int channels, std::size_t pixels, const T* dy, T* db);

} // namespace sgan::cpu
