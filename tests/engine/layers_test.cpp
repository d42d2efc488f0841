// The engine's layers on the CPU backend: every backward pass (input gradient and every
// parameter gradient) against central finite differences of L = sum(r * y) through the engine's
// own forward pass, and the behaviour each layer promises: eval-mode batchnorm on the running
// statistics, dropout and noise as the identity in eval mode, gradients that accumulate, frozen
// backward passes, views instead of copies, and clear errors for wrong shapes.
//
// Tolerances. The kernels accumulate in double and round once to float, so a forward output
// carries ~6e-8 relative error; over the ~100 outputs of these shapes the loss carries ~1e-6
// absolute, which a central difference with h = 1e-2 turns into ~1e-4 in a gradient element.
// Truncation is O(h^2 f''') ~ 2e-5 for the smooth ops (zero for the linear ones). The worst errors
// seen are 6e-5 relative L2 and 1.9e-4 absolute on O(1) gradients, so 1e-3 and 2e-3 leave a
// margin of ~10 while a wrong term shows at O(1).
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/graph/model.h"
#include "engine/layers/activation.h"
#include "engine/layers/batchnorm.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/conv_transpose2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/dropout.h"
#include "engine/layers/gaussian_noise.h"
#include "engine/layers/reshape.h"
#include "tests/engine/gradient_check.h"
#include "tests/support/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

constexpr test::FiniteDifferences fd{1e-2f, 1e-3, 2e-3};

// One layer (or a few) in a model of its own, checked with this file's tolerances.
struct Harness : test::CpuModelHarness {
  Harness() : CpuModelHarness(0, 42, 3) {}
  void check_gradients(std::uint64_t seed) {
    test::expect_gradients_match_finite_differences(ctx, model, x, fd, seed);
  }
};

// The fused epilogues checked against finite differences: the smooth ones. relu and leaky_relu
// have a kink at 0 where a finite difference straddling it is meaningless; they are checked
// exactly by expect_kinked_epilogue_masks_the_gradient instead.
const Activation smooth_epilogues[] = {Activation::identity(), Activation::tanh(),
                                       Activation::sigmoid(), Activation::softplus()};
const Activation kinked_epilogues[] = {Activation::relu(), Activation::leaky_relu(0.2f)};

// Adds the layer under test, with epilogue `a`, to a model.
using AddLayer = std::function<void(Model&, const Activation&)>;

// With a kinked epilogue f the layer must compute y = f(z), z its output without epilogue, and
// its backward must equal the backward without epilogue (checked against finite differences)
// fed dy f'(z), with f'(z) = 1 for z > 0 and the slope otherwise written out here. Both models
// are drawn from one seed, so they have the same weights and input.
void expect_kinked_epilogue_masks_the_gradient(const AddLayer& add, const Shape& input,
                                               const Activation& a) {
  SCOPED_TRACE(activation_name(a.kind));
  Harness linear, kinked;
  add(linear.model, Activation::identity());
  add(kinked.model, a);
  linear.build(input, 1);
  kinked.build(input, 1);
  const std::vector<float> z = linear.forward();
  const Tensor y = kinked.model.forward(kinked.ctx, kinked.x);
  std::vector<double> expected_y(z.size());
  std::vector<float> dy = test::random_uniform<float>(z.size(), 2), masked_dy(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) {
    expected_y[i] = z[i] > 0 ? z[i] : a.slope * z[i];
    masked_dy[i] = z[i] > 0 ? dy[i] : a.slope * dy[i];
  }
  EXPECT_TRUE(test::close(expected_y, test::to_host(kinked.ctx, y), 1e-7, 1e-7));

  const Tensor dx_linear =
      linear.model.backward(linear.ctx, Tensor{masked_dy.data(), y.shape, Device::cpu});
  const Tensor dx_kinked =
      kinked.model.backward(kinked.ctx, Tensor{dy.data(), y.shape, Device::cpu});
  // The same float products of the same dz: equal up to the order of the kernels' sums.
  EXPECT_TRUE(test::close(test::to_host(linear.ctx, dx_linear),
                          test::to_host(kinked.ctx, dx_kinked), 1e-6, 1e-6));
  EXPECT_TRUE(test::close(test::to_host(linear.ctx, linear.model.parameters().grads()),
                          test::to_host(kinked.ctx, kinked.model.parameters().grads()), 1e-6,
                          1e-6));
}

TEST(DenseLayerTest, BackwardMatchesFiniteDifferencesWithSmoothEpilogues) {
  for (const bool bias : {true, false})
    for (const Activation& a : smooth_epilogues) {
      SCOPED_TRACE(std::string(activation_name(a.kind)) + (bias ? " with bias" : " without bias"));
      Harness h;
      h.model.add<Dense>("fc", 4, DenseOptions{.activation = a, .bias = bias});
      h.build(Shape{3, 5}, 11);
      h.check_gradients(12);
    }
}

TEST(DenseLayerTest, KinkedEpiloguesMaskTheGradient) {
  for (const Activation& a : kinked_epilogues)
    expect_kinked_epilogue_masks_the_gradient(
        [](Model& m, const Activation& f) { m.add<Dense>("fc", 6, DenseOptions{.activation = f}); },
        Shape{5, 7}, a);
}

TEST(DenseLayerTest, WeightNormBackwardMatchesFiniteDifferencesWithTrainedAndFrozenScale) {
  for (const bool train_scale : {true, false}) {
    for (const Activation& a : {Activation::identity(), Activation::softplus()}) {
      SCOPED_TRACE(std::string(activation_name(a.kind)) +
                   (train_scale ? " trained scale" : " frozen scale"));
      Harness h;
      // v of unit scale: with the default N(0, 0.05) a step h = 1e-2 would be a tenth of ||v||
      // and the finite difference would measure curvature, not the gradient.
      Dense& dense = h.model.add<Dense>("fc", 4,
                                        DenseOptions{.activation = a,
                                                     .weight_norm = true,
                                                     .train_scale = train_scale,
                                                     .weight_init = Init::uniform(-1.0f, 1.0f)});
      h.build(Shape{3, 5}, 21);
      ASSERT_EQ(dense.weight(), nullptr);
      ASSERT_EQ(dense.weight_g()->trainable, train_scale);
      // g away from 1 so that a wrong power of g in the chain rule shows.
      test::from_host(h.ctx, dense.weight_g()->value, {0.5f, 1.5f, 2.0f, 0.8f});
      h.check_gradients(22);
    }
  }
}

TEST(DenseLayerTest, WeightNormForwardUsesUnitDirectionsScaledByG) {
  Harness h;
  Dense& dense = h.model.add<Dense>("fc", 3, DenseOptions{.bias = false, .weight_norm = true});
  h.build(Shape{2, 4}, 31);
  const std::vector<float> g = {0.5f, 2.0f, -1.0f};
  test::from_host(h.ctx, dense.weight_g()->value, g);
  const std::vector<float> y = h.forward();
  const std::vector<float> v = test::to_host(h.ctx, dense.weight_v()->value);
  const std::vector<float> x = test::to_host(h.ctx, h.x);
  std::vector<double> expected(y.size());
  for (int r = 0; r < 2; ++r)
    for (int o = 0; o < 3; ++o) {
      double norm = 0, dot = 0;
      for (int i = 0; i < 4; ++i) {
        norm += double(v[o * 4 + i]) * v[o * 4 + i];
        dot += double(x[r * 4 + i]) * v[o * 4 + i];
      }
      expected[r * 3 + o] = g[o] * dot / std::sqrt(norm);
    }
  // One rounding of each output to float.
  EXPECT_TRUE(test::close(expected, y, 1e-6, 1e-6));
}

TEST(Conv2dLayerTest, BackwardMatchesFiniteDifferencesForEveryStrideAndPadding) {
  for (const int stride : {1, 2})
    for (const Padding padding : {Padding::same, Padding::valid})
      for (const Activation& a : {Activation::identity(), Activation::tanh()}) {
        SCOPED_TRACE(std::string(activation_name(a.kind)) + " stride " + std::to_string(stride) +
                     (padding == Padding::same ? " same" : " valid"));
        Harness h;
        h.model.add<Conv2d>("conv", 3, 3, stride, padding, a);
        h.build(Shape{2, 2, 5, 5}, 41);
        h.check_gradients(42);
      }
}

TEST(Conv2dLayerTest, KinkedEpiloguesMaskTheGradient) {
  for (const Activation& a : kinked_epilogues)
    expect_kinked_epilogue_masks_the_gradient(
        [](Model& m, const Activation& f) { m.add<Conv2d>("conv", 3, 3, 2, Padding::same, f); },
        Shape{2, 2, 7, 7}, a);
}

TEST(ConvTranspose2dLayerTest, BackwardMatchesFiniteDifferences) {
  struct Case {
    int kernel, stride;
    Padding padding;
  };
  for (const Case c :
       {Case{4, 2, Padding::same}, Case{3, 2, Padding::valid}, Case{3, 1, Padding::same}})
    for (const Activation& a : {Activation::identity(), Activation::tanh()}) {
      SCOPED_TRACE(std::string(activation_name(a.kind)) + " k" + std::to_string(c.kernel) + " s" +
                   std::to_string(c.stride));
      Harness h;
      h.model.add<ConvTranspose2d>("deconv", 2, c.kernel, c.stride, c.padding, a);
      h.build(Shape{2, 3, 3, 3}, 51);
      h.check_gradients(52);
    }
}

TEST(ConvTranspose2dLayerTest, KinkedEpiloguesMaskTheGradient) {
  for (const Activation& a : kinked_epilogues)
    expect_kinked_epilogue_masks_the_gradient(
        [](Model& m, const Activation& f) {
          m.add<ConvTranspose2d>("deconv", 3, 4, 2, Padding::same, f);
        },
        Shape{2, 2, 3, 3}, a);
}

TEST(BatchNormLayerTest, TrainingBackwardMatchesFiniteDifferences1dAnd2d) {
  for (const Shape& input : {Shape{6, 4}, Shape{3, 2, 3, 3}})
    for (const bool scale : {true, false})
      for (const Activation& a : {Activation::identity(), Activation::softplus()}) {
        SCOPED_TRACE(input.str() + " " + activation_name(a.kind) +
                     (scale ? " with scale" : " without scale"));
        Harness h;
        BatchNorm& bn = h.model.add<BatchNorm>("bn", BatchNormHyper{}, a, scale);
        h.build(input, 61);
        ASSERT_EQ(bn.gamma()->trainable, scale);
        if (scale) {
          // gamma and beta away from 1 and 0 so that each enters the gradients visibly.
          const std::vector<float> gamma =
              test::random_uniform<float>(bn.gamma()->value.size(), 62, 0.5, 2);
          test::from_host(h.ctx, bn.gamma()->value, gamma);
        }
        test::from_host(h.ctx, bn.beta()->value,
                        test::random_uniform<float>(bn.beta()->value.size(), 63));
        h.check_gradients(64);
      }
}

TEST(BatchNormLayerTest, TrainingUpdatesRunningStatisticsWithUnbiasedVariance) {
  Harness h;
  BatchNorm& bn = h.model.add<BatchNorm>("bn", BatchNormHyper{.momentum = 0.25f, .eps = 1e-5f});
  h.build(Shape{4, 2, 1, 3}, 71);
  h.forward();
  const std::vector<float> x = test::to_host(h.ctx, h.x);
  std::vector<double> mean(2, 0), var(2, 0);
  const int m = 4 * 3;
  for (int c = 0; c < 2; ++c) {
    for (int n = 0; n < 4; ++n)
      for (int k = 0; k < 3; ++k) mean[c] += x[(n * 2 + c) * 3 + k] / double(m);
    for (int n = 0; n < 4; ++n)
      for (int k = 0; k < 3; ++k) var[c] += std::pow(x[(n * 2 + c) * 3 + k] - mean[c], 2) / (m - 1);
  }
  const std::vector<double> expected_mean = {0.25 * mean[0], 0.25 * mean[1]};
  const std::vector<double> expected_var = {0.75 + 0.25 * var[0], 0.75 + 0.25 * var[1]};
  EXPECT_TRUE(
      test::close(expected_mean, test::to_host(h.ctx, bn.running_mean()->value), 1e-6, 1e-6));
  EXPECT_TRUE(test::close(expected_var, test::to_host(h.ctx, bn.running_var()->value), 1e-6, 1e-6));
}

TEST(BatchNormLayerTest, EvalUsesRunningStatistics) {
  Harness h;
  BatchNorm& bn = h.model.add<BatchNorm>("bn", BatchNormHyper{.momentum = 0.1f, .eps = 1e-3f},
                                         Activation::tanh());
  h.build(Shape{5, 3}, 81);
  const std::vector<float> gamma = {1.5f, -0.5f, 2.0f}, beta = {0.1f, 0.2f, -0.3f};
  const std::vector<float> mean = {0.3f, -0.2f, 0.0f}, var = {0.5f, 2.0f, 0.1f};
  test::from_host(h.ctx, bn.gamma()->value, gamma);
  test::from_host(h.ctx, bn.beta()->value, beta);
  test::from_host(h.ctx, bn.running_mean()->value, mean);
  test::from_host(h.ctx, bn.running_var()->value, var);
  h.model.set_training(false);
  const std::vector<float> y = h.forward();
  const std::vector<float> x = test::to_host(h.ctx, h.x);
  std::vector<double> expected(x.size());
  for (int n = 0; n < 5; ++n)
    for (int c = 0; c < 3; ++c)
      expected[n * 3 + c] =
          std::tanh(gamma[c] * (x[n * 3 + c] - mean[c]) / std::sqrt(var[c] + 1e-3) + beta[c]);
  EXPECT_TRUE(test::close(expected, y, 1e-6, 1e-6));
  // Eval mode leaves the running statistics alone.
  EXPECT_EQ(test::to_host(h.ctx, bn.running_mean()->value), mean);
  EXPECT_EQ(test::to_host(h.ctx, bn.running_var()->value), var);
}

TEST(BatchNormLayerTest, BackwardAfterEvalForwardIsRefused) {
  Harness h;
  h.model.add<BatchNorm>("bn");
  h.build(Shape{4, 3}, 91);
  h.model.set_training(false);
  const Tensor y = h.model.forward(h.ctx, h.x);
  std::vector<float> dy(y.size(), 1.0f);
  EXPECT_THROW(h.model.backward(h.ctx, Tensor{dy.data(), y.shape, Device::cpu}), std::logic_error);
}

TEST(ActivationLayerTest, BackwardMatchesFiniteDifferences) {
  for (const Activation& a : {Activation::leaky_relu(0.2f), Activation::relu(), Activation::tanh(),
                              Activation::sigmoid(), Activation::softplus()}) {
    SCOPED_TRACE(activation_name(a.kind));
    Harness h;
    h.model.add<ActivationLayer>("act", a);
    h.build(Shape{3, 2, 2, 2}, 101);
    // The input is the pre-activation: keep it 5h away from the kink of relu and leaky_relu.
    std::vector<float> x = test::to_host(h.ctx, h.x);
    for (float& v : x)
      if (std::fabs(v) < 5 * fd.h) v = v < 0 ? -5 * fd.h : 5 * fd.h;
    test::from_host(h.ctx, h.x, x);
    h.check_gradients(102);
  }
}

TEST(DropoutLayerTest, BackwardMatchesFiniteDifferencesWithAFixedMask) {
  Harness h;
  h.model.add<Dropout>("drop", 0.3f);
  h.model.add<Dense>("fc", 3); // so that L depends on the kept elements with varied weights
  h.build(Shape{4, 6}, 111);
  h.check_gradients(112);
}

TEST(DropoutLayerTest, TrainingKeepsOrZeroesAndScalesByOneOverKeep) {
  Harness h;
  h.model.add<Dropout>("drop", 0.25f);
  h.build(Shape{50, 40}, 121);
  const std::vector<float> y = h.forward();
  const std::vector<float> x = test::to_host(h.ctx, h.x);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (y[i] == 0.0f) {
      ++dropped;
      continue;
    }
    EXPECT_FLOAT_EQ(y[i], x[i] / 0.75f) << "element " << i;
  }
  // 2000 Bernoulli(0.25) draws: mean 500, standard deviation 19.4; 5 sigma either side.
  EXPECT_NEAR(double(dropped), 500.0, 100.0);
  // Another counter value draws another mask.
  h.counter += 1;
  EXPECT_NE(h.forward(), y);
}

TEST(DropoutLayerTest, TrainingWithoutRandomStateIsRefused) {
  Harness h;
  h.model.add<Dropout>("drop", 0.5f);
  h.build(Shape{2, 3}, 131);
  h.model.set_rng(nullptr);
  EXPECT_THROW(h.model.forward(h.ctx, h.x), std::logic_error);
}

TEST(GaussianNoiseLayerTest, TrainingAddsNoiseOfSigmaAndPassesTheGradientThrough) {
  Harness h;
  h.model.add<GaussianNoise>("noise", 0.5f);
  h.build(Shape{100, 40}, 141);
  const Tensor y = h.model.forward(h.ctx, h.x);
  const std::vector<float> x = test::to_host(h.ctx, h.x), yv = test::to_host(h.ctx, y);
  double sum = 0, squares = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sum += yv[i] - x[i];
    squares += (yv[i] - x[i]) * (yv[i] - x[i]);
  }
  const double n = double(x.size());
  // 4000 normal draws: the mean's standard error is 0.5 / 63 = 0.008, the standard deviation's
  // about 0.5 / 89 = 0.006; 5 standard errors.
  EXPECT_NEAR(sum / n, 0.0, 0.04);
  EXPECT_NEAR(std::sqrt(squares / n - (sum / n) * (sum / n)), 0.5, 0.03);

  std::vector<float> dy = test::random_uniform<float>(y.size(), 142);
  const Tensor dx = h.model.backward(h.ctx, Tensor{dy.data(), y.shape, Device::cpu});
  EXPECT_EQ(dx.data, dy.data()) << "the gradient is passed through, not copied";
}

TEST(NoiseAndDropoutTest, EvalModeIsTheIdentityWithoutCopies) {
  Harness h;
  h.model.add<GaussianNoise>("noise", 0.5f);
  h.model.add<Dropout>("drop", 0.5f);
  h.build(Shape{3, 4}, 151);
  h.model.set_training(false);
  const Tensor y = h.model.forward(h.ctx, h.x);
  EXPECT_EQ(y.data, h.x.data);
  EXPECT_EQ(y.shape, h.x.shape);
  std::vector<float> dy = test::random_uniform<float>(y.size(), 152);
  const Tensor dx = h.model.backward(h.ctx, Tensor{dy.data(), y.shape, Device::cpu});
  EXPECT_EQ(dx.data, dy.data());
}

TEST(ReshapeLayerTest, ReshapeAndFlattenAreViews) {
  Harness h;
  h.model.add<Reshape>("reshape", Shape{2, 3, 2});
  h.model.add<Flatten>("flatten");
  h.build(Shape{5, 12}, 161);
  const Tensor x3 = h.x.rows(0, 3);
  const Tensor y = h.model.forward(h.ctx, x3);
  EXPECT_EQ(h.model.output("reshape").shape, (Shape{3, 2, 3, 2}));
  EXPECT_EQ(h.model.output("reshape").data, h.x.data);
  EXPECT_EQ(y.shape, (Shape{3, 12}));
  EXPECT_EQ(y.data, h.x.data);
  std::vector<float> dy(y.size(), 1.0f);
  const Tensor dx = h.model.backward(h.ctx, Tensor{dy.data(), y.shape, Device::cpu});
  EXPECT_EQ(dx.shape, x3.shape);
  EXPECT_EQ(dx.data, dy.data());
}

TEST(ReshapeLayerTest, BackwardThroughReshapeAndFlattenMatchesFiniteDifferences) {
  Harness h;
  h.model.add<Reshape>("reshape", Shape{2, 3, 3});
  h.model.add<Conv2d>("conv", 2, 3, 1, Padding::same);
  h.model.add<Flatten>("flatten");
  h.model.add<Dense>("fc", 3);
  h.build(Shape{2, 18}, 171);
  h.check_gradients(172);
}

// A model with every kind of parameter gradient: conv weights, batchnorm scale and shift, a
// weight-normalised dense layer with a trained scale and one with a frozen scale.
void add_every_parameter_kind(Model& model) {
  model.add<Conv2d>("conv", 2, 3, 2, Padding::same, Activation::tanh());
  model.add<BatchNorm>("bn", BatchNormHyper{}, Activation::softplus());
  model.add<Flatten>("flatten");
  model.add<Dense>(
      "fc1", 4,
      DenseOptions{.activation = Activation::sigmoid(), .weight_norm = true, .train_scale = false});
  model.add<Dense>("fc2", 3, DenseOptions{.weight_norm = true});
}

TEST(LayerGradientsTest, ParameterGradientsAccumulateAcrossBackwardCalls) {
  Harness h;
  add_every_parameter_kind(h.model);
  h.build(Shape{3, 2, 4, 4}, 181);
  const Tensor y = h.model.forward(h.ctx, h.x);
  std::vector<float> dy = test::random_uniform<float>(y.size(), 182);
  const Tensor dy_tensor{dy.data(), y.shape, Device::cpu};
  h.model.parameters().zero_grads(h.ctx);
  h.model.backward(h.ctx, dy_tensor);
  const std::vector<float> once = test::to_host(h.ctx, h.model.parameters().grads());
  h.model.backward(h.ctx, dy_tensor);
  const std::vector<float> twice = test::to_host(h.ctx, h.model.parameters().grads());
  std::vector<double> expected(once.size());
  for (std::size_t i = 0; i < once.size(); ++i) expected[i] = 2.0 * once[i];
  // The second pass adds the same float values again: only the rounding of the sums differs.
  EXPECT_TRUE(test::close(expected, twice, 1e-6, 1e-6));
}

TEST(LayerGradientsTest, BackwardWithoutParameterGradientsLeavesThemUntouched) {
  Harness h;
  add_every_parameter_kind(h.model);
  h.build(Shape{3, 2, 4, 4}, 191);
  const Tensor y = h.model.forward(h.ctx, h.x);
  std::vector<float> dy = test::random_uniform<float>(y.size(), 192);
  const Tensor dy_tensor{dy.data(), y.shape, Device::cpu};
  h.model.parameters().zero_grads(h.ctx);
  const std::vector<float> dx_full = test::to_host(h.ctx, h.model.backward(h.ctx, dy_tensor));

  const ParameterSet& params = h.model.parameters();
  const std::vector<float> sentinel(params.grads().size(), 0.25f);
  test::from_host(h.ctx, params.grads(), sentinel);
  const std::vector<float> state = test::to_host(h.ctx, params.state());
  const Tensor dx = h.model.backward(h.ctx, dy_tensor, BackwardOptions{.param_grads = false});
  EXPECT_EQ(test::to_host(h.ctx, params.grads()), sentinel);
  EXPECT_EQ(test::to_host(h.ctx, params.state()), state);
  // The input gradient does not depend on whether parameter gradients were taken.
  EXPECT_EQ(test::to_host(h.ctx, dx), dx_full);
}

TEST(LayerGradientsTest, NoInputGradientWhenNotAsked) {
  Harness h;
  add_every_parameter_kind(h.model);
  h.build(Shape{3, 2, 4, 4}, 201);
  const Tensor y = h.model.forward(h.ctx, h.x);
  std::vector<float> dy(y.size(), 1.0f);
  const Tensor dx = h.model.backward(h.ctx, Tensor{dy.data(), y.shape, Device::cpu},
                                     BackwardOptions{.input_grad = false});
  EXPECT_EQ(dx.data, nullptr);
}

// The message of the exception `call` throws, or "" if it throws none.
template <typename Exception, typename Call> std::string message_of(Call&& call) {
  try {
    call();
  } catch (const Exception& e) {
    return e.what();
  }
  return "";
}

TEST(LayerShapeTest, DenseOnAnImageNamesTheLayerAndTheShape) {
  Harness h;
  h.model.add<Dense>("classifier", 10);
  const std::string message = message_of<std::invalid_argument>([&] {
    h.model.build(h.arena, Shape{4, 1, 28, 28});
  });
  EXPECT_NE(message.find("'classifier'"), std::string::npos) << message;
  EXPECT_NE(message.find("[4, 1, 28, 28]"), std::string::npos) << message;
}

TEST(LayerShapeTest, ForwardOnAnotherShapeNamesTheLayerAndBothShapes) {
  Harness h;
  Dense& dense = h.model.add<Dense>("fc", 3);
  h.build(Shape{4, 5}, 211);
  Tensor wrong = h.arena.tensor(Shape{4, 6});
  const std::string message =
      message_of<std::invalid_argument>([&] { dense.forward(h.ctx, wrong); });
  EXPECT_NE(message.find("'fc'"), std::string::npos) << message;
  EXPECT_NE(message.find("[4, 5]"), std::string::npos) << message;
  EXPECT_NE(message.find("[4, 6]"), std::string::npos) << message;
  // More rows than planned.
  Tensor tall = h.arena.tensor(Shape{5, 5});
  EXPECT_THROW(dense.forward(h.ctx, tall), std::invalid_argument);
}

TEST(LayerShapeTest, EveryLayerRejectsInputsOfTheWrongRank) {
  const Shape vector_input{4, 6};
  const Shape image_input{4, 2, 3};
  auto plan_throws = [](auto&& layer, const Shape& input) {
    ParameterSet params;
    EXPECT_THROW(layer.plan(input, params), std::invalid_argument) << layer.name();
  };
  plan_throws(Conv2d("conv", 2, 3, 1, Padding::same), vector_input);
  plan_throws(ConvTranspose2d("deconv", 2, 3, 1, Padding::same), vector_input);
  plan_throws(BatchNorm("bn"), image_input);
  plan_throws(Reshape("reshape", Shape{5}), vector_input);
  plan_throws(Conv2d("conv", 2, 5, 1, Padding::valid), Shape{1, 1, 3, 3}); // kernel > image
}

TEST(LayerShapeTest, BackwardBeforeForwardIsRefused) {
  Harness h;
  Dense& dense = h.model.add<Dense>("fc", 3);
  h.build(Shape{4, 5}, 221);
  std::vector<float> dy(12, 1.0f);
  EXPECT_THROW(dense.backward(h.ctx, Tensor{dy.data(), Shape{4, 3}, Device::cpu}, {}),
               std::logic_error);
}

} // namespace
} // namespace sgan
