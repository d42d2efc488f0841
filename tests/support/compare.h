#pragma once
// Comparing an op's output with its reference: relative L2 error ||a - r|| / ||r|| for the
// whole tensor, and max |a - r| for the worst element; a non-finite value where the reference is
// finite always fails (outputs are poisoned with NaN before each call, so an element the op never
// wrote fails too).
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <span>
#include <vector>

namespace sgan::test {

struct ErrorStats {
  double rel_l2 = 0;
  double max_abs = 0;
  std::size_t worst_index = 0;
  std::size_t non_finite = 0;  // elements finite in the reference but not in the result
};

template <typename A, typename B>
ErrorStats error_stats(std::span<const A> reference, std::span<const B> result);

// EXPECT_TRUE(close(reference, result, rel_l2_tol, max_abs_tol)) prints both errors, the worst
// element and its index when it fails.
template <typename A, typename B>
::testing::AssertionResult close(const std::vector<A>& reference, const std::vector<B>& result,
                                 double rel_l2_tol, double max_abs_tol);

// EXPECT_TRUE(bitwise_equal(expected, got)): every element the same bits (so NaNs with the same
// payload match and 0 differs from -0); on failure, how many differ and the first of them, not
// both whole vectors.
::testing::AssertionResult bitwise_equal(const std::vector<float>& expected,
                                         const std::vector<float>& got);

// The largest |v|: what a max-abs tolerance is taken relative to when the reference's scale varies
// from case to case.
double largest_magnitude(const std::vector<double>& v);

// n values uniform in [lo, hi) from a fixed seed: tests draw fresh inputs per case, reproducibly.
template <typename T>
std::vector<T> random_uniform(std::size_t n, std::uint64_t seed, double lo = -1.0, double hi = 1.0);

// Converts between float and double vectors (the CPU references run in both).
template <typename To, typename From>
std::vector<To> convert(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

}  // namespace sgan::test
