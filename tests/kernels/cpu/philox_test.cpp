// Philox4x32-10 on the host: the block function against Random123's published known-answer
// vectors, the element layout (element e is word e % 4 of block e / 4), the moments of the uniform
// and normal draws within statistical tolerance, and that (seed, stream, counter) selects the draw.
#include "kernels/philox.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <numbers>
#include <vector>

namespace sgan {
namespace {

// Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words), key (2 words),
// expected output (4 words).
struct KnownAnswer {
  std::uint32_t counter[4];
  std::uint32_t key[2];
  std::uint32_t expected[4];
};

const KnownAnswer known_answers[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

// philox_block puts {block, stream, counter_lo, counter_hi} in the counter and {seed_lo, seed_hi}
// in the key.
TEST(PhiloxCpuTest, BlockMatchesRandom123KnownAnswers) {
  for (const KnownAnswer& k : known_answers) {
    const PhiloxStream s{(std::uint64_t(k.key[1]) << 32) | k.key[0], k.counter[1]};
    const std::uint64_t counter = (std::uint64_t(k.counter[3]) << 32) | k.counter[2];
    const PhiloxBlock b = philox_block(s, counter, k.counter[0]);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(b.word[w], k.expected[w]) << "word " << w;
  }
}

TEST(PhiloxCpuTest, UniformElementIsWordOfItsBlockScaledToRange) {
  const PhiloxStream s{0x123456789abcdefull, 7};
  const std::uint64_t counter = 42;
  const float lo = -2.0f, hi = 3.0f;
  const std::size_t n = 11; // two whole blocks and a partial one
  std::vector<float> out(n);
  cpu::philox_uniform(n, s, &counter, lo, hi, out.data());
  for (std::size_t e = 0; e < n; ++e) {
    const std::uint32_t word = philox_block(s, counter, e / 4).word[e % 4];
    const double u = double(word >> 8) / 16777216.0;
    EXPECT_EQ(philox_uniform01(word), float(u));
    // lo + (hi - lo) u is exact in double (24-bit u times 3-bit 5), so the float is its rounding.
    EXPECT_EQ(out[e], float(double(lo) + double(hi - lo) * u)) << e;
  }
}

TEST(PhiloxCpuTest, NormalElementsAreBoxMullerOfTheBlockWordPairs) {
  const PhiloxStream s{99, 3};
  const std::uint64_t counter = 5;
  const std::size_t n = 10;
  std::vector<float> out(n);
  cpu::philox_normal(n, s, &counter, 0.0f, 1.0f, out.data());
  for (std::size_t e = 0; e < n; ++e) {
    const PhiloxBlock b = philox_block(s, counter, e / 4);
    const std::size_t pair = (e % 4) / 2 * 2;
    const double u1 = double((b.word[pair] >> 8) + 1) / 16777216.0;
    const double u2 = double(b.word[pair + 1] >> 8) / 16777216.0;
    const double radius = std::sqrt(-2 * std::log(u1)), angle = 2 * std::numbers::pi * u2;
    const double expected = e % 2 == 0 ? radius * std::cos(angle) : radius * std::sin(angle);
    EXPECT_NEAR(out[e], expected, 1e-5) << e;
  }
}

struct Moments {
  double mean = 0, var = 0;
};

Moments moments(const std::vector<float>& v) {
  Moments m;
  for (const float x : v) m.mean += x;
  m.mean /= double(v.size());
  for (const float x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= double(v.size());
  return m;
}

// Tolerances are 5 standard errors: for n = 2^20 uniforms on [lo, hi), the mean has standard
// error (hi - lo) / sqrt(12 n) and the sample variance (hi - lo)^2 sqrt(1/80 - 1/144) / sqrt(n).
TEST(PhiloxCpuTest, UniformStaysInRangeWithUniformMoments) {
  const std::size_t n = std::size_t(1) << 20;
  const float lo = -2.0f, hi = 3.0f;
  const std::uint64_t counter = 1;
  std::vector<float> out(n);
  cpu::philox_uniform(n, PhiloxStream{2024, 0}, &counter, lo, hi, out.data());
  EXPECT_GE(*std::min_element(out.begin(), out.end()), lo);
  EXPECT_LT(*std::max_element(out.begin(), out.end()), hi);
  const Moments m = moments(out);
  const double width = hi - lo, root_n = std::sqrt(double(n));
  EXPECT_NEAR(m.mean, (lo + hi) / 2.0, 5 * width / std::sqrt(12.0) / root_n);
  EXPECT_NEAR(m.var, width * width / 12,
              5 * width * width * std::sqrt(1 / 80.0 - 1 / 144.0) / root_n);
}

// For n normals N(mu, sigma^2): the mean has standard error sigma / sqrt(n), the sample variance
// sigma^2 sqrt(2 / n). Both branches of Box-Muller (even and odd elements) are checked apart.
TEST(PhiloxCpuTest, NormalHasRequestedMeanAndVariance) {
  const std::size_t n = std::size_t(1) << 20;
  const float mu = 0.5f, sigma = 2.0f;
  const std::uint64_t counter = 9;
  std::vector<float> out(n);
  cpu::philox_normal(n, PhiloxStream{77, 1}, &counter, mu, sigma, out.data());
  for (int branch = 0; branch < 2; ++branch) {
    std::vector<float> half;
    for (std::size_t e = branch; e < n; e += 2) half.push_back(out[e]);
    const Moments m = moments(half);
    const double root_n = std::sqrt(double(half.size()));
    EXPECT_NEAR(m.mean, mu, 5 * sigma / root_n) << "branch " << branch;
    EXPECT_NEAR(m.var, sigma * sigma, 5 * sigma * sigma * std::sqrt(2.0) / root_n)
        << "branch " << branch;
  }
  // About 68.27% within one sigma: binomial standard error sqrt(p (1 - p) / n).
  const double inside = double(std::count_if(out.begin(), out.end(),
                                             [&](float v) { return std::fabs(v - mu) < sigma; })) /
                        double(n);
  EXPECT_NEAR(inside, 0.682689, 5 * std::sqrt(0.682689 * 0.317311 / double(n)));
}

std::vector<float> uniform_draw(const PhiloxStream& s, std::uint64_t counter, std::size_t n) {
  std::vector<float> out(n);
  cpu::philox_uniform(n, s, &counter, 0.0f, 1.0f, out.data());
  return out;
}

std::size_t equal_elements(const std::vector<float>& a, const std::vector<float>& b) {
  std::size_t equal = 0;
  for (std::size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  return equal;
}

// Two independent 24-bit uniforms coincide with probability 2^-24: over 4096 elements the
// expected count is 2.4e-4, so any coincidence at all beyond a couple means correlated draws.
TEST(PhiloxCpuTest, DistinctSeedStreamOrCounterGiveDifferentDraws) {
  const std::size_t n = 4096;
  const PhiloxStream base{0x0123456789abcdefull, 5};
  const std::vector<float> reference = uniform_draw(base, 100, n);
  const std::vector<std::vector<float>> others = {
      uniform_draw({base.seed + 1, base.stream}, 100, n),
      uniform_draw({base.seed ^ (std::uint64_t(1) << 40), base.stream}, 100, n),
      uniform_draw({base.seed, base.stream + 1}, 100, n),
      uniform_draw(base, 101, n),
      uniform_draw(base, 100 + (std::uint64_t(1) << 32), n),
  };
  for (std::size_t k = 0; k < others.size(); ++k)
    EXPECT_LE(equal_elements(reference, others[k]), 2u) << "variant " << k;
}

TEST(PhiloxCpuTest, SameSeedStreamAndCounterRepeatExactly) {
  const PhiloxStream s{31337, 2};
  const std::uint64_t counter = 12;
  std::vector<float> a(1001), b(1001), na(1001), nb(1001);
  cpu::philox_uniform(a.size(), s, &counter, -1.0f, 1.0f, a.data());
  cpu::philox_uniform(b.size(), s, &counter, -1.0f, 1.0f, b.data());
  cpu::philox_normal(na.size(), s, &counter, 0.0f, 1.0f, na.data());
  cpu::philox_normal(nb.size(), s, &counter, 0.0f, 1.0f, nb.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(na, nb);
}

// A shorter draw is a prefix of a longer one: element e depends on e alone, not on n.
TEST(PhiloxCpuTest, DrawOfLengthNIsAPrefixOfLongerDraws) {
  const PhiloxStream s{8, 8};
  const std::uint64_t counter = 8;
  std::vector<float> longer(64), shorter(37);
  cpu::philox_normal(longer.size(), s, &counter, 1.0f, 3.0f, longer.data());
  cpu::philox_normal(shorter.size(), s, &counter, 1.0f, 3.0f, shorter.data());
  EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(), longer.begin()));
}

} // namespace
} // namespace sgan
