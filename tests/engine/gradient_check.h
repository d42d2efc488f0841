#pragma once
// What the engine's layer and model tests share: moving a tensor to and from the host, a model of
// its own on the CPU backend, and the finite-difference check of a whole model's backward pass.
//
// The check: L = sum_i r_i y_i, y the output of layer `from` (the model's last by default) and r a
// fixed random vector, so dL/dy = r. Every element of x and of every trainable parameter is
// perturbed in place by +-h through the engine's own forward pass (ParameterSet values are
// perturbed where they live), dL/dp ~ (L(p + h) - L(p - h)) / (2 h), and compared with what
// backward_from(from, r) returns and accumulates.
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/core/tensor.h"
#include "engine/graph/model.h"
#include "tests/support/compare.h"

#include <cstddef>
#include <cstdint>
#include <gtest/gtest.h>
#include <string>
#include <string_view>
#include <vector>

namespace sgan::test {

inline std::vector<float> to_host(Context& ctx, const Tensor& t) {
  std::vector<float> host(t.size());
  ctx.download(host.data(), t.data, host.size() * sizeof(float));
  return host;
}

inline void from_host(Context& ctx, const Tensor& t, const std::vector<float>& host) {
  ASSERT_EQ(host.size(), t.size());
  ctx.upload(t.data, host.data(), host.size() * sizeof(float));
}

// A model of its own on the CPU backend: a 1 MiB arena, the Philox stream its dropout and noise
// layers draw from (seed `rng_seed`, the counter starting at `counter`) and, once a test has added
// its layers and called build, the input x drawn from U(-1, 1).
struct CpuModelHarness {
  CpuModelHarness(std::uint32_t rng_stream_base, std::uint64_t rng_seed,
                  std::uint64_t counter_start)
      : model("test", rng_stream_base), counter(counter_start), rng{rng_seed, &counter} {}

  Context ctx{Backend::cpu};
  Arena arena{ctx, std::size_t(1) << 20};
  Model model;
  std::uint64_t counter;
  RngState rng;
  Tensor x;

  void build(const Shape& input, std::uint64_t seed) {
    model.build(arena, input);
    model.initialize(ctx, seed);
    model.set_rng(&rng);
    x = arena.tensor(input);
    from_host(ctx, x, random_uniform<float>(x.size(), seed + 1));
  }
  std::vector<float> forward() { return to_host(ctx, model.forward(ctx, x)); }
};

// Central differences of loss() over the n floats at p (host memory), each perturbed in place
// and restored. The denominator is the step actually taken after rounding p +- h to float, so
// what remains is the O(h^2) truncation and the loss's own float rounding over 2h.
template <typename Loss>
std::vector<double> float_numeric_gradient(float* p, std::size_t n, float h, Loss&& loss) {
  std::vector<double> gradient(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float saved = p[i];
    p[i] = saved + h;
    const double step_up = p[i];
    const double plus = loss();
    p[i] = saved - h;
    const double step_down = p[i];
    const double minus = loss();
    p[i] = saved;
    gradient[i] = (plus - minus) / (step_up - step_down);
  }
  return gradient;
}

struct FiniteDifferences {
  float h = 1e-2f;
  double rel_l2 = 1e-3;  // on the whole gradient of x or of one parameter
  double max_abs = 1e-3; // on its worst element
};

// x is a CPU tensor the model can take; r is drawn from `seed`. Checks dL/dx and the gradient of
// every trainable parameter, naming the parameter on failure.
inline void expect_gradients_match_finite_differences(Context& ctx, Model& model, const Tensor& x,
                                                      std::string_view from,
                                                      const FiniteDifferences& fd,
                                                      std::uint64_t seed) {
  ASSERT_EQ(ctx.backend(), Backend::cpu);
  model.forward(ctx, x);
  const Tensor y = model.output(from);
  std::vector<float> r = random_uniform<float>(y.size(), seed);
  auto loss = [&] {
    model.forward(ctx, x);
    const Tensor out = model.output(from);
    double total = 0;
    for (std::size_t i = 0; i < out.size(); ++i) total += double(out.data[i]) * r[i];
    return total;
  };

  model.parameters().zero_grads(ctx);
  model.forward(ctx, x);
  const Tensor dx = model.backward_from(ctx, from, Tensor{r.data(), y.shape, Device::cpu});
  ASSERT_EQ(dx.shape, x.shape) << "the input gradient has the input's shape";
  const std::vector<float> analytic_dx = to_host(ctx, dx);
  EXPECT_TRUE(close(float_numeric_gradient(x.data, x.size(), fd.h, loss), analytic_dx, fd.rel_l2,
                    fd.max_abs))
      << "dL/dx, L on the output of " << from;
  for (const auto& p : model.parameters().all()) {
    if (!p->trainable) continue;
    const std::vector<float> analytic = to_host(ctx, p->grad);
    EXPECT_TRUE(close(float_numeric_gradient(p->value.data, p->value.size(), fd.h, loss), analytic,
                      fd.rel_l2, fd.max_abs))
        << "dL/d " << p->name << ", L on the output of " << from;
  }
}

inline void expect_gradients_match_finite_differences(Context& ctx, Model& model, const Tensor& x,
                                                      const FiniteDifferences& fd,
                                                      std::uint64_t seed) {
  expect_gradients_match_finite_differences(ctx, model, x, model.layers().back()->name(), fd, seed);
}

} // namespace sgan::test
