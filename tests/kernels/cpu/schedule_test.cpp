#include <gtest/gtest.h>

#include <cmath>

#include "kernels/schedule.h"

namespace sgan {
namespace {

TEST(LrSchedule, ConstantWhenNoDecayWindow) {
  const LrSchedule s{3e-3f, 0.0f, 0, 0};
  for (std::int64_t t : {1, 10, 100000}) EXPECT_EQ(scheduled_lr(s, t), double(3e-3f));
}

TEST(LrSchedule, LinearDecayBetweenStartAndEnd) {
  // base 1.0 at t <= 100, 0.0 at t >= 300, halfway at t = 200.
  const LrSchedule s{1.0f, 0.0f, 100, 300};
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 1), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 100), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 150), 0.75);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 200), 0.5);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 300), 0.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 301), 0.0);
}

TEST(AdvanceOptimizerStep, WritesBiasCorrectionsOfTheNewStep) {
  const AdamHyper hyper{0.5f, 0.999f, 1e-8f, 0.0f};
  const LrSchedule schedule{2e-4f, 2e-4f, 0, 0};
  std::int64_t step = 0;
  AdamStepScalars scalars;
  for (int t = 1; t <= 10; ++t) {
    cpu::advance_optimizer_step(hyper, schedule, &step, &scalars);
    EXPECT_EQ(step, t);
    // The hyperparameters are floats; the powers are taken of their exact values in double.
    EXPECT_FLOAT_EQ(scalars.lr, 2e-4f);
    EXPECT_FLOAT_EQ(scalars.bias_correction1, float(1.0 - std::pow(double(0.5f), t)));
    EXPECT_FLOAT_EQ(scalars.bias_correction2, float(1.0 - std::pow(double(0.999f), t)));
  }
}

TEST(AdvanceCounter, IncrementsByOne) {
  std::uint64_t counter = 41;
  cpu::advance_counter(&counter);
  EXPECT_EQ(counter, 42u);
}

}  // namespace
}  // namespace sgan
