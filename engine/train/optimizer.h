#pragma once
// An optimiser over one model's flat parameter buffer: one launch advances the step count and
// writes the new step's scalars on the device, one launch updates every parameter. Nothing is
// read back to the host, so a step can sit inside a captured CUDA graph.
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/graph/parameters.h"
#include "kernels/optimizers.h"
#include "kernels/schedule.h"

#include <cstdint>

namespace sgan {

struct OptimizerConfig {
  enum class Kind { adam, sgd };
  Kind kind = Kind::adam;
  AdamHyper adam;      // beta1, beta2, eps, weight decay (adam)
  SgdHyper sgd;        // momentum, weight decay (sgd)
  LrSchedule schedule; // learning rate by step
};

class Optimizer {
public:
  Optimizer(Arena& arena, ParameterSet& params, const OptimizerConfig& config);

  // params -= update(grads), after advancing the step count and the scalars.
  void step(Context& ctx);

  // The state a checkpoint keeps: moments (Adam: m and v; SGD: velocity in m) and the step count.
  Tensor first_moment() const { return m_; }
  Tensor second_moment() const { return v_; }
  std::int64_t steps(Context& ctx) const;
  void set_steps(Context& ctx, std::int64_t steps);
  const OptimizerConfig& config() const { return config_; }

private:
  ParameterSet& params_;
  OptimizerConfig config_;
  Tensor m_, v_;
  std::int64_t* step_;       // backend memory
  AdamStepScalars* scalars_; // backend memory
};

} // namespace sgan
