// The engine's Optimizer over a small ParameterSet on the CPU backend, and the parameter EMA op,
// against the rules of kernels/optimizers.h and kernels/schedule.h written out here in double:
//   Adam:  g' = g + wd p,  m = b1 m + (1 - b1) g',  v = b2 v + (1 - b2) g'^2,
//          p -= lr(t) (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//   SGD:   g' = g + wd p,  u = momentum u + g',  p -= lr(t) u
//   lr(t): base for t <= decay_start, linear to final at decay_end, final after
//   EMA:   ema += rate (p - ema)
//
// Tolerances. The engine stores p, m and v in float after every step and its per-step scalars
// (lr, 1 - b^t) in float; the references here keep everything in double. Each rounding is at most
// 2^-24 (6e-8) relative, so after a handful of steps of size ~lr on values of size ~1 the two agree
// to ~1e-6; the bound used is 2e-6 absolute on values below 2. Every mistake these tests look for
// (a missing bias correction, eps in the wrong place, the lr of the wrong step, a missing weight
// decay or momentum term) moves a value by 1e-4 or more.
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/core/ops.h"
#include "engine/graph/parameters.h"
#include "engine/train/optimizer.h"

#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

constexpr double value_tolerance = 2e-6;

// Two trainable parameters around a state parameter that no optimiser may touch.
class OptimizerTest : public ::testing::Test {
protected:
  void SetUp() override {
    params_.declare("first.weight", Shape{2, 3}, Init::constant(0.0f));
    params_.declare("first.running_mean", Shape{4}, Init::constant(0.0f), false);
    params_.declare("second.bias", Shape{5}, Init::constant(0.0f));
    params_.allocate(arena_);
    const std::vector<float> state{0.5f, -1.5f, 2.5f, 7.0f};
    ctx_.upload(params_.state().data, state.data(), state.size() * sizeof(float));
  }

  std::size_t n() const { return params_.trainable_count(); }
  void set(const Tensor& t, const std::vector<double>& host) {
    ASSERT_EQ(host.size(), t.size());
    const std::vector<float> f(host.begin(), host.end());
    ctx_.upload(t.data, f.data(), f.size() * sizeof(float));
  }
  std::vector<float> get(const Tensor& t) {
    std::vector<float> host(t.size());
    ctx_.download(host.data(), t.data, host.size() * sizeof(float));
    return host;
  }
  // Initial values p_i = cos(0.3 i) and gradients of step t g_i = sin(1.7 t + 0.9 i): every
  // element a different, non-zero size.
  std::vector<double> initial_values() const {
    std::vector<double> p(n());
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::cos(0.3 * double(i));
    return p;
  }
  std::vector<double> gradients(int t) const {
    std::vector<double> g(n());
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = std::sin(1.7 * t + 0.9 * double(i));
    return g;
  }
  void expect_values(const Tensor& t, const std::vector<double>& expected, double tolerance,
                     const char* what, int step) {
    const std::vector<float> got = get(t);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], expected[i], tolerance) << what << "[" << i << "] after step " << step;
  }
  void expect_state_untouched() {
    EXPECT_EQ(get(params_.state()), (std::vector<float>{0.5f, -1.5f, 2.5f, 7.0f}));
  }

  Context ctx_{Backend::cpu};
  Arena arena_{ctx_, std::size_t(1) << 20};
  ParameterSet params_;
};

// A decaying schedule: base 0.01 for t <= 2, linear to 0.002 at t = 5, then 0.002.
constexpr LrSchedule decaying{0.01f, 0.002f, 2, 5};
// lr(t) of `decaying`, t = 1..6, worked out by hand.
const double decaying_lr[] = {0.01, 0.01, 0.01 - 0.008 / 3, 0.01 - 0.016 / 3, 0.002, 0.002};

TEST_F(OptimizerTest, AdamFollowsTheBiasCorrectedUpdateWithWeightDecayAndTheSchedule) {
  OptimizerConfig config;
  config.kind = OptimizerConfig::Kind::adam;
  // Not the defaults, so hard-coded constants would show; eps large enough that its place in the
  // formula (outside the square root, after the bias correction) changes the step by ~10%.
  config.adam = {0.8f, 0.95f, 0.05f, 0.1f};
  config.schedule = decaying;
  Optimizer optimizer(arena_, params_, config);

  const double b1 = 0.8, b2 = 0.95, eps = 0.05, wd = 0.1;
  std::vector<double> p = initial_values(), m(n(), 0.0), v(n(), 0.0);
  set(params_.values(), p);
  for (int t = 1; t <= 6; ++t) {
    const std::vector<double> g = gradients(t);
    set(params_.grads(), g);
    optimizer.step(ctx_);
    EXPECT_EQ(optimizer.steps(ctx_), t);
    const double lr = decaying_lr[t - 1];
    for (std::size_t i = 0; i < n(); ++i) {
      const double gw = double(float(g[i])) + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gw;
      v[i] = b2 * v[i] + (1 - b2) * gw * gw;
      p[i] -= lr * (m[i] / (1 - std::pow(b1, t))) / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
    }
    expect_values(params_.values(), p, value_tolerance, "p", t);
  }
  // The moments are relative quantities of size ~0.1 to 1: the same float-rounding bound.
  expect_values(optimizer.first_moment(), m, value_tolerance, "m", 6);
  expect_values(optimizer.second_moment(), v, value_tolerance, "v", 6);
  expect_state_untouched();
  const std::vector<double> g6 = gradients(6);
  EXPECT_EQ(get(params_.grads()), std::vector<float>(g6.begin(), g6.end()))
      << "the optimiser reads the gradients and leaves them as they were";
}

TEST_F(OptimizerTest, SgdWithMomentumAndWeightDecayFollowsThePyTorchUpdate) {
  OptimizerConfig config;
  config.kind = OptimizerConfig::Kind::sgd;
  config.sgd = {0.9f, 0.05f};
  config.schedule = {0.1f, 0.1f, 0, 0};
  Optimizer optimizer(arena_, params_, config);
  EXPECT_EQ(optimizer.second_moment().data, nullptr) << "SGD keeps one moment, the velocity";

  const double lr = double(0.1f), momentum = double(0.9f), wd = double(0.05f);
  std::vector<double> p = initial_values(), u(n(), 0.0);
  set(params_.values(), p);
  for (int t = 1; t <= 5; ++t) {
    const std::vector<double> g = gradients(t);
    set(params_.grads(), g);
    optimizer.step(ctx_);
    for (std::size_t i = 0; i < n(); ++i) {
      u[i] = momentum * u[i] + double(float(g[i])) + wd * p[i];
      p[i] -= lr * u[i];
    }
    expect_values(params_.values(), p, value_tolerance, "p", t);
  }
  // The velocity grows to a few units (sum of momentum-weighted gradients): float rounding of
  // values up to ~5 over five steps stays well under 1e-5.
  expect_values(optimizer.first_moment(), u, 1e-5, "velocity", 5);
  expect_state_untouched();
}

// With p = 0 and g = 1 before a plain SGD step, the step leaves p = -lr(t): the rate the
// optimiser used at step t, read exactly up to float roundings (of the base and final rates and
// of lr(t) itself, each at most 6e-8 relative; a rate of the wrong step is off by 10% or more).
std::vector<double> rates_used(Context& ctx, ParameterSet& params, Arena& arena,
                               const LrSchedule& schedule, int steps) {
  OptimizerConfig config;
  config.kind = OptimizerConfig::Kind::sgd;
  config.schedule = schedule;
  Optimizer optimizer(arena, params, config);
  const std::size_t n = params.trainable_count();
  const std::vector<float> zeros(n, 0.0f), ones(n, 1.0f);
  std::vector<double> rates;
  for (int t = 1; t <= steps; ++t) {
    ctx.upload(params.values().data, zeros.data(), n * sizeof(float));
    ctx.upload(params.grads().data, ones.data(), n * sizeof(float));
    optimizer.step(ctx);
    std::vector<float> p(n);
    ctx.download(p.data(), params.values().data, n * sizeof(float));
    for (std::size_t i = 1; i < n; ++i) EXPECT_EQ(p[i], p[0]) << "one rate for every element";
    rates.push_back(-double(p[0]));
  }
  return rates;
}

void expect_rates(const std::vector<double>& got, const std::vector<double>& expected) {
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t t = 0; t < got.size(); ++t)
    EXPECT_NEAR(got[t], expected[t], 2e-7 * expected[t]) << "lr at step " << t + 1;
}

TEST_F(OptimizerTest, LearningRateDecaysLinearlyToItsFloorAndStaysThere) {
  // Base 0.01 through step 3, linear to 0.001 at step 7 (a quarter of 0.009 per step), then 0.001.
  const std::vector<double> expected{0.01,    0.01,  0.01,  0.00775, 0.0055,
                                     0.00325, 0.001, 0.001, 0.001,   0.001};
  expect_rates(rates_used(ctx_, params_, arena_, {0.01f, 0.001f, 3, 7}, 10), expected);
}

TEST_F(OptimizerTest, LearningRateIsTheBaseRateWhenTheDecayWindowIsEmpty) {
  // decay_end <= decay_start means no decay at all: final_lr is never used.
  const std::vector<double> base(6, double(0.02f));
  expect_rates(rates_used(ctx_, params_, arena_, {0.02f, 0.001f, 0, 0}, 6), base);
  expect_rates(rates_used(ctx_, params_, arena_, {0.02f, 0.001f, 5, 3}, 6), base);
}

TEST_F(OptimizerTest, SetStepsResumesTheScheduleAndTheBiasCorrectionsWhereTheyLeftOff) {
  OptimizerConfig config;
  config.adam = {0.8f, 0.95f, 0.05f, 0.0f};
  config.schedule = {0.01f, 0.001f, 40, 50};
  Optimizer optimizer(arena_, params_, config);
  EXPECT_EQ(optimizer.steps(ctx_), 0);
  optimizer.set_steps(ctx_, 41);
  EXPECT_EQ(optimizer.steps(ctx_), 41);

  // The next step is t = 42: lr = 0.01 + (2/10)(0.001 - 0.01) = 0.0082, with the corrections of
  // step 42 (1 - 0.95^42 = 0.88, where step 1's would be 0.05) applied to fresh moments.
  const std::vector<double> p0 = initial_values(), g = gradients(1);
  set(params_.values(), p0);
  set(params_.grads(), g);
  optimizer.step(ctx_);
  EXPECT_EQ(optimizer.steps(ctx_), 42);
  const double b1 = 0.8, b2 = 0.95, eps = 0.05, lr = 0.0082;
  std::vector<double> p(n());
  for (std::size_t i = 0; i < n(); ++i) {
    const double gi = double(float(g[i]));
    const double m = (1 - b1) * gi, v = (1 - b2) * gi * gi;
    p[i] =
        p0[i] - lr * (m / (1 - std::pow(b1, 42))) / (std::sqrt(v / (1 - std::pow(b2, 42))) + eps);
  }
  expect_values(params_.values(), p, value_tolerance, "p", 42);
}

TEST_F(OptimizerTest, ParametersGradientsAndMomentsAreEachOneContiguousBuffer) {
  OptimizerConfig config;
  Optimizer optimizer(arena_, params_, config);
  const Tensor values = params_.values(), grads = params_.grads(), state = params_.state();
  ASSERT_EQ(n(), 6u + 5u) << "the trainable elements, in declaration order";
  std::size_t trainable_offset = 0, state_offset = 0;
  for (const auto& p : params_.all()) {
    if (p->trainable) {
      EXPECT_EQ(p->value.data, values.data + trainable_offset) << p->name;
      EXPECT_EQ(p->grad.data, grads.data + trainable_offset) << p->name;
      trainable_offset += p->shape.size();
    } else {
      EXPECT_EQ(p->value.data, state.data + state_offset) << p->name;
      EXPECT_EQ(p->grad.data, nullptr) << p->name << " is state: no gradient";
      state_offset += p->shape.size();
    }
  }
  EXPECT_EQ(trainable_offset, n());
  EXPECT_EQ(state_offset, state.size());
  EXPECT_EQ(optimizer.first_moment().size(), n());
  EXPECT_EQ(optimizer.second_moment().size(), n());

  // The five flat buffers do not overlap.
  struct Range {
    const char* name;
    std::uintptr_t begin, end;
  };
  auto range = [](const char* name, const Tensor& t) {
    const auto begin = reinterpret_cast<std::uintptr_t>(t.data);
    return Range{name, begin, begin + t.size() * sizeof(float)};
  };
  const Range ranges[] = {range("values", values), range("grads", grads), range("state", state),
                          range("m", optimizer.first_moment()),
                          range("v", optimizer.second_moment())};
  for (const Range& a : ranges)
    for (const Range& b : ranges)
      if (&a != &b) {
        EXPECT_TRUE(a.end <= b.begin || b.end <= a.begin) << a.name << " overlaps " << b.name;
      }
}

TEST(ParameterEmaTest, EmaUpdateMovesTheAverageTowardTheParametersByTheRate) {
  Context ctx(Backend::cpu);
  Arena arena(ctx, std::size_t(1) << 20);
  constexpr int n = 7;
  const Tensor params = arena.tensor(Shape{n}), ema = arena.tensor(Shape{n});
  const float rate = 0.25f;
  std::vector<double> expected(n);
  std::vector<float> start(n);
  for (int i = 0; i < n; ++i) start[std::size_t(i)] = float(0.5 - 0.2 * i);
  ctx.upload(ema.data, start.data(), sizeof(float) * n);
  for (int i = 0; i < n; ++i) expected[std::size_t(i)] = start[std::size_t(i)];
  for (int t = 1; t <= 5; ++t) {
    std::vector<float> p(n);
    for (int i = 0; i < n; ++i) p[std::size_t(i)] = float(std::sin(0.9 * t + 0.4 * i) * (1 + i));
    ctx.upload(params.data, p.data(), sizeof(float) * n);
    ops::ema_update(ctx, n, rate, params.data, ema.data);
    std::vector<float> got(n);
    ctx.download(got.data(), ema.data, sizeof(float) * n);
    for (int i = 0; i < n; ++i) {
      const std::size_t k = std::size_t(i);
      expected[k] += double(rate) * (double(p[k]) - expected[k]);
      // One float rounding per update on values below 7: ~4e-7 each, five updates.
      EXPECT_NEAR(got[k], expected[k], 3e-6) << "ema[" << i << "] after update " << t;
    }
  }
}

TEST(ParameterEmaTest, RateOneCopiesTheParameters) {
  Context ctx(Backend::cpu);
  Arena arena(ctx, std::size_t(1) << 20);
  const Tensor params = arena.tensor(Shape{3}), ema = arena.tensor(Shape{3});
  const std::vector<float> p{1.25f, -3.0f, 1e-3f}, e{9.0f, 9.0f, 9.0f};
  ctx.upload(params.data, p.data(), sizeof(float) * 3);
  ctx.upload(ema.data, e.data(), sizeof(float) * 3);
  ops::ema_update(ctx, 3, 1.0f, params.data, ema.data);
  std::vector<float> got(3);
  ctx.download(got.data(), ema.data, sizeof(float) * 3);
  EXPECT_EQ(got, p);
}

} // namespace
} // namespace sgan
