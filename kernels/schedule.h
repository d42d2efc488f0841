#pragma once
// The per-step scalars of an optimiser, advanced on the device so that a captured CUDA graph
// replays step after step with no host involvement: the step count and the Philox counter live in
// backend memory, and one tiny kernel moves them forward and writes the learning rate and Adam's
// bias corrections of the new step.
//
// Learning rate at step t (1-based):  base for t <= decay_start; then linear to final_lr at
// t = decay_end; final_lr after (decay_end <= decay_start: constant base).
#include <cmath>
#include <cstdint>

#include "kernels/backend.h"
#include "kernels/optimizers.h"

namespace sgan {

struct LrSchedule {
  float base_lr = 1e-3f;
  float final_lr = 1e-3f;
  std::int64_t decay_start = 0, decay_end = 0;
};

SGAN_HOST_DEVICE inline double scheduled_lr(const LrSchedule& s, std::int64_t t) {
  if (s.decay_end <= s.decay_start || t <= s.decay_start) return s.base_lr;
  if (t >= s.decay_end) return s.final_lr;
  const double f = double(t - s.decay_start) / double(s.decay_end - s.decay_start);
  return s.base_lr + f * (double(s.final_lr) - double(s.base_lr));
}

// Adam's scalars of step t: lr(t), 1 - beta1^t, 1 - beta2^t, in double.
SGAN_HOST_DEVICE inline AdamStepScalars adam_scalars_at(const AdamHyper& h, const LrSchedule& s,
                                                        std::int64_t t) {
  AdamStepScalars out;
  out.lr = static_cast<float>(scheduled_lr(s, t));
  out.bias_correction1 = static_cast<float>(1.0 - pow(double(h.beta1), double(t)));
  out.bias_correction2 = static_cast<float>(1.0 - pow(double(h.beta2), double(t)));
  return out;
}

namespace cpu {
// ++*step, then *scalars = adam_scalars_at(hyper, schedule, *step).
void advance_optimizer_step(const AdamHyper& hyper, const LrSchedule& schedule, std::int64_t* step,
                            AdamStepScalars* scalars);
// *counter += 1
void advance_counter(std::uint64_t* counter);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void advance_optimizer_step(const AdamHyper& hyper, const LrSchedule& schedule, std::int64_t* step,
                            AdamStepScalars* scalars, cudaStream_t stream);
void advance_counter(std::uint64_t* counter, cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
