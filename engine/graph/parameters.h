#pragma once
// A model's parameters. Trainable ones are views into one contiguous values buffer and one
// contiguous gradients buffer (zeroing grads is one memset, an optimiser step one launch, a
// checkpoint one write); the rest (batchnorm running statistics, a frozen weight-norm scale) are
// views into one state buffer, saved with the model but never touched by an optimiser.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/core/tensor.h"

namespace sgan {

// How a parameter starts. Draws are made on the host from Philox (seed, parameter index), so
// every backend starts from bitwise the same weights.
struct Init {
  enum class Kind { constant, uniform, normal };
  Kind kind = Kind::constant;
  float a = 0.0f, b = 0.0f;  // constant: a; uniform: [a, b); normal: mean a, stddev b

  static Init constant(float value) { return {Kind::constant, value, 0.0f}; }
  static Init uniform(float lo, float hi) { return {Kind::uniform, lo, hi}; }
  static Init normal(float mean, float stddev) { return {Kind::normal, mean, stddev}; }
  // Keras' glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
  static Init glorot_uniform(std::int64_t fan_in, std::int64_t fan_out);
};

struct Parameter {
  std::string name;  // "<layer>.<what>", e.g. "conv1.weight"
  Shape shape;
  Init init;
  bool trainable = true;
  Tensor value;
  Tensor grad;  // empty for state
};

class ParameterSet {
 public:
  // Declares a parameter; its memory exists after allocate(). The reference stays valid.
  Parameter& declare(std::string name, const Shape& shape, Init init, bool trainable = true);
  void allocate(Arena& arena);

  // Draws every parameter from its Init (host side) and uploads it.
  void initialize(Context& ctx, std::uint64_t seed);
  void zero_grads(Context& ctx);

  const std::vector<std::unique_ptr<Parameter>>& all() const { return parameters_; }
  Parameter* find(std::string_view name) const;
  // The flat buffers: every trainable value, every trainable gradient, every state value.
  Tensor values() const { return values_; }
  Tensor grads() const { return grads_; }
  Tensor state() const { return state_; }
  std::size_t trainable_count() const { return values_.size(); }

 private:
  std::vector<std::unique_ptr<Parameter>> parameters_;
  Tensor values_, grads_, state_;
  bool allocated_ = false;
};

}  // namespace sgan
