#include "engine/train/optimizer.h"

#include "engine/core/ops.h"

namespace sgan {

Optimizer::Optimizer(Arena& arena, ParameterSet& params, const OptimizerConfig& config)
    : params_(params), config_(config) {
  const std::size_t n = params.trainable_count();
  const Device device = arena.context().device();
  m_ = {arena.allocate<float>(n), Shape{int(n)}, device};
  if (config.kind == OptimizerConfig::Kind::adam)
    v_ = {arena.allocate<float>(n), Shape{int(n)}, device};
  step_ = arena.allocate<std::int64_t>(1);
  scalars_ = arena.allocate<AdamStepScalars>(1);
}

void Optimizer::step(Context& ctx) {
  switch (ctx.backend()) {
  case Backend::cpu:
    cpu::advance_optimizer_step(config_.adam, config_.schedule, step_, scalars_);
    break;
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    cuda::advance_optimizer_step(config_.adam, config_.schedule, step_, scalars_, ctx.stream());
    break;
#endif
  default:
    throw std::logic_error("optimizer step on a backend that is not compiled in");
  }
  const std::size_t n = params_.trainable_count();
  if (config_.kind == OptimizerConfig::Kind::adam)
    ops::adam_update(ctx, config_.adam, n, scalars_, params_.values().data, params_.grads().data,
                     m_.data, v_.data);
  else
    ops::sgd_update(ctx, config_.sgd, n, &scalars_->lr, params_.values().data, params_.grads().data,
                    m_.data);
}

std::int64_t Optimizer::steps(Context& ctx) const {
  std::int64_t s = 0;
  ctx.download(&s, step_, sizeof s);
  return s;
}

void Optimizer::set_steps(Context& ctx, std::int64_t steps) {
  ctx.upload(step_, &steps, sizeof steps);
}

} // namespace sgan
