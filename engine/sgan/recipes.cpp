#include "engine/sgan/recipes.h"

#include "engine/layers/activation.h"
#include "engine/layers/batchnorm.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/conv_transpose2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/dropout.h"
#include "engine/layers/gaussian_noise.h"
#include "engine/layers/reshape.h"
#include "engine/sgan/random_streams.h"

namespace sgan {

namespace {
constexpr int classes = 10;

int logits(const TrainConfig& c) { return c.fake_logit == FakeLogit::zero ? classes : classes + 1; }
}  // namespace

RecipeTraits recipe_traits(const TrainConfig& c) {
  RecipeTraits t;
  if (c.recipe == "improved") {
    t.uniform_noise = true;
    t.pixel_lo = 0.0f;
    t.pixel_hi = 1.0f;
    t.feature_layer = "fc5";
    t.data_dependent_init = true;
    // openai/improved-gan's Adam divides by sqrt(v^ + 1e-8), which damps the steps of parameters
    // whose gradients are tiny (a saturated D's output scale); with eps outside the root those
    // are rescaled to full-size steps. A CPU run at 100 labels with eps outside saw D's losses
    // fall to exactly 0 and G collapse to one image in epoch 7.
    t.adam_eps_inside_sqrt = true;
  } else {
    t.feature_layer = "flatten";
  }
  return t;
}

std::unique_ptr<Model> make_discriminator(const TrainConfig& c) {
  auto d = std::make_unique<Model>("D", random_streams::discriminator_layers);
  if (c.recipe == "improved") {
    // Gaussian noise 0.3 on the input, weight-normalised dense 1000-500-250-250-250 with ReLU and
    // noise 0.5 after each, weight-normalised output layer with a trained scale. Directions v drawn
    // from N(0, 0.1^2), as improved-gan's MNIST DenseLayer (nn.py, "older code used for MNIST")
    // draws its theta: v's scale sets how fast Adam turns W (DenseOptions::weight_init).
    const float direction_std = 0.1f;
    const int units[] = {1000, 500, 250, 250, 250};
    d->add<GaussianNoise>("noise0", 0.3f);
    for (int i = 0; i < 5; ++i) {
      DenseOptions o;
      o.activation = Activation::relu();
      o.weight_norm = true;
      o.train_scale = false;
      o.weight_init = Init::normal(0.0f, direction_std);
      d->add<Dense>("fc" + std::to_string(i + 1), units[i], o);
      d->add<GaussianNoise>("noise" + std::to_string(i + 1), 0.5f);
    }
    DenseOptions out;
    out.weight_norm = true;
    out.train_scale = true;
    out.weight_init = Init::normal(0.0f, direction_std);
    d->add<Dense>("logits", logits(c), out);
    return d;
  }
  // article: Conv(64, k3, s2, same), LeakyReLU(0.2), Dropout(0.3), Conv(128, k3, s2, same),
  // LeakyReLU(0.2), Dropout(0.3), Flatten, Dense(K+1). The LeakyReLU is fused into the conv.
  const Activation leaky = Activation::leaky_relu(0.2f);
  d->add<Conv2d>("conv1", 64, 3, 2, Padding::same, leaky);
  d->add<Dropout>("drop1", 0.3f);
  d->add<Conv2d>("conv2", 128, 3, 2, Padding::same, leaky);
  d->add<Dropout>("drop2", 0.3f);
  d->add<Flatten>("flatten");
  DenseOptions out;
  out.weight_init = Init::glorot_uniform(128 * 7 * 7, logits(c));
  d->add<Dense>("logits", logits(c), out);
  return d;
}

std::unique_ptr<Model> make_generator(const TrainConfig& c) {
  auto g = std::make_unique<Model>("G", random_streams::generator_layers);
  if (c.recipe == "improved") {
    // dense 500 -> batchnorm -> softplus (twice; improved-gan's batch_norm(g=None): no scale, the
    // dense bias subsumed by the batchnorm shift, variance + 1e-6 under the root), then dense 784
    // sigmoid weight-normalised as improved-gan's l2normalize does it: v from lasagne's default
    // Glorot uniform, g from 1 and trained, no data-dependent init.
    const BatchNormHyper bn{0.1f, 1e-6f};
    for (int i = 1; i <= 2; ++i) {
      DenseOptions o;
      o.bias = false;
      o.weight_init = Init::glorot_uniform(i == 1 ? 100 : 500, 500);
      g->add<Dense>("fc" + std::to_string(i), 500, o);
      g->add<BatchNorm>("bn" + std::to_string(i), bn, Activation::softplus(), false);
    }
    DenseOptions out;
    out.activation = Activation::sigmoid();
    out.weight_norm = true;
    out.train_scale = true;
    out.weight_init = Init::glorot_uniform(500, 28 * 28);
    g->add<Dense>("to_image", 28 * 28, out);
    g->add<Reshape>("image", Shape{1, 28, 28});
    return g;
  }
  // article (Keras defaults: BatchNormalization momentum 0.99 = 0.01 here, eps 1e-3):
  // Dense(7*7*128, ReLU), Reshape, BN, ConvT(128, k4, s2, same, ReLU), BN, ConvT(64, k4, s2, same,
  // ReLU), BN, Conv(1, k7, same, tanh).
  const BatchNormHyper bn{0.01f, 1e-3f};
  DenseOptions fc;
  fc.activation = Activation::relu();
  fc.weight_init = Init::glorot_uniform(100, 128 * 7 * 7);
  g->add<Dense>("fc", 128 * 7 * 7, fc);
  g->add<Reshape>("reshape", Shape{128, 7, 7});
  g->add<BatchNorm>("bn1", bn, Activation::identity());
  g->add<ConvTranspose2d>("deconv1", 128, 4, 2, Padding::same, Activation::relu());
  g->add<BatchNorm>("bn2", bn, Activation::identity());
  g->add<ConvTranspose2d>("deconv2", 64, 4, 2, Padding::same, Activation::relu());
  g->add<BatchNorm>("bn3", bn, Activation::identity());
  g->add<Conv2d>("to_image", 1, 7, 1, Padding::same, Activation::tanh());
  return g;
}

}  // namespace sgan
