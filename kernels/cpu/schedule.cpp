#include "kernels/schedule.h"

namespace sgan::cpu {

void advance_optimizer_step(const AdamHyper& hyper, const LrSchedule& schedule, std::int64_t* step,
                            AdamStepScalars* scalars) {
  *scalars = adam_scalars_at(hyper, schedule, ++*step);
}

void advance_counter(std::uint64_t* counter) { ++*counter; }

}  // namespace sgan::cpu
