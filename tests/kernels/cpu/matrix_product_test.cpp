// The CPU backend's tiled product (kernels/cpu/matrix_product.h) against the plain loop
// `sum = start; for k: sum += L[r, k] R[k, c]`, bitwise: each tile variant (the build's own
// target, AVX2's four-double and AVX-512's eight-double registers where this processor has them,
// the latter two failing if the compiler fuses a multiply and an add) called directly on
// every tile shape the product uses, and the whole product with starts per row, per column and
// from a running double sum. In double, where any change of a sum's order or rounding shows, and
// in float.
#include "kernels/cpu/matrix_product.h"
#include "tests/support/compare.h"

#include <array>
#include <cstddef>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

using cpu::Operand;
using cpu::Start;

template <typename T> struct Problem {
  int rows, depth, cols;
  std::vector<T> left, right;
  std::vector<double> start; // [rows, cols]
  Problem(int r, int d, int c)
      : rows(r), depth(d), cols(c), left(test::random_uniform<T>(std::size_t(r) * d, 41)),
        right(test::random_uniform<T>(std::size_t(d) * c, 42)),
        start(test::random_uniform<double>(std::size_t(r) * c, 43)) {}
  Operand<T> l() const { return {left.data(), depth}; }
  Operand<T> r() const { return {right.data(), cols}; }
  Start<double> s() const { return {start.data(), cols, 1}; }
  double plain(int row, int col) const {
    double sum = start[std::size_t(row) * cols + col];
    for (int k = 0; k < depth; ++k)
      sum +=
          double(left[std::size_t(row) * depth + k]) * double(right[std::size_t(k) * cols + col]);
    return sum;
  }
};

// Every tile that fits at (r0, c0) for each of the four tile shapes, from one variant.
template <int A, int C, typename T, typename Variant>
void expect_tile_equals_plain_loop(const Problem<T>& p, Variant variant) {
  for (int r0 = 0; r0 + A <= p.rows; r0 += A)
    for (int c0 = 0; c0 + C <= p.cols; c0 += C) {
      double sum[A][C];
      variant(p.l(), p.r(), p.depth, p.s(), r0, c0, sum);
      for (int a = 0; a < A; ++a)
        for (int c = 0; c < C; ++c)
          ASSERT_EQ(sum[a][c], p.plain(r0 + a, c0 + c))
              << "tile " << A << "x" << C << " at (" << r0 + a << ", " << c0 + c << ")";
    }
}

// Each tile variant's four tile shapes in double and float. A variant is a struct whose
// sums<A, C, T> is one of matrix_product.h's tile_sums_* functions.
template <class Variant, typename T> void check_variant_in() {
  const Problem<T> p(9, 77, 17);
  expect_tile_equals_plain_loop<4, 8>(p, Variant::template sums<4, 8, T>);
  expect_tile_equals_plain_loop<1, 8>(p, Variant::template sums<1, 8, T>);
  expect_tile_equals_plain_loop<4, 2>(p, Variant::template sums<4, 2, T>);
  expect_tile_equals_plain_loop<1, 2>(p, Variant::template sums<1, 2, T>);
}
template <class Variant> void check_variant() {
  check_variant_in<Variant, double>();
  check_variant_in<Variant, float>();
}

#define SGAN_TILE_VARIANT(Name, function)                                                          \
  struct Name {                                                                                    \
    template <int A, int C, typename T>                                                            \
    static void sums(Operand<T> l, Operand<T> r, int depth, Start<double> s, int r0, int c0,       \
                     double (&sum)[A][C]) {                                                        \
      cpu::matrix_product_detail::function<A, C, T, T, double>(l, r, depth, s, r0, c0, sum);       \
    }                                                                                              \
  };

SGAN_TILE_VARIANT(Baseline, tile_sums_baseline)
TEST(MatrixProductTest, BaselineTilesEqualThePlainLoopBitwise) { check_variant<Baseline>(); }

#if defined(__x86_64__) && !defined(__AVX2__)
SGAN_TILE_VARIANT(Avx2, tile_sums_avx2)
TEST(MatrixProductTest, Avx2TilesEqualThePlainLoopBitwise) {
  if (!cpu::matrix_product_detail::has_avx2) GTEST_SKIP() << "this processor has no AVX2";
  check_variant<Avx2>();
}

SGAN_TILE_VARIANT(Avx512, tile_sums_avx512)
TEST(MatrixProductTest, Avx512TilesEqualThePlainLoopBitwise) {
  if (!cpu::matrix_product_detail::has_avx512) GTEST_SKIP() << "this processor has no AVX-512";
  check_variant<Avx512>();
}
#endif
#undef SGAN_TILE_VARIANT

// The product over shapes with every remainder (rows mod 4, cols mod 8 and mod 2), one deep enough
// for several column panels (2000 x 53: panels of 16 double or 32 float columns, the last one
// partial), and a null start, a start per row and a start per column.
template <typename T> void check_multiply() {
  for (const auto& [rows, depth, cols] : std::vector<std::array<int, 3>>{
           {1, 1, 1}, {7, 13, 23}, {8, 0, 16}, {66, 300, 97}, {9, 2000, 53}}) {
    SCOPED_TRACE(testing::Message() << rows << "x" << depth << " times " << depth << "x" << cols);
    const Problem<T> p(rows, depth, cols);
    const std::vector<T> bias = test::random_uniform<T>(std::size_t(rows) + cols, 44);
    for (const Start<T> start :
         {Start<T>{}, Start<T>{bias.data(), 1, 0}, Start<T>{bias.data(), 0, 1}}) {
      std::vector<double> got(std::size_t(rows) * cols, -1.0), want(got.size());
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
          double sum = start.at(r, c);
          for (int k = 0; k < depth; ++k)
            sum += double(p.left[std::size_t(r) * depth + k]) *
                   double(p.right[std::size_t(k) * cols + c]);
          want[std::size_t(r) * cols + c] = sum;
        }
      cpu::multiply(rows, depth, cols, p.l(), p.r(), start,
                    [&](int r, int c, double sum) { got[std::size_t(r) * cols + c] = sum; });
      EXPECT_EQ(got, want);
    }
  }
}

TEST(MatrixProductTest, ProductEqualsThePlainLoopBitwiseForEveryStart) {
  check_multiply<double>();
  check_multiply<float>();
}

} // namespace
} // namespace sgan
