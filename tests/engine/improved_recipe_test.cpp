// The improved recipe's models start as openai/improved-gan's train_mnist_feature_matching.py
// starts them (mnist_svhn_cifar10/nn.py, the "older code used for MNIST"), the reference behind the
// 0.93% error at 100 labels (REFERENCES.md). The numbers below are transcribed from that code:
//   D: every DenseLayer draws its direction theta from lasagne.init.Normal(0.1); the weight scale
//      is trained in the output layer only (train_scale=True), set by the data-dependent init.
//   G: the output layer is a lasagne DenseLayer (W from GlorotUniform over (500, 784)) under
//      l2normalize (W_scale from 1, trained); its BatchNormLayers divide by sqrt(1e-6 + var).
// The scale of a weight-normalised direction does not change the function, but it sets how fast
// Adam turns it (each element moves by up to ~lr a step), so it is part of the recipe.
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/graph/model.h"
#include "engine/sgan/config.h"
#include "engine/sgan/recipes.h"
#include "tests/engine/gradient_check.h"

#include <cmath>
#include <gtest/gtest.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

struct Models {
  Context ctx{Backend::cpu};
  Arena arena{ctx, std::size_t(64) << 20};
  TrainConfig config = recipe_defaults("improved");
  std::unique_ptr<Model> d = make_discriminator(config);
  std::unique_ptr<Model> g = make_generator(config);

  Models() {
    d->build(arena, Shape{8, 28 * 28});
    g->build(arena, Shape{8, 100});
    d->initialize(ctx, config.seed);
    g->initialize(ctx, config.seed);
  }
};

const Parameter& parameter(const Model& model, const std::string& name) {
  const Parameter* p = model.parameters().find(name);
  if (!p) throw std::runtime_error("no parameter " + name + " in " + model.name());
  return *p;
}

TEST(ImprovedRecipe, DiscriminatorDirectionsAreDrawnAsImprovedGanDrawsTheta) {
  Models m;
  for (const std::string layer : {"fc1", "fc2", "fc3", "fc4", "fc5", "logits"}) {
    SCOPED_TRACE(layer);
    const Parameter& v = parameter(*m.d, layer + ".weight_v");
    EXPECT_EQ(v.init.kind, Init::Kind::normal);
    EXPECT_EQ(v.init.a, 0.0f);
    EXPECT_EQ(v.init.b, 0.1f);
    // Hidden scales are the data-dependent init's and stay so; the output layer's is trained.
    EXPECT_EQ(parameter(*m.d, layer + ".weight_g").trainable, layer == "logits");
  }
}

TEST(ImprovedRecipe, GeneratorOutputLayerIsGlorotUniformUnderATrainedScaleOfOne) {
  Models m;
  const Parameter& v = parameter(*m.g, "to_image.weight_v");
  const float limit = std::sqrt(6.0f / (500 + 784));
  EXPECT_EQ(v.init.kind, Init::Kind::uniform);
  EXPECT_FLOAT_EQ(v.init.a, -limit);
  EXPECT_FLOAT_EQ(v.init.b, limit);
  const Parameter& scale = parameter(*m.g, "to_image.weight_g");
  EXPECT_TRUE(scale.trainable);
  EXPECT_EQ(scale.init.kind, Init::Kind::constant);
  EXPECT_EQ(scale.init.a, 1.0f);
}

// A feature of batch variance 1e-6 (rows +-1e-3, mean 0) normalises to +-1e-3 / sqrt(1e-6 + 1e-6)
// = +-0.7071 with improved-gan's epsilon; 1e-4 would give +-0.0995, 1e-3 +-0.0316.
TEST(ImprovedRecipe, GeneratorBatchnormAddsOneMillionthToTheVariance) {
  Models m;
  m.g->set_training(true);
  for (const std::string name : {"bn1", "bn2"}) {
    SCOPED_TRACE(name);
    Layer& bn = m.g->layer(name);
    const int rows = 8, features = 500;
    std::vector<float> x(std::size_t(rows) * features);
    for (int r = 0; r < rows; ++r)
      for (int f = 0; f < features; ++f) x[std::size_t(r) * features + f] = r % 2 ? 1e-3f : -1e-3f;
    Tensor input = m.arena.tensor(Shape{rows, features});
    test::from_host(m.ctx, input, x);
    const std::vector<float> y = test::to_host(m.ctx, bn.forward(m.ctx, input));
    const double normalised = 1e-3 / std::sqrt(1e-6 + 1e-6);
    for (int r = 0; r < rows; ++r) {
      const double z = r % 2 ? normalised : -normalised;
      const double softplus = std::log1p(std::exp(z)); // the layer's fused activation
      EXPECT_NEAR(y[std::size_t(r) * features], softplus, 1e-5 * softplus) << "row " << r;
    }
  }
}

} // namespace
} // namespace sgan
