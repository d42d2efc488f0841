#include "engine/graph/parameters.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "kernels/philox.h"

namespace sgan {

Init Init::glorot_uniform(std::int64_t fan_in, std::int64_t fan_out) {
  const float limit = static_cast<float>(std::sqrt(6.0 / double(fan_in + fan_out)));
  return uniform(-limit, limit);
}

Parameter& ParameterSet::declare(std::string name, const Shape& shape, Init init, bool trainable) {
  if (allocated_)
    throw std::logic_error(fmt::format("parameter '{}' declared after allocation", name));
  if (find(name)) throw std::logic_error(fmt::format("parameter '{}' declared twice", name));
  auto p = std::make_unique<Parameter>();
  p->name = std::move(name);
  p->shape = shape;
  p->init = init;
  p->trainable = trainable;
  parameters_.push_back(std::move(p));
  return *parameters_.back();
}

void ParameterSet::allocate(Arena& arena) {
  std::size_t trainable = 0, state = 0;
  for (const auto& p : parameters_) (p->trainable ? trainable : state) += p->shape.size();
  const Device device = arena.context().device();
  values_ = {arena.allocate<float>(trainable), Shape{int(trainable)}, device};
  grads_ = {arena.allocate<float>(trainable), Shape{int(trainable)}, device};
  state_ = {arena.allocate<float>(state), Shape{int(state)}, device};
  std::size_t t = 0, s = 0;
  for (const auto& p : parameters_) {
    if (p->trainable) {
      p->value = {values_.data + t, p->shape, device};
      p->grad = {grads_.data + t, p->shape, device};
      t += p->shape.size();
    } else {
      p->value = {state_.data + s, p->shape, device};
      s += p->shape.size();
    }
  }
  allocated_ = true;
}

void ParameterSet::initialize(Context& ctx, std::uint64_t seed) {
  std::vector<float> host;
  const std::uint64_t counter = 0;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Parameter& p = *parameters_[i];
    const std::size_t n = p.shape.size();
    host.assign(n, p.init.a);
    const PhiloxStream stream{seed, static_cast<std::uint32_t>(i)};
    if (p.init.kind == Init::Kind::uniform)
      cpu::philox_uniform(n, stream, &counter, p.init.a, p.init.b, host.data());
    else if (p.init.kind == Init::Kind::normal)
      cpu::philox_normal(n, stream, &counter, p.init.a, p.init.b, host.data());
    ctx.upload(p.value.data, host.data(), n * sizeof(float));
  }
}

void ParameterSet::zero_grads(Context& ctx) { ctx.zero(grads_.data, grads_.size() * sizeof(float)); }

Parameter* ParameterSet::find(std::string_view name) const {
  for (const auto& p : parameters_)
    if (p->name == name) return p.get();
  return nullptr;
}

}  // namespace sgan
