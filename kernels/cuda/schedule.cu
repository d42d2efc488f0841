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

}  // namespace

void advance_optimizer_step(const AdamHyper& hyper, const LrSchedule& schedule, std::int64_t* step,
                            AdamStepScalars* scalars, cudaStream_t stream) {
  advance_optimizer_step_kernel<<<1, 1, 0, stream>>>(hyper, schedule, step, scalars);
  CUDA_CHECK_LAUNCH();
}

void advance_counter(std::uint64_t* counter, cudaStream_t stream) {
  advance_counter_kernel<<<1, 1, 0, stream>>>(counter);
  CUDA_CHECK_LAUNCH();
}

}  // namespace sgan::cuda
