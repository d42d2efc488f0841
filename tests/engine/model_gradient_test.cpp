// Whole models on the CPU backend: backward through every layer against central finite
// differences of L = sum(r * y) (training mode, dropout masks and noise fixed by the RngState),
// reading layer outputs by name, backward from an inner layer, and the data-dependent
// initialisation of weight-normalised layers.
//
// Tolerances. Each layer's float output carries ~6e-8 relative error, which a central difference
// with step h turns into ~1e-6 / h in a gradient element, and the truncation is O(h^2) times the
// third derivative, which batchnorm after a conv makes large for the conv bias (each bias step
// shifts a whole channel). h = 5e-3 balances the two: the worst errors seen are 1.2e-4 relative
// L2 and 1.8e-4 absolute on O(1) gradients, so 1e-3 and 2e-3 leave a margin of ~8 while a wrong
// term shows at O(1).
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/graph/data_dependent_init.h"
#include "engine/graph/model.h"
#include "tests/engine/gradient_check.h"
#include "tests/engine/small_models.h"
#include "tests/support/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

constexpr test::FiniteDifferences fd{5e-3f, 1e-3, 2e-3};

struct Harness : test::CpuModelHarness {
  Harness() : CpuModelHarness(100, 2024, 9) {}
};

double min_abs(const std::vector<float>& v) {
  double m = INFINITY;
  for (const float e : v) m = std::min(m, double(std::fabs(e)));
  return m;
}

TEST(ModelGradientTest, ConvModelBackwardMatchesFiniteDifferences) {
  Harness h;
  test::add_conv_model(h.model);
  h.build(test::conv_model_input(2), 3);
  // The LeakyReLU has a kink at 0. A step h moves a conv output by at most h (|x| <= 1, weights
  // below 0.41) and nothing after the conv moves it, so with every conv output further than h
  // from 0 each finite difference stays on one side of the kink. Draw inputs until that holds
  // (a third of the draws do).
  std::uint64_t seed = 100;
  for (;; ++seed) {
    ASSERT_LT(seed, 200u) << "no input keeps the conv outputs away from the kink";
    test::from_host(h.ctx, h.x, test::random_uniform<float>(h.x.size(), seed));
    h.model.forward(h.ctx, h.x);
    if (min_abs(test::to_host(h.ctx, h.model.output("conv"))) > fd.h) break;
  }
  test::expect_gradients_match_finite_differences(h.ctx, h.model, h.x, fd, 4);
}

TEST(ModelGradientTest, MlpBackwardMatchesFiniteDifferences) {
  Harness h;
  test::add_mlp(h.model);
  h.build(test::mlp_input(6), 5);
  test::expect_gradients_match_finite_differences(h.ctx, h.model, h.x, fd, 6);
}

TEST(ModelGradientTest, OutputByNameIsThatLayersLatestOutput) {
  Harness h;
  test::add_mlp(h.model);
  h.build(test::mlp_input(6), 7);
  const Tensor y = h.model.forward(h.ctx, h.x.rows(0, 4));
  EXPECT_EQ(h.model.output("fc3").data, y.data);
  EXPECT_EQ(h.model.output("fc3").shape, (Shape{4, 3}));
  const std::vector<float> bn = test::to_host(h.ctx, h.model.output("bn"));
  const std::vector<float> softplus = test::to_host(h.ctx, h.model.output("softplus"));
  ASSERT_EQ(bn.size(), std::size_t(4 * 4));
  std::vector<double> expected(bn.size());
  for (std::size_t i = 0; i < bn.size(); ++i) expected[i] = std::log1p(std::exp(double(bn[i])));
  EXPECT_TRUE(test::close(expected, softplus, 1e-6, 1e-6));
  EXPECT_THROW(h.model.output("no_such_layer"), std::invalid_argument);
}

TEST(ModelGradientTest, BackwardFromAnInnerLayerMatchesFiniteDifferences) {
  Harness h;
  test::add_mlp(h.model);
  h.build(test::mlp_input(6), 8);
  // L on the softplus output (feature matching reads D's penultimate activation this way): the
  // layers after it get no gradient, which the finite differences confirm as zeros.
  test::expect_gradients_match_finite_differences(h.ctx, h.model, h.x, "softplus", fd, 9);
  for (const char* name : {"fc3.weight_v", "fc3.weight_g", "fc3.bias"})
    for (const float g : test::to_host(h.ctx, h.model.parameters().find(name)->grad))
      EXPECT_EQ(g, 0.0f) << name;
}

// improved-gan's D in miniature for the init: weight-normalised layers with relu between them and
// a plain dense layer at the end, which the init must leave alone.
void add_weight_normalised_mlp(Model& model) {
  model.add<GaussianNoise>("noise", 0.3f);
  model.add<Dense>("fc1", 6, DenseOptions{.weight_norm = true, .train_scale = false});
  model.add<ActivationLayer>("relu", Activation::relu());
  model.add<Dense>("fc2", 4, DenseOptions{.weight_norm = true});
  model.add<Dense>("plain", 2);
}

// Mean and standard deviation (over the rows) of each column of layer `name`'s output on the
// batch x, run through the model in pieces of `piece` rows.
void column_statistics(Context& ctx, Model& model, const Tensor& x, int piece, const char* name,
                       std::vector<double>& mean, std::vector<double>& stddev) {
  std::vector<std::vector<double>> columns;
  for (int begin = 0; begin < x.rows(); begin += piece) {
    model.forward(ctx, x.rows(begin, std::min(piece, x.rows() - begin)));
    const Tensor out = model.output(name);
    const std::vector<float> values = test::to_host(ctx, out);
    const int cols = static_cast<int>(out.shape.row_size());
    columns.resize(std::size_t(cols));
    for (std::size_t i = 0; i < values.size(); ++i) columns[i % cols].push_back(values[i]);
  }
  mean.assign(columns.size(), 0);
  stddev.assign(columns.size(), 0);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (const double v : columns[c]) mean[c] += v / double(columns[c].size());
    for (const double v : columns[c])
      stddev[c] += (v - mean[c]) * (v - mean[c]) / double(columns[c].size());
    stddev[c] = std::sqrt(stddev[c]);
  }
}

TEST(DataDependentInitTest, PreActivationsHaveZeroMeanAndUnitVarianceOnTheInitBatch) {
  for (const float init_scale : {1.0f, 0.5f}) {
    SCOPED_TRACE(init_scale);
    Harness h;
    add_weight_normalised_mlp(h.model);
    // Built for 8 rows, initialised on 20 (pieces of 8, 8 and 4), as D is built for its training
    // batch and initialised on 500 images.
    h.build(Shape{8, 5}, 10);
    Tensor batch = h.arena.tensor(Shape{20, 5});
    test::from_host(h.ctx, batch, test::random_uniform<float>(batch.size(), 11, 0.0, 1.0));
    const std::vector<float> plain_before =
        test::to_host(h.ctx, h.model.parameters().find("plain.weight")->value);
    h.model.set_training(false);
    data_dependent_init(h.ctx, h.model, batch, init_scale);

    // g and b are computed in double and rounded to float, and the forward pass rounds once more:
    // ~1e-7 relative on O(1) statistics.
    for (const char* name : {"fc1", "fc2"}) {
      std::vector<double> mean, stddev;
      column_statistics(h.ctx, h.model, batch, 8, name, mean, stddev);
      for (std::size_t c = 0; c < mean.size(); ++c) {
        EXPECT_NEAR(mean[c], 0.0, 1e-5) << name << " unit " << c;
        EXPECT_NEAR(stddev[c], init_scale, 1e-5) << name << " unit " << c;
      }
    }
    EXPECT_EQ(test::to_host(h.ctx, h.model.parameters().find("plain.weight")->value), plain_before);
  }
}

TEST(DataDependentInitTest, RejectsABatchOfTheWrongShape) {
  Harness h;
  add_weight_normalised_mlp(h.model);
  h.build(Shape{8, 5}, 12);
  Tensor batch = h.arena.tensor(Shape{20, 6});
  EXPECT_THROW(data_dependent_init(h.ctx, h.model, batch), std::invalid_argument);
}

} // namespace
} // namespace sgan
