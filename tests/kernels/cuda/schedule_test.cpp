#include <gtest/gtest.h>

#include "kernels/schedule.h"
#include "tests/support/gpu.h"

namespace sgan {
namespace {

TEST(CudaAdvanceOptimizerStep, MatchesCpuStepByStep) {
  SGAN_REQUIRE_GPU();
  const AdamHyper hyper{0.5f, 0.999f, 1e-8f, 0.0f};
  const LrSchedule schedule{3e-3f, 1e-4f, 3, 8};
  test::DeviceBuffer<std::int64_t> step(std::vector<std::int64_t>{0});
  test::DeviceBuffer<AdamStepScalars> scalars(1);
  std::int64_t host_step = 0;
  AdamStepScalars host_scalars;
  for (int t = 1; t <= 12; ++t) {
    cuda::advance_optimizer_step(hyper, schedule, step.get(), scalars.get(), nullptr);
    cpu::advance_optimizer_step(hyper, schedule, &host_step, &host_scalars);
    EXPECT_EQ(step.to_host()[0], host_step);
    const AdamStepScalars got = scalars.to_host()[0];
    // Both sides evaluate the same double expression; device pow may differ by an ulp of double.
    EXPECT_FLOAT_EQ(got.lr, host_scalars.lr);
    EXPECT_FLOAT_EQ(got.bias_correction1, host_scalars.bias_correction1);
    EXPECT_FLOAT_EQ(got.bias_correction2, host_scalars.bias_correction2);
  }
}

TEST(CudaAdvanceCounter, IncrementsByOne) {
  SGAN_REQUIRE_GPU();
  test::DeviceBuffer<std::uint64_t> counter(std::vector<std::uint64_t>{7});
  cuda::advance_counter(counter.get(), nullptr);
  cuda::advance_counter(counter.get(), nullptr);
  EXPECT_EQ(counter.to_host()[0], 9u);
}

}  // namespace
}  // namespace sgan
