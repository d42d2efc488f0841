#include "kernels/cuda/common.cuh"
#include "kernels/schedule.h"

namespace sgan::cuda {

namespace {

// One thread: the work is a handful of scalars, kept on the device so graphs can replay it.
__global__ void advance_optimizer_step_kernel(AdamHyper hyper, LrSchedule schedule,
                                              std::int64_t* step, AdamStepScalars* scalars) {
  *scalars = adam_scalars_at(hyper, schedule, ++*step);
}

__global__ void advance_counter_kernel(std::uint64_t* counter) { ++*counter; }

} // namespace

void advance_optimizer_step(const AdamHyper& hyper, const LrSchedule& schedule, std::int64_t* step,
                            AdamStepScalars* scalars, cudaStream_t stream) {
  launch({1, 1, stream}, advance_optimizer_step_kernel, hyper, schedule, step, scalars);
}

void advance_counter(std::uint64_t* counter, cudaStream_t stream) {
  launch({1, 1, stream}, advance_counter_kernel, counter);
}

} // namespace sgan::cuda
