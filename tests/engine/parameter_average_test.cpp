// ParameterAverage against its definition written out here in double: after t updates with
// iterates p_1..p_t the average is sum_s rate (1 - rate)^(t-s) p_s / (1 - (1 - rate)^t).
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/train/parameter_average.h"

#include <cmath>
#include <gtest/gtest.h>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

// Feeds `iterates` one update each and returns the average after all of them.
std::vector<float> average_of(const std::vector<std::vector<float>>& iterates, float rate) {
  Context ctx(Backend::cpu);
  Arena arena(ctx);
  const int n = int(iterates.front().size());
  ParameterAverage average(arena, Shape{n}, rate);
  Tensor params = arena.tensor(Shape{n});
  for (const auto& p : iterates) {
    ctx.upload(params.data, p.data(), p.size() * sizeof(float));
    average.update(ctx, params.data);
  }
  std::vector<float> out(std::size_t(n), std::nanf(""));
  Tensor result = arena.tensor(Shape{n});
  average.write_average(ctx, std::int64_t(iterates.size()), result.data);
  ctx.download(out.data(), result.data, out.size() * sizeof(float));
  return out;
}

std::vector<std::vector<float>> some_iterates(int steps, int n) {
  std::vector<std::vector<float>> iterates;
  for (int s = 1; s <= steps; ++s) {
    std::vector<float> p;
    for (int i = 0; i < n; ++i) p.push_back(float(std::sin(0.7 * s + 1.3 * i) + 0.1 * s));
    iterates.push_back(p);
  }
  return iterates;
}

TEST(ParameterAverageTest, IsTheBiasCorrectedExponentialAverageOfTheIterates) {
  for (float rate : {0.3f, 0.05f, 1e-4f}) {
    const auto iterates = some_iterates(7, 5);
    const std::vector<float> got = average_of(iterates, rate);
    const int t = int(iterates.size());
    for (int i = 0; i < 5; ++i) {
      double sum = 0;
      for (int s = 1; s <= t; ++s)
        sum += double(rate) * std::pow(1.0 - double(rate), t - s) *
               iterates[std::size_t(s - 1)][std::size_t(i)];
      const double expected = sum / (1.0 - std::pow(1.0 - double(rate), t));
      // float storage of the accumulator and the rescale: a few float roundings per update.
      EXPECT_NEAR(got[std::size_t(i)], expected, 1e-5 * (1.0 + std::abs(expected)))
          << "rate " << rate << ", element " << i;
    }
  }
}

// The weights of the iterates sum to 1, so constant weights average to themselves, even at the
// recipe's small rate and after few steps (where an uncorrected average would be near zero).
TEST(ParameterAverageTest, ConstantWeightsAverageToThemselves) {
  const std::vector<std::vector<float>> iterates(3, std::vector<float>{2.5f, -1.0f, 0.0f});
  const std::vector<float> got = average_of(iterates, 1e-4f);
  EXPECT_NEAR(got[0], 2.5f, 1e-5);
  EXPECT_NEAR(got[1], -1.0f, 1e-5);
  EXPECT_EQ(got[2], 0.0f);
}

TEST(ParameterAverageTest, RateOneKeepsTheLatestIterate) {
  const auto iterates = some_iterates(4, 3);
  const std::vector<float> got = average_of(iterates, 1.0f);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[std::size_t(i)], iterates.back()[std::size_t(i)]);
}

TEST(ParameterAverageTest, RefusesARateOutsideTheUnitIntervalAndAnAverageOfNothing) {
  Context ctx(Backend::cpu);
  Arena arena(ctx);
  EXPECT_THROW(ParameterAverage(arena, Shape{3}, 0.0f), std::invalid_argument);
  EXPECT_THROW(ParameterAverage(arena, Shape{3}, 1.5f), std::invalid_argument);
  ParameterAverage average(arena, Shape{3}, 0.5f);
  Tensor out = arena.tensor(Shape{3});
  EXPECT_THROW(average.write_average(ctx, 0, out.data), std::invalid_argument);
}

} // namespace
} // namespace sgan
