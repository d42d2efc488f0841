#pragma once
// A layer of the graph. Its life: plan (given the largest input it will see, declare parameters
// and return the output shape), allocate (reserve its activations from the arena), then any number
// of forward/backward passes on batches of up to the planned rows, which allocate nothing.
//
// forward(x) returns a view of the layer's own output buffer (rows = x's rows) and remembers x for
// the backward pass, so x must stay untouched until then. backward(dy) takes the gradient of the
// loss with respect to that output; it accumulates (+=) parameter gradients when asked and returns
// dx (a view of the layer's own buffer) when asked, else an empty tensor.
#include <cstdint>
#include <string>

#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/core/tensor.h"
#include "engine/graph/parameters.h"

namespace sgan {

struct BackwardOptions {
  bool param_grads = true;  // false for a frozen model (G's step backpropagates through D)
  bool input_grad = true;   // false for the first layer of the model being trained
};

// The random numbers of a pass: dropout and noise layers draw from Philox with this seed, their
// own stream, and the counter found at `counter` (backend memory, so a replayed CUDA graph sees the
// counter the trainer advanced). A layer's backward regenerates its forward's draws from them.
struct RngState {
  std::uint64_t seed = 0;
  const std::uint64_t* counter = nullptr;
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }

  virtual Shape plan(const Shape& input, ParameterSet& params) = 0;
  virtual void allocate(Arena& arena) = 0;
  virtual Tensor forward(Context& ctx, const Tensor& x) = 0;
  virtual Tensor backward(Context& ctx, const Tensor& dy, const BackwardOptions& options) = 0;

  virtual void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }
  // Stream id for the layer's random draws, given by the model (unique per layer and model).
  void set_rng(std::uint32_t stream, const RngState* rng) {
    rng_stream_ = stream;
    rng_ = rng;
  }

 protected:
  bool training_ = true;
  std::uint32_t rng_stream_ = 0;
  const RngState* rng_ = nullptr;

 private:
  std::string name_;
};

}  // namespace sgan
