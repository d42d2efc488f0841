// The window sums of kernels/cpu/window.h as matrix products over gathered copies of one image.
// Images (reduce, spread) or blocks of weight columns (weight gradient) run on parallel threads,
// each with its own copy buffers; every element's sum is computed by one thread in the order of
// the plain loops, so the results do not depend on the thread count.
#include "kernels/cpu/window.h"

#include "kernels/cpu/matrix_product.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace sgan::cpu {
namespace {

bool inside(int i, int size) { return i >= 0 && i < size; }

std::size_t large_image(const Window& w) {
  return std::size_t(w.large_channels) * w.large_h * w.large_w;
}
std::size_t small_image(const Window& w) {
  return std::size_t(w.small_channels) * w.small_h * w.small_w;
}

// Of each of the three sums: every small pixel meets every tap.
double multiply_adds_per_image(const Window& w) {
  return double(w.small_channels) * w.small_h * w.small_w * w.large_channels * w.kh * w.kw;
}

// The b in [0, count) whose b stride + offset falls in [0, size): [first, last), maybe empty.
struct Span {
  int first, last;
};
Span span_inside(int offset, int stride, int count, int size) {
  const int first = std::min(count, offset >= 0 ? 0 : (-offset + stride - 1) / stride);
  const int last = size - 1 - offset < 0 ? 0 : std::min(count, (size - 1 - offset) / stride + 1);
  return {first, std::max(first, last)};
}

// out[b] = in[b stride + offset] for b in span, 0 for the rest of [0, count); returns out + count.
template <typename T, typename U>
U* copy_row(const T* in, int offset, int stride, int count, Span span, U* out) {
  U* const end = out + count;
  out = std::fill_n(out, span.first, U(0));
  for (int b = span.first; b < span.last; ++b) *out++ = U(in[b * stride + offset]);
  std::fill(out, end, U(0));
  return end;
}

// columns[(l, i, j), (a, b)] = image[l, a stride - pad_top + i, b stride - pad_left + j], 0
// outside: the [large_channels kh kw, small_h small_w] matrix that the weight [small_channels,
// large_channels kh kw] multiplies in window_reduce.
template <typename T> void gather_columns(const Window& w, const T* image, double* columns) {
  for (int l = 0; l < w.large_channels; ++l)
    for (int i = 0; i < w.kh; ++i)
      for (int j = 0; j < w.kw; ++j) {
        const Span span = span_inside(j - w.pad_left, w.stride, w.small_w, w.large_w);
        for (int a = 0; a < w.small_h; ++a) {
          const int q = a * w.stride - w.pad_top + i;
          if (inside(q, w.large_h))
            columns = copy_row(image + (std::size_t(l) * w.large_h + q) * w.large_w, j - w.pad_left,
                               w.stride, w.small_w, span, columns);
          else
            columns = std::fill_n(columns, w.small_w, 0.0);
        }
      }
}

// rows[(a, b), c - first] for the weight columns c = (l, i, j) in [first, last): the transpose of
// gather_columns' matrix, restricted to those columns.
template <typename T>
void gather_rows(const Window& w, const T* image, int first, int last, double* rows) {
  const int width = last - first;
  for (int c = first; c < last; ++c) {
    const int l = c / (w.kh * w.kw), i = c / w.kw % w.kh, j = c % w.kw;
    double* column = rows + (c - first);
    const Span span = span_inside(j - w.pad_left, w.stride, w.small_w, w.large_w);
    for (int a = 0; a < w.small_h; ++a) {
      const int q = a * w.stride - w.pad_top + i;
      const bool row_inside = inside(q, w.large_h);
      const T* row = row_inside ? image + (std::size_t(l) * w.large_h + q) * w.large_w : nullptr;
      for (int b = 0; b < w.small_w; ++b, column += width)
        *column = row_inside && b >= span.first && b < span.last
                      ? double(row[b * w.stride + j - w.pad_left])
                      : 0.0;
    }
  }
}

// The copies the products read (gathered windows, rearranged weights) are in double: each value
// is converted once, not at each of its uses in the inner loop (1.4-1.6x faster on the article's
// layers). But a product of fewer rows than a tile reads each copied value fewer than tile_rows
// times: bound by memory, where double's twice the bytes made it 2x slower (the article's
// 1-channel layers). So such a spread copies in T, and such a reduce or weight gradient is not a
// product of gathered copies at all but a direct sum over zero-padded planes (below).
bool few_rows(int product_rows) { return product_rows < matrix_product_detail::tile_rows; }

// One channel of a large image with zeros around it: plane[u, v] = channel[u - pad_top, v -
// pad_left], 0 outside; h x w covers every tap of every small pixel, plus extra_cols columns.
struct Plane {
  int h, w;
  std::size_t size() const { return std::size_t(h) * w; }
};
Plane padded_plane(const Window& w, int extra_cols) {
  return {(w.small_h - 1) * w.stride + w.kh, (w.small_w - 1) * w.stride + w.kw + extra_cols};
}
template <typename T> void pad(const Window& w, const T* channel, Plane p, double* plane) {
  for (int u = 0; u < p.h; ++u) {
    const int q = u - w.pad_top;
    for (int v = 0; v < p.w; ++v) {
      const int r = v - w.pad_left;
      *plane++ = inside(q, w.large_h) && inside(r, w.large_w)
                     ? double(channel[std::size_t(q) * w.large_w + r])
                     : 0.0;
    }
  }
}

// The large pixels q = first, first + stride, ... < size whose taps are i = phase, phase + stride,
// ... < kernel: q + pad = i (mod stride), i.e. first = (phase - pad) mod stride.
// Tap phase + t stride of large pixel first + m stride reads small pixel small_first + m - t.
struct Phase {
  int phase, first, pixels, taps, small_first;
};
Phase phase_of(int phase, int pad, int stride, int size, int kernel) {
  const int first = ((phase - pad) % stride + stride) % stride;
  return {phase, first, first < size ? (size - 1 - first) / stride + 1 : 0,
          phase < kernel ? (kernel - 1 - phase) / stride + 1 : 0, (first + pad - phase) / stride};
}

template <typename T>
void reduce_by_product(const Window& w, const T* large, const T* weight, const T* start,
                       T* small_out, const Activation& epilogue) {
  const int depth = w.large_channels * w.kh * w.kw;
  const int pixels = w.small_h * w.small_w;
  const std::vector<double> left(weight, weight + std::size_t(w.small_channels) * depth);
  parallel_for(w.n, multiply_adds_per_image(w), [&](int first, int last) {
    std::vector<double> columns(std::size_t(depth) * pixels);
    for (int n = first; n < last; ++n) {
      gather_columns(w, large + n * large_image(w), columns.data());
      T* out = small_out + n * small_image(w);
      multiply_rows(0, w.small_channels, depth, pixels, Operand<double>{left.data(), depth},
                    Operand<double>{columns.data(), pixels}, Start<T>{start, 1, 0},
                    [&](int s, int p, double sum) {
                      out[std::size_t(s) * pixels + p] = T(activation_apply(epilogue, sum));
                    });
    }
  });
}

// For the phase (ph, pw), large pixel (q, r) = (first_h + m stride, first_w + m' stride) takes the
// taps (i, j) = (ph + t stride, pw + t' stride), each reading small pixel ((q + pad_top - i) /
// stride, (r + pad_left - j) / stride), an exact division. L is the weight restricted to those
// taps, [large_channels, small_channels taps_h taps_w]; R the small pixels they read, 0 outside.
template <typename U, typename T>
void spread_in(const Window& w, const T* small, const T* weight, const T* start, T* large_out,
               const Activation& epilogue) {
  struct PhaseProduct {
    Phase rows, cols;
    std::vector<std::size_t> targets; // of the product's columns: q large_w + r
    int depth;
    std::vector<U> left;
  };
  std::vector<PhaseProduct> phases;
  for (int ph = 0; ph < w.stride; ++ph)
    for (int pw = 0; pw < w.stride; ++pw) {
      PhaseProduct p{phase_of(ph, w.pad_top, w.stride, w.large_h, w.kh),
                     phase_of(pw, w.pad_left, w.stride, w.large_w, w.kw),
                     {},
                     0,
                     {}};
      if (p.rows.pixels == 0 || p.cols.pixels == 0) continue;
      for (int mq = 0; mq < p.rows.pixels; ++mq)
        for (int mr = 0; mr < p.cols.pixels; ++mr)
          p.targets.push_back(std::size_t(p.rows.first + mq * w.stride) * w.large_w + p.cols.first +
                              mr * w.stride);
      p.depth = w.small_channels * p.rows.taps * p.cols.taps;
      p.left.reserve(std::size_t(w.large_channels) * p.depth);
      for (int l = 0; l < w.large_channels; ++l)
        for (int s = 0; s < w.small_channels; ++s)
          for (int ti = 0; ti < p.rows.taps; ++ti)
            for (int tj = 0; tj < p.cols.taps; ++tj) {
              const int i = ph + ti * w.stride, j = pw + tj * w.stride;
              p.left.push_back(
                  weight[((std::size_t(s) * w.large_channels + l) * w.kh + i) * w.kw + j]);
            }
      phases.push_back(std::move(p));
    }
  parallel_for(w.n, multiply_adds_per_image(w), [&](int first, int last) {
    std::vector<U> right;
    for (int n = first; n < last; ++n) {
      const T* image = small + n * small_image(w);
      T* out = large_out + n * large_image(w);
      for (const PhaseProduct& p : phases) {
        const int pixels = p.rows.pixels * p.cols.pixels;
        right.resize(std::size_t(p.depth) * pixels);
        U* r_next = right.data();
        for (int s = 0; s < w.small_channels; ++s)
          for (int ti = 0; ti < p.rows.taps; ++ti)
            for (int tj = 0; tj < p.cols.taps; ++tj) {
              const int b0 = p.cols.small_first - tj;
              const Span span = span_inside(b0, 1, p.cols.pixels, w.small_w);
              for (int mq = 0; mq < p.rows.pixels; ++mq) {
                const int a = p.rows.small_first + mq - ti;
                if (inside(a, w.small_h))
                  r_next = copy_row(image + (std::size_t(s) * w.small_h + a) * w.small_w, b0, 1,
                                    p.cols.pixels, span, r_next);
                else
                  r_next = std::fill_n(r_next, p.cols.pixels, U(0));
              }
            }
        multiply_rows(0, w.large_channels, p.depth, pixels, Operand<U>{p.left.data(), p.depth},
                      Operand<U>{right.data(), pixels}, Start<T>{start, 1, 0},
                      [&](int l, int m, double sum) {
                        out[std::size_t(l) * w.large_h * w.large_w + p.targets[m]] =
                            T(activation_apply(epilogue, sum));
                      });
      }
    }
  });
}

// dW [small_channels, large_channels kh kw] = sum_n small[n] [small_channels, small_h small_w]
// times gather_rows(large[n]) [small_h small_w, large_channels kh kw]; each thread takes a block
// of weight columns over all images, carrying its sums from one image to the next in double.
template <typename T>
void weight_gradient_by_product(const Window& w, const T* small, const T* large, T* dw) {
  const int columns = w.large_channels * w.kh * w.kw;
  const int pixels = w.small_h * w.small_w;
  parallel_for(columns, w.n * multiply_adds_per_image(w) / columns, [&](int first, int last) {
    const int width = last - first;
    std::vector<double> left(small_image(w)), rows(std::size_t(pixels) * width);
    std::vector<double> sums(std::size_t(w.small_channels) * width, 0.0);
    for (int n = 0; n < w.n; ++n) {
      const T* image = small + n * small_image(w);
      std::copy(image, image + small_image(w), left.begin());
      gather_rows(w, large + n * large_image(w), first, last, rows.data());
      multiply_rows(0, w.small_channels, pixels, width, Operand<double>{left.data(), pixels},
                    Operand<double>{rows.data(), width}, Start<double>{sums.data(), width, 1},
                    [&](int s, int c, double sum) { sums[std::size_t(s) * width + c] = sum; });
    }
    for (int s = 0; s < w.small_channels; ++s)
      for (int c = 0; c < width; ++c) {
        T& g = dw[std::size_t(s) * columns + first + c];
        g = T(double(g) + sums[std::size_t(s) * width + c]);
      }
  });
}

// window_reduce for few small channels: for each, sums[a, b] = start + the terms w[s, l, i, j]
// plane_l[a stride + i, b stride + j] over (l, i, j) ascending, the product's order and zeros,
// each term a run over a whole row of small pixels.
template <typename T>
void reduce_direct(const Window& w, const T* large, const T* weight, const T* start, T* small_out,
                   const Activation& epilogue) {
  const Plane p = padded_plane(w, 0);
  const int pixels = w.small_h * w.small_w;
  parallel_for(w.n, multiply_adds_per_image(w), [&](int first, int last) {
    std::vector<double> plane(p.size()), sums(pixels);
    for (int n = first; n < last; ++n)
      for (int s = 0; s < w.small_channels; ++s) {
        std::fill(sums.begin(), sums.end(), start ? double(start[s]) : 0.0);
        for (int l = 0; l < w.large_channels; ++l) {
          pad(w, large + n * large_image(w) + std::size_t(l) * w.large_h * w.large_w, p,
              plane.data());
          for (int i = 0; i < w.kh; ++i)
            for (int j = 0; j < w.kw; ++j) {
              const double tap =
                  double(weight[((std::size_t(s) * w.large_channels + l) * w.kh + i) * w.kw + j]);
              for (int a = 0; a < w.small_h; ++a) {
                const double* in = plane.data() + std::size_t(a * w.stride + i) * p.w + j;
                double* row = sums.data() + std::size_t(a) * w.small_w;
                for (int b = 0; b < w.small_w; ++b) row[b] += tap * in[b * w.stride];
              }
            }
        }
        T* out = small_out + n * small_image(w) + std::size_t(s) * pixels;
        for (int q = 0; q < pixels; ++q) out[q] = T(activation_apply(epilogue, sums[q]));
      }
  });
}

// window_weight_gradient for few small channels, each thread a block of large channels: for tap
// row i and the taps j0 .. j0 + 7, the terms of small row a are a 1 x 8 tile product with L =
// small[n, s, a, :] and R[b, c] = plane[a stride + i, b stride + j0 + c] (a row every stride
// values), started from the running sums: the same terms in the same (n, a, b) order as the
// product of gathered rows, without copying every window.
template <typename T>
void weight_gradient_direct(const Window& w, const T* small, const T* large, T* dw) {
  using matrix_product_detail::tile_cols;
  const int tap_cols = (w.kw + tile_cols - 1) / tile_cols * tile_cols;
  const Plane p = padded_plane(w, tap_cols - w.kw);
  const int pixels = w.small_h * w.small_w;
  parallel_for(
      w.large_channels, w.n * multiply_adds_per_image(w) / w.large_channels,
      [&](int first, int last) {
        std::vector<double> plane(p.size());
        std::vector<double> sums(std::size_t(w.small_channels) * w.kh * tap_cols);
        for (int l = first; l < last; ++l) {
          std::fill(sums.begin(), sums.end(), 0.0);
          for (int n = 0; n < w.n; ++n) {
            pad(w, large + n * large_image(w) + std::size_t(l) * w.large_h * w.large_w, p,
                plane.data());
            for (int s = 0; s < w.small_channels; ++s)
              for (int i = 0; i < w.kh; ++i)
                for (int j0 = 0; j0 < tap_cols; j0 += tile_cols) {
                  double* running = sums.data() + (std::size_t(s) * w.kh + i) * tap_cols + j0;
                  for (int a = 0; a < w.small_h; ++a) {
                    const T* dy_row = small + n * small_image(w) + std::size_t(s) * pixels +
                                      std::size_t(a) * w.small_w;
                    double sum[1][tile_cols];
                    matrix_product_detail::tile_sums(
                        Operand<T>{dy_row, 0},
                        Operand<double>{plane.data() + std::size_t(a * w.stride + i) * p.w + j0,
                                        w.stride},
                        w.small_w, Start<double>{running, 0, 1}, 0, 0, sum);
                    std::copy(sum[0], sum[0] + tile_cols, running);
                  }
                }
          }
          for (int s = 0; s < w.small_channels; ++s)
            for (int i = 0; i < w.kh; ++i)
              for (int j = 0; j < w.kw; ++j) {
                T& g = dw[((std::size_t(s) * w.large_channels + l) * w.kh + i) * w.kw + j];
                g = T(double(g) + sums[(std::size_t(s) * w.kh + i) * tap_cols + j]);
              }
        }
      });
}

} // namespace

template <typename T>
void window_reduce(const Window& w, const T* large, const T* weight, const T* start, T* small_out,
                   const Activation& epilogue) {
  if (few_rows(w.small_channels))
    reduce_direct(w, large, weight, start, small_out, epilogue);
  else
    reduce_by_product(w, large, weight, start, small_out, epilogue);
}

template <typename T>
void window_spread(const Window& w, const T* small, const T* weight, const T* start, T* large_out,
                   const Activation& epilogue) {
  if (few_rows(w.large_channels))
    spread_in<T>(w, small, weight, start, large_out, epilogue);
  else
    spread_in<double>(w, small, weight, start, large_out, epilogue);
}

template <typename T>
void window_weight_gradient(const Window& w, const T* small, const T* large, T* dw) {
  if (few_rows(w.small_channels))
    weight_gradient_direct(w, small, large, dw);
  else
    weight_gradient_by_product(w, small, large, dw);
}

template <typename T>
void add_channel_sums(int n, int channels, std::size_t pixels, const T* dy, T* db) {
  for (int c = 0; c < channels; ++c) {
    double sum = 0.0;
    for (int image = 0; image < n; ++image) {
      const T* plane = dy + (std::size_t(image) * channels + c) * pixels;
      for (std::size_t p = 0; p < pixels; ++p) sum += double(plane[p]);
    }
    db[c] = T(double(db[c]) + sum);
  }
}

#define SGAN_INSTANTIATE_WINDOW(T)                                                                 \
  template void window_reduce<T>(const Window&, const T*, const T*, const T*, T*,                  \
                                 const Activation&);                                               \
  template void window_spread<T>(const Window&, const T*, const T*, const T*, T*,                  \
                                 const Activation&);                                               \
  template void window_weight_gradient<T>(const Window&, const T*, const T*, T*);                  \
  template void add_channel_sums<T>(int, int, std::size_t, const T*, T*);
SGAN_INSTANTIATE_WINDOW(float)
SGAN_INSTANTIATE_WINDOW(double)
#undef SGAN_INSTANTIATE_WINDOW

} // namespace sgan::cpu
