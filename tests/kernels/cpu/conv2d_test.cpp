// The CPU conv2d: Keras shapes, forward against a hand-computed example and the activation
// formulas, every backward direction against central finite differences in double precision, and
// the validation of shapes.
#include "kernels/conv2d.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/conv_gradient_checks.h"
#include "tests/support/finite_difference.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

struct ShapeCase {
  int h_in, k, stride;
  Padding padding;
  int h_out, pad;
};

TEST(Conv2dCpuTest, ShapesFollowKeras) {
  // same: h_out = ceil(h / s), total pad = max((h_out - 1) s + k - h, 0), top = total / 2.
  const ShapeCase cases[] = {
      {28, 3, 2, Padding::same, 14, 0}, // D layer 1: total pad 1, all of it at the bottom
      {14, 3, 2, Padding::same, 7, 0},  // D layer 2
      {28, 7, 1, Padding::same, 28, 3}, // G output layer
      {28, 5, 1, Padding::same, 28, 2}, {10, 4, 1, Padding::same, 10, 1},
      {9, 3, 2, Padding::same, 5, 1},   {28, 1, 2, Padding::same, 14, 0},
      {11, 5, 3, Padding::same, 4, 1},  {28, 5, 1, Padding::valid, 24, 0},
      {9, 3, 2, Padding::valid, 4, 0},  {11, 4, 3, Padding::valid, 3, 0},
  };
  for (const ShapeCase& c : cases) {
    const Conv2dShape s = conv2d_shape(2, 3, c.h_in, c.h_in, 5, c.k, c.k, c.stride, c.padding);
    EXPECT_EQ(s.h_out, c.h_out) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
    EXPECT_EQ(s.w_out, c.h_out) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
    EXPECT_EQ(s.pad_top, c.pad) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
    EXPECT_EQ(s.pad_left, c.pad) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
  }
}

TEST(Conv2dCpuTest, ShapeTreatsRowsAndColumnsSeparately) {
  const Conv2dShape s = conv2d_shape(3, 2, 9, 11, 5, 3, 4, 2, Padding::same);
  EXPECT_EQ(s.h_out, 5);
  EXPECT_EQ(s.w_out, 6);
  EXPECT_EQ(s.pad_top, 1);  // total (5 - 1) 2 + 3 - 9 = 2
  EXPECT_EQ(s.pad_left, 1); // total (6 - 1) 2 + 4 - 11 = 3, the odd one on the right
  EXPECT_EQ(s.x_size(), 3u * 2 * 9 * 11);
  EXPECT_EQ(s.w_size(), 5u * 2 * 3 * 4);
  EXPECT_EQ(s.y_size(), 3u * 5 * 5 * 6);
  EXPECT_EQ(s.macs(), 3.0 * 5 * 5 * 6 * 2 * 3 * 4);
}

TEST(Conv2dCpuTest, ForwardMatchesHandComputedExample) {
  // x[r][c] = 4r + c + 1 on 4x4; stride 2 "same" k3 pads 0 on top/left and 1 on bottom/right.
  // Channel 0's kernel is the diagonal: y = x[2oh][2ow] + x[2oh+1][2ow+1] + x[2oh+2][2ow+2]
  //   = [1+6+11, 3+8, 9+14, 11+16] = [18, 11, 23, 27], bias -20 -> [-2, -9, 3, 7].
  // Channel 1's kernel is -1 at the centre: y = -x[2oh+1][2ow+1] = [-6, -8, -14, -16], bias 10.
  // LeakyReLU(0.5) halves the negatives.
  const Conv2dShape s = conv2d_shape(1, 1, 4, 4, 2, 3, 3, 2, Padding::same);
  std::vector<double> x(16);
  for (int i = 0; i < 16; ++i) x[i] = i + 1;
  const std::vector<double> w = {1, 0, 0, 0, 1,  0, 0, 0, 1, //
                                 0, 0, 0, 0, -1, 0, 0, 0, 0};
  const std::vector<double> b = {-20, 10};
  std::vector<double> y(s.y_size());
  cpu::conv2d_forward(s, x.data(), w.data(), b.data(), y.data(), Activation::leaky_relu(0.5f));
  const std::vector<double> expected = {-1, -4.5, 3, 7, 4, 2, -2, -3};
  EXPECT_EQ(y, expected);
}

TEST(Conv2dCpuTest, ForwardAppliesEachEpilogueAfterTheBias) {
  const Conv2dShape s = conv2d_shape(2, 3, 7, 6, 4, 3, 3, 1, Padding::same);
  const auto x = test::random_uniform<double>(s.x_size(), 1);
  const auto w = test::random_uniform<double>(s.w_size(), 2);
  const auto b = test::random_uniform<double>(s.c_out, 3);
  std::vector<double> z(s.y_size());
  cpu::conv2d_forward(s, x.data(), w.data(), b.data(), z.data());
  const Activation cases[] = {Activation::relu(), Activation::leaky_relu(0.2f), Activation::tanh(),
                              Activation::sigmoid(), Activation::softplus()};
  for (const Activation& activation : cases) {
    std::vector<double> y(s.y_size()), expected(s.y_size());
    cpu::conv2d_forward(s, x.data(), w.data(), b.data(), y.data(), activation);
    for (std::size_t i = 0; i < z.size(); ++i)
      expected[i] = test::textbook_activation(activation, z[i]);
    EXPECT_TRUE(test::close(expected, y, 1e-14, 1e-14)) << activation_name(activation.kind);
  }
}

using Conv2dCpuGradientTest = test::ConvGradientTest<test::Conv2dOp>;
SGAN_CONV_GRADIENT_TESTS(Conv2dCpuGradientTest)

INSTANTIATE_TEST_SUITE_P(
    SmallShapes, Conv2dCpuGradientTest,
    ::testing::Values(test::Conv2dOp::keras(2, 3, 7, 6, 4, 3, 3, 1, Padding::same),
                      test::Conv2dOp::keras(1, 2, 9, 11, 3, 3, 3, 2, Padding::same),
                      test::Conv2dOp::keras(2, 2, 8, 8, 3, 4, 4, 2, Padding::same),
                      test::Conv2dOp::keras(1, 2, 9, 7, 2, 5, 5, 2, Padding::valid),
                      test::Conv2dOp::keras(3, 1, 10, 9, 2, 5, 5, 1, Padding::same),
                      test::Conv2dOp::keras(1, 3, 6, 5, 5, 4, 4, 1, Padding::valid),
                      test::Conv2dOp::keras(1, 1, 28, 28, 2, 3, 3, 2, Padding::same),
                      test::Conv2dOp::keras(1, 2, 7, 7, 1, 7, 7, 1, Padding::same),
                      test::Conv2dOp::keras(1, 2, 10, 11, 2, 3, 5, 3, Padding::same)));

// Each case breaks one field of a valid shape; the error must name that field first.
TEST(Conv2dCpuTest, ValidateRejectsBadShapesNamingTheField) {
  const Conv2dShape good = conv2d_shape(2, 3, 9, 11, 4, 3, 3, 2, Padding::same);
  ASSERT_EQ(good.h_out, 5);
  ASSERT_EQ(good.pad_top, 1);
  ASSERT_EQ(good.w_out, 6);
  ASSERT_EQ(good.pad_left, 1);
  EXPECT_NO_THROW(validate(good));
  struct BadCase {
    const char* field;
    void (*breaks)(Conv2dShape&);
  };
  const BadCase cases[] = {
      {"n", [](Conv2dShape& s) { s.n = 0; }},
      {"c_in", [](Conv2dShape& s) { s.c_in = -1; }},
      {"h_in", [](Conv2dShape& s) { s.h_in = 0; }},
      {"c_out", [](Conv2dShape& s) { s.c_out = 0; }},
      {"kh", [](Conv2dShape& s) { s.kh = 0; }},
      {"kw", [](Conv2dShape& s) { s.kw = -3; }},
      {"stride", [](Conv2dShape& s) { s.stride = 0; }},
      {"pad_top", [](Conv2dShape& s) { s.pad_top = 3; }}, // a whole kernel of padding
      {"pad_left", [](Conv2dShape& s) { s.pad_left = -1; }},
      {"h_out", [](Conv2dShape& s) { s.h_out = 6; }}, // last window starts at 5 * 2 - 1 = 9
      {"w_out", [](Conv2dShape& s) { s.w_out = 7; }}, // last window starts at 6 * 2 - 1 = 11
      {"w_out", [](Conv2dShape& s) { s.w_out = 0; }},
  };
  for (const BadCase& c : cases) {
    Conv2dShape bad = good;
    c.breaks(bad);
    try {
      validate(bad);
      ADD_FAILURE() << "accepted a bad " << c.field;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string("conv2d: ") + c.field + " ", 0), 0u)
          << e.what();
    }
  }
}

TEST(Conv2dCpuTest, ShapeRejectsAValidKernelLargerThanTheInput) {
  EXPECT_THROW(conv2d_shape(1, 1, 3, 9, 1, 5, 5, 1, Padding::valid), std::invalid_argument);
  EXPECT_THROW(conv2d_shape(1, 1, 9, 9, 1, 3, 3, 0, Padding::same), std::invalid_argument);
  EXPECT_NO_THROW(conv2d_shape(1, 1, 5, 5, 1, 5, 5, 1, Padding::valid));
}

} // namespace
} // namespace sgan
