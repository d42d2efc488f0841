// The CPU conv_transpose2d: Keras shapes and the conv2d it is the adjoint of, forward against a
// hand-computed scatter, equality with conv2d's backward_data, the adjoint identity
// <conv(x), y> = <x, convT(y)>, every backward direction against central finite differences in
// double precision, and the validation of shapes.
#include "kernels/conv_transpose2d.h"
#include "tests/support/compare.h"
#include "tests/support/conv_gradient_checks.h"
#include "tests/support/finite_difference.h"

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

TEST(ConvTranspose2dCpuTest, ShapesFollowKeras) {
  // same: h_out = h s with the pads of the conv2d mapping h_out back to h (total max(k - s, 0));
  // valid: h_out = (h - 1) s + k, no pads.
  const ShapeCase cases[] = {
      {7, 4, 2, Padding::same, 14, 1},  // G layer 1
      {14, 4, 2, Padding::same, 28, 1}, // G layer 2
      {7, 3, 2, Padding::same, 14, 0},  // total pad 1, at the bottom
      {9, 5, 1, Padding::same, 9, 2},   {5, 5, 3, Padding::same, 15, 1},
      {6, 2, 2, Padding::same, 12, 0},  {7, 4, 2, Padding::valid, 16, 0},
      {5, 3, 1, Padding::valid, 7, 0},  {4, 5, 3, Padding::valid, 14, 0},
  };
  for (const ShapeCase& c : cases) {
    const ConvTranspose2dShape s =
        conv_transpose2d_shape(2, 3, c.h_in, c.h_in, 5, c.k, c.k, c.stride, c.padding);
    EXPECT_EQ(s.h_out, c.h_out) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
    EXPECT_EQ(s.w_out, c.h_out) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
    EXPECT_EQ(s.pad_top, c.pad) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
    EXPECT_EQ(s.pad_left, c.pad) << "h " << c.h_in << " k " << c.k << " s " << c.stride;
  }
}

TEST(ConvTranspose2dCpuTest, AsConv2dIsTheConvolutionMappingOutputBackToInput) {
  const ConvTranspose2dShape t = conv_transpose2d_shape(3, 4, 7, 9, 5, 4, 3, 2, Padding::same);
  const Conv2dShape c = as_conv2d(t);
  EXPECT_EQ(c.n, 3);
  EXPECT_EQ(c.c_in, 5);
  EXPECT_EQ(c.h_in, 14);
  EXPECT_EQ(c.w_in, 18);
  EXPECT_EQ(c.c_out, 4);
  EXPECT_EQ(c.h_out, 7);
  EXPECT_EQ(c.w_out, 9);
  EXPECT_EQ(c.kh, 4);
  EXPECT_EQ(c.kw, 3);
  EXPECT_EQ(c.stride, 2);
  // Keras's conv2d "same" on 14x18 with these kernels has exactly these pads and outputs.
  const Conv2dShape keras = conv2d_shape(3, 5, 14, 18, 4, 4, 3, 2, Padding::same);
  EXPECT_EQ(c.pad_top, keras.pad_top);
  EXPECT_EQ(c.pad_left, keras.pad_left);
  EXPECT_EQ(c.h_out, keras.h_out);
  EXPECT_EQ(c.w_out, keras.w_out);
  EXPECT_EQ(c.w_size(), t.w_size());
  EXPECT_EQ(c.macs(), t.macs());
  EXPECT_NO_THROW(validate(c));
}

TEST(ConvTranspose2dCpuTest, ForwardMatchesHandComputedScatter) {
  // x = [[1, 2], [3, 4]], kernel all ones 3x3, stride 2, valid: each pixel adds itself to a 3x3
  // block whose corner is at (2 ih, 2 iw), so blocks overlap on row and column 2:
  //   1 1 1+2 2 2 / 1 1 1+2 2 2 / 1+3 1+3 1+2+3+4 2+4 2+4 / 3 3 3+4 4 4 / 3 3 3+4 4 4
  // Output channel 1 has kernel 2 at the centre only: 2 x at (2 ih + 1, 2 iw + 1). Bias 1 and -1.
  const ConvTranspose2dShape s = conv_transpose2d_shape(1, 1, 2, 2, 2, 3, 3, 2, Padding::valid);
  ASSERT_EQ(s.h_out, 5);
  const std::vector<double> x = {1, 2, 3, 4};
  const std::vector<double> w = {1, 1, 1, 1, 1, 1, 1, 1, 1, //
                                 0, 0, 0, 0, 2, 0, 0, 0, 0};
  const std::vector<double> b = {1, -1};
  std::vector<double> y(s.y_size());
  cpu::conv_transpose2d_forward(s, x.data(), w.data(), b.data(), y.data());
  const std::vector<double> expected = {2,  2,  4,  3,  3,  //
                                        2,  2,  4,  3,  3,  //
                                        5,  5,  11, 7,  7,  //
                                        4,  4,  8,  5,  5,  //
                                        4,  4,  8,  5,  5,  //
                                        -1, -1, -1, -1, -1, //
                                        -1, 1,  -1, 3,  -1, //
                                        -1, -1, -1, -1, -1, //
                                        -1, 5,  -1, 7,  -1, //
                                        -1, -1, -1, -1, -1};
  EXPECT_EQ(y, expected);
}

// The finite-difference checks of every backward direction, and this file's own checks of the
// forward on the same shapes.
class ConvTranspose2dCpuCaseTest : public test::ConvGradientTest<test::ConvTranspose2dOp> {
protected:
  ConvTranspose2dShape shape() const { return GetParam().shape; }
};
SGAN_CONV_GRADIENT_TESTS(ConvTranspose2dCpuCaseTest)

// Both are sums of the same products in double, in different orders.
constexpr double reorder_tolerance = 1e-13;

TEST_P(ConvTranspose2dCpuCaseTest, ForwardEqualsConv2dBackwardDataOfAsConv2d) {
  const ConvTranspose2dShape s = shape();
  const auto x = test::random_uniform<double>(s.x_size(), 1);
  const auto w = test::random_uniform<double>(s.w_size(), 2);
  std::vector<double> y(s.y_size()), expected(s.y_size());
  cpu::conv_transpose2d_forward(s, x.data(), w.data(), static_cast<const double*>(nullptr),
                                y.data());
  cpu::conv2d_backward_data(as_conv2d(s), x.data(), w.data(), expected.data());
  EXPECT_TRUE(test::close(expected, y, reorder_tolerance, reorder_tolerance));
}

TEST_P(ConvTranspose2dCpuCaseTest, BackwardDataEqualsConv2dForwardOfAsConv2d) {
  const ConvTranspose2dShape s = shape();
  const auto dy = test::random_uniform<double>(s.y_size(), 3);
  const auto w = test::random_uniform<double>(s.w_size(), 4);
  std::vector<double> dx(s.x_size()), expected(s.x_size());
  cpu::conv_transpose2d_backward_data(s, dy.data(), w.data(), dx.data());
  cpu::conv2d_forward(as_conv2d(s), dy.data(), w.data(), static_cast<const double*>(nullptr),
                      expected.data());
  EXPECT_TRUE(test::close(expected, dx, reorder_tolerance, reorder_tolerance));
}

// <conv2d(u), v> = <u, conv_transpose2d(v)> for u shaped like convT's output, v like its input.
TEST_P(ConvTranspose2dCpuCaseTest, IsTheAdjointOfConv2d) {
  const ConvTranspose2dShape s = shape();
  const Conv2dShape c = as_conv2d(s);
  const auto u = test::random_uniform<double>(s.y_size(), 5);
  const auto v = test::random_uniform<double>(s.x_size(), 6);
  const auto w = test::random_uniform<double>(s.w_size(), 7);
  std::vector<double> conv_u(c.y_size()), convt_v(s.y_size());
  cpu::conv2d_forward(c, u.data(), w.data(), static_cast<const double*>(nullptr), conv_u.data());
  cpu::conv_transpose2d_forward(s, v.data(), w.data(), static_cast<const double*>(nullptr),
                                convt_v.data());
  const double left = test::dot(conv_u, v), right = test::dot(u, convt_v);
  EXPECT_NEAR(left, right, 1e-12 * (1 + std::abs(left)));
}

INSTANTIATE_TEST_SUITE_P(
    SmallShapes, ConvTranspose2dCpuCaseTest,
    ::testing::Values(test::ConvTranspose2dOp::keras(2, 3, 4, 4, 2, 4, 4, 2, Padding::same),
                      test::ConvTranspose2dOp::keras(1, 2, 5, 7, 3, 3, 3, 2, Padding::same),
                      test::ConvTranspose2dOp::keras(2, 2, 3, 4, 3, 4, 4, 2, Padding::valid),
                      test::ConvTranspose2dOp::keras(1, 3, 6, 5, 2, 5, 5, 1, Padding::same),
                      test::ConvTranspose2dOp::keras(3, 1, 4, 3, 2, 3, 5, 3, Padding::same),
                      test::ConvTranspose2dOp::keras(1, 2, 5, 5, 1, 7, 7, 1, Padding::valid),
                      test::ConvTranspose2dOp::keras(1, 4, 7, 7, 2, 4, 4, 2, Padding::same),
                      test::ConvTranspose2dOp::keras(2, 2, 3, 3, 2, 2, 2, 3, Padding::valid)));

// Each case breaks one field of a valid shape; the error must name that field first.
TEST(ConvTranspose2dCpuTest, ValidateRejectsBadShapesNamingTheField) {
  const ConvTranspose2dShape good = conv_transpose2d_shape(2, 3, 7, 5, 4, 4, 4, 2, Padding::same);
  ASSERT_EQ(good.h_out, 14);
  ASSERT_EQ(good.w_out, 10);
  ASSERT_EQ(good.pad_top, 1);
  EXPECT_NO_THROW(validate(good));
  struct BadCase {
    const char* field;
    void (*breaks)(ConvTranspose2dShape&);
  };
  const BadCase cases[] = {
      {"n", [](ConvTranspose2dShape& s) { s.n = 0; }},
      {"c_in", [](ConvTranspose2dShape& s) { s.c_in = 0; }},
      {"w_in", [](ConvTranspose2dShape& s) { s.w_in = -2; }},
      {"c_out", [](ConvTranspose2dShape& s) { s.c_out = 0; }},
      {"kh", [](ConvTranspose2dShape& s) { s.kh = 0; }},
      {"stride", [](ConvTranspose2dShape& s) { s.stride = -1; }},
      {"pad_top", [](ConvTranspose2dShape& s) { s.pad_top = 4; }},
      {"pad_left", [](ConvTranspose2dShape& s) { s.pad_left = -1; }},
      {"h_out", [](ConvTranspose2dShape& s) { s.h_out = 11; }}, // last input row lands on 6 * 2 - 1
      {"w_out", [](ConvTranspose2dShape& s) { s.w_out = 0; }},
  };
  for (const BadCase& c : cases) {
    ConvTranspose2dShape bad = good;
    c.breaks(bad);
    try {
      validate(bad);
      ADD_FAILURE() << "accepted a bad " << c.field;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string("conv_transpose2d: ") + c.field + " ", 0),
                0u)
          << e.what();
    }
  }
  ConvTranspose2dShape longest_valid = good;
  longest_valid.h_out = 12; // the last input row still reaches output row 11
  EXPECT_NO_THROW(validate(longest_valid));
}

} // namespace
} // namespace sgan
