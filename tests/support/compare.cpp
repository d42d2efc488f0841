#include "tests/support/compare.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace sgan::test {

template <typename A, typename B>
ErrorStats error_stats(std::span<const A> reference, std::span<const B> result) {
  ErrorStats stats;
  double diff_sq = 0, ref_sq = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double r = static_cast<double>(reference[i]);
    const double a = static_cast<double>(result[i]);
    if (std::isfinite(r) && !std::isfinite(a)) {
      if (stats.non_finite++ == 0) stats.worst_index = i;
      continue;
    }
    const double d = std::fabs(a - r);
    diff_sq += d * d;
    ref_sq += r * r;
    if (d > stats.max_abs && stats.non_finite == 0) {
      stats.max_abs = d;
      stats.worst_index = i;
    }
  }
  stats.rel_l2 = ref_sq > 0 ? std::sqrt(diff_sq / ref_sq) : std::sqrt(diff_sq);
  return stats;
}

template <typename A, typename B>
::testing::AssertionResult close(const std::vector<A>& reference, const std::vector<B>& result,
                                 double rel_l2_tol, double max_abs_tol) {
  if (reference.size() != result.size())
    return ::testing::AssertionFailure()
           << "size mismatch: reference " << reference.size() << ", result " << result.size();
  const ErrorStats s = error_stats(std::span<const A>(reference), std::span<const B>(result));
  std::ostringstream detail;
  detail << "rel_l2 " << s.rel_l2 << " (tol " << rel_l2_tol << "), max_abs " << s.max_abs
         << " (tol " << max_abs_tol << ") at [" << s.worst_index << "]: reference "
         << (reference.empty() ? 0.0 : static_cast<double>(reference[s.worst_index])) << ", result "
         << (result.empty() ? 0.0 : static_cast<double>(result[s.worst_index])) << ", "
         << s.non_finite << " non-finite of " << reference.size();
  if (s.non_finite == 0 && s.rel_l2 <= rel_l2_tol && s.max_abs <= max_abs_tol)
    return ::testing::AssertionSuccess() << detail.str();
  return ::testing::AssertionFailure() << detail.str();
}

::testing::AssertionResult bitwise_equal(const std::vector<float>& expected,
                                         const std::vector<float>& got) {
  if (expected.size() != got.size())
    return ::testing::AssertionFailure() << "sizes " << expected.size() << " and " << got.size();
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (std::bit_cast<std::uint32_t>(expected[i]) != std::bit_cast<std::uint32_t>(got[i]) &&
        differ++ == 0)
      first = i;
  if (differ == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << differ << " of " << got.size() << " differ, first ["
                                       << first << "]: " << expected[first] << " vs " << got[first];
}

double largest_magnitude(const std::vector<double>& v) {
  double largest = 0;
  for (const double x : v) largest = std::max(largest, std::fabs(x));
  return largest;
}

template <typename T>
std::vector<T> random_uniform(std::size_t n, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(engine));
  return v;
}

#define SGAN_INSTANTIATE_COMPARE(A, B)                                                        \
  template ErrorStats error_stats<A, B>(std::span<const A>, std::span<const B>);            \
  template ::testing::AssertionResult close<A, B>(const std::vector<A>&, const std::vector<B>&, \
                                                  double, double);
SGAN_INSTANTIATE_COMPARE(float, float)
SGAN_INSTANTIATE_COMPARE(double, double)
SGAN_INSTANTIATE_COMPARE(double, float)
SGAN_INSTANTIATE_COMPARE(float, double)
#undef SGAN_INSTANTIATE_COMPARE

template std::vector<float> random_uniform<float>(std::size_t, std::uint64_t, double, double);
template std::vector<double> random_uniform<double>(std::size_t, std::uint64_t, double, double);

}  // namespace sgan::test
