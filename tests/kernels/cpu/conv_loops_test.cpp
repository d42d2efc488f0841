// The CPU convolutions against the plain loops of their definitions (kernels/conv2d.h,
// kernels/conv_transpose2d.h), bitwise: each direction computes every element's sum in double
// over its terms in the order the loops below take them, skipping taps that fall outside the
// image, so the gathered copies, the stride phases, the register tiles and the threads of
// kernels/cpu/window.cpp must not change a single bit. Checked in double, where any change in a
// sum's order changes its last bits, and in float, the training kernels' type. Each op's loops
// are written in its own indices. Cases: the SGAN layers at batch 2 and the awkward shapes of
// tests/support/conv_checks.h (odd sizes, strides 1 to 3, kernels smaller than the stride, unread
// and unreached edges), plus the SGAN layers at batch 9, large enough to run on several threads.
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "tests/support/compare.h"
#include "tests/support/conv_checks.h"

#include <cmath>
#include <cstddef>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

std::size_t index4(int a, int b, int c, int d, int size_b, int size_c, int size_d) {
  return ((std::size_t(a) * size_b + b) * size_c + c) * size_d + d;
}

bool inside(int i, int size) { return i >= 0 && i < size; }

template <typename T> struct Tensors { std::vector<T> x, w, b, dy, dw_initial; };

template <typename T, class Shape> Tensors<T> random_tensors(const Shape& s) {
  return {test::random_uniform<T>(s.x_size(), 31), test::random_uniform<T>(s.w_size(), 32),
          test::random_uniform<T>(s.c_out, 33), test::random_uniform<T>(s.y_size(), 34),
          test::random_uniform<T>(s.w_size(), 35)};
}

template <typename T> struct Results { std::vector<T> y, dx, dw; };

const Activation epilogue = Activation::tanh();

// y[n, co, oh, ow] = act(b[co] + sum_{ci, i, j} x[n, ci, oh s - pad_top + i, ow s - pad_left + j]
// w[co, ci, i, j]); dx and dw the same terms gathered by x's and w's index.
template <typename T> Results<T> conv2d_plain_loops(const Conv2dShape& s, const Tensors<T>& t) {
  Results<T> r{std::vector<T>(s.y_size()), std::vector<T>(s.x_size()), t.dw_initial};
  auto x_at = [&](int n, int ci, int ih, int iw) {
    return double(t.x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]);
  };
  auto w_at = [&](int co, int ci, int i, int j) {
    return double(t.w[index4(co, ci, i, j, s.c_in, s.kh, s.kw)]);
  };
  auto dy_at = [&](int n, int co, int oh, int ow) {
    return double(t.dy[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)]);
  };
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.c_out; ++co)
      for (int oh = 0; oh < s.h_out; ++oh)
        for (int ow = 0; ow < s.w_out; ++ow) {
          double sum = t.b[co];
          for (int ci = 0; ci < s.c_in; ++ci)
            for (int i = 0; i < s.kh; ++i)
              for (int j = 0; j < s.kw; ++j) {
                const int ih = oh * s.stride - s.pad_top + i, iw = ow * s.stride - s.pad_left + j;
                if (inside(ih, s.h_in) && inside(iw, s.w_in))
                  sum += x_at(n, ci, ih, iw) * w_at(co, ci, i, j);
              }
          r.y[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)] =
              T(activation_apply(epilogue, sum));
        }
  // dx[n, ci, ih, iw]: the (co, i, j) whose window puts tap (i, j) on (ih, iw).
  for (int n = 0; n < s.n; ++n)
    for (int ci = 0; ci < s.c_in; ++ci)
      for (int ih = 0; ih < s.h_in; ++ih)
        for (int iw = 0; iw < s.w_in; ++iw) {
          double sum = 0;
          for (int co = 0; co < s.c_out; ++co)
            for (int i = 0; i < s.kh; ++i)
              for (int j = 0; j < s.kw; ++j) {
                const int th = ih + s.pad_top - i, tw = iw + s.pad_left - j;
                if (th < 0 || tw < 0 || th % s.stride != 0 || tw % s.stride != 0) continue;
                const int oh = th / s.stride, ow = tw / s.stride;
                if (inside(oh, s.h_out) && inside(ow, s.w_out))
                  sum += dy_at(n, co, oh, ow) * w_at(co, ci, i, j);
              }
          r.dx[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)] = T(sum);
        }
  for (int co = 0; co < s.c_out; ++co)
    for (int ci = 0; ci < s.c_in; ++ci)
      for (int i = 0; i < s.kh; ++i)
        for (int j = 0; j < s.kw; ++j) {
          double sum = 0;
          for (int n = 0; n < s.n; ++n)
            for (int oh = 0; oh < s.h_out; ++oh)
              for (int ow = 0; ow < s.w_out; ++ow) {
                const int ih = oh * s.stride - s.pad_top + i, iw = ow * s.stride - s.pad_left + j;
                if (inside(ih, s.h_in) && inside(iw, s.w_in))
                  sum += dy_at(n, co, oh, ow) * x_at(n, ci, ih, iw);
              }
          T& g = r.dw[index4(co, ci, i, j, s.c_in, s.kh, s.kw)];
          g = T(double(g) + sum);
        }
  return r;
}

// y[n, co, oh, ow] = act(b[co] + sum over (ci, i, j) and the (ih, iw) with oh = ih s - pad_top + i,
// ow = iw s - pad_left + j of x[n, ci, ih, iw] w[ci, co, i, j]); dx and dw the same terms gathered
// by x's and w's index.
template <typename T>
Results<T> conv_transpose2d_plain_loops(const ConvTranspose2dShape& s, const Tensors<T>& t) {
  Results<T> r{std::vector<T>(s.y_size()), std::vector<T>(s.x_size()), t.dw_initial};
  auto x_at = [&](int n, int ci, int ih, int iw) {
    return double(t.x[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)]);
  };
  auto w_at = [&](int ci, int co, int i, int j) {
    return double(t.w[index4(ci, co, i, j, s.c_out, s.kh, s.kw)]);
  };
  auto dy_at = [&](int n, int co, int oh, int ow) {
    return double(t.dy[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)]);
  };
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.c_out; ++co)
      for (int oh = 0; oh < s.h_out; ++oh)
        for (int ow = 0; ow < s.w_out; ++ow) {
          double sum = t.b[co];
          for (int ci = 0; ci < s.c_in; ++ci)
            for (int i = 0; i < s.kh; ++i)
              for (int j = 0; j < s.kw; ++j) {
                const int th = oh + s.pad_top - i, tw = ow + s.pad_left - j;
                if (th < 0 || tw < 0 || th % s.stride != 0 || tw % s.stride != 0) continue;
                const int ih = th / s.stride, iw = tw / s.stride;
                if (inside(ih, s.h_in) && inside(iw, s.w_in))
                  sum += x_at(n, ci, ih, iw) * w_at(ci, co, i, j);
              }
          r.y[index4(n, co, oh, ow, s.c_out, s.h_out, s.w_out)] =
              T(activation_apply(epilogue, sum));
        }
  for (int n = 0; n < s.n; ++n)
    for (int ci = 0; ci < s.c_in; ++ci)
      for (int ih = 0; ih < s.h_in; ++ih)
        for (int iw = 0; iw < s.w_in; ++iw) {
          double sum = 0;
          for (int co = 0; co < s.c_out; ++co)
            for (int i = 0; i < s.kh; ++i)
              for (int j = 0; j < s.kw; ++j) {
                const int oh = ih * s.stride - s.pad_top + i, ow = iw * s.stride - s.pad_left + j;
                if (inside(oh, s.h_out) && inside(ow, s.w_out))
                  sum += dy_at(n, co, oh, ow) * w_at(ci, co, i, j);
              }
          r.dx[index4(n, ci, ih, iw, s.c_in, s.h_in, s.w_in)] = T(sum);
        }
  for (int ci = 0; ci < s.c_in; ++ci)
    for (int co = 0; co < s.c_out; ++co)
      for (int i = 0; i < s.kh; ++i)
        for (int j = 0; j < s.kw; ++j) {
          double sum = 0;
          for (int n = 0; n < s.n; ++n)
            for (int ih = 0; ih < s.h_in; ++ih)
              for (int iw = 0; iw < s.w_in; ++iw) {
                const int oh = ih * s.stride - s.pad_top + i, ow = iw * s.stride - s.pad_left + j;
                if (inside(oh, s.h_out) && inside(ow, s.w_out))
                  sum += x_at(n, ci, ih, iw) * dy_at(n, co, oh, ow);
              }
          T& g = r.dw[index4(ci, co, i, j, s.c_out, s.kh, s.kw)];
          g = T(double(g) + sum);
        }
  return r;
}

// Besides the shared cases, shapes with fewer small channels (conv2d's outputs, conv_transpose2d's
// inputs) than a product tile has rows, which window.cpp sums directly over zero-padded planes:
// 1 to 3 of them, strides 1 to 3, a kernel wider than a tile's 8 columns.
template <class Op> std::vector<test::ConvCase<typename Op::Shape>> cases() {
  std::vector<test::ConvCase<typename Op::Shape>> all = test::at_batch(Op::sgan_layers(), 2);
  for (const auto& c : test::at_batch(Op::sgan_layers(), 9)) all.push_back(c);
  for (const auto& c : Op::awkward_shapes()) all.push_back(c);
  all.push_back(Op::keras(2, 2, 13, 14, 3, 5, 10, 2, Padding::same));
  all.push_back(Op::keras(3, 3, 12, 11, 1, 9, 3, 3, Padding::valid));
  all.push_back(Op::keras(1, 1, 6, 7, 2, 3, 3, 1, Padding::same));
  return all;
}

template <typename T> void expect_same_bits(const Results<T>& got, const Results<T>& plain) {
  EXPECT_EQ(got.y, plain.y) << "forward";
  EXPECT_EQ(got.dx, plain.dx) << "backward_data";
  EXPECT_EQ(got.dw, plain.dw) << "backward_weight";
}

class Conv2dPlainLoopsTest : public ::testing::TestWithParam<test::ConvCase<Conv2dShape>> {};

template <typename T> void check_conv2d(const Conv2dShape& s) {
  const Tensors<T> t = random_tensors<T>(s);
  Results<T> got{std::vector<T>(s.y_size(), T(NAN)), std::vector<T>(s.x_size(), T(NAN)),
                 t.dw_initial};
  cpu::conv2d_forward(s, t.x.data(), t.w.data(), t.b.data(), got.y.data(), epilogue);
  cpu::conv2d_backward_data(s, t.dy.data(), t.w.data(), got.dx.data());
  cpu::conv2d_backward_weight(s, t.x.data(), t.dy.data(), got.dw.data());
  expect_same_bits(got, conv2d_plain_loops(s, t));
}

// In double, where a product of two operands is rounded, every change of a sum's order shows; in
// float, the training kernels' instantiation, the products are exact in double.
TEST_P(Conv2dPlainLoopsTest, EveryDirectionEqualsThePlainLoopsBitwiseInDoubleAndFloat) {
  check_conv2d<double>(GetParam().shape);
  check_conv2d<float>(GetParam().shape);
}

INSTANTIATE_TEST_SUITE_P(SganLayersAndAwkwardShapes, Conv2dPlainLoopsTest,
                         ::testing::ValuesIn(cases<test::Conv2dOp>()));

class ConvTranspose2dPlainLoopsTest
    : public ::testing::TestWithParam<test::ConvCase<ConvTranspose2dShape>> {};

template <typename T> void check_conv_transpose2d(const ConvTranspose2dShape& s) {
  const Tensors<T> t = random_tensors<T>(s);
  Results<T> got{std::vector<T>(s.y_size(), T(NAN)), std::vector<T>(s.x_size(), T(NAN)),
                 t.dw_initial};
  cpu::conv_transpose2d_forward(s, t.x.data(), t.w.data(), t.b.data(), got.y.data(), epilogue);
  cpu::conv_transpose2d_backward_data(s, t.dy.data(), t.w.data(), got.dx.data());
  cpu::conv_transpose2d_backward_weight(s, t.x.data(), t.dy.data(), got.dw.data());
  expect_same_bits(got, conv_transpose2d_plain_loops(s, t));
}

TEST_P(ConvTranspose2dPlainLoopsTest, EveryDirectionEqualsThePlainLoopsBitwiseInDoubleAndFloat) {
  check_conv_transpose2d<double>(GetParam().shape);
  check_conv_transpose2d<float>(GetParam().shape);
}

INSTANTIATE_TEST_SUITE_P(SganLayersAndAwkwardShapes, ConvTranspose2dPlainLoopsTest,
                         ::testing::ValuesIn(cases<test::ConvTranspose2dOp>()));

} // namespace
} // namespace sgan
