#pragma once
// The two small models the engine's model tests share (the CPU finite-difference checks and the
// GPU backend parity checks), miniatures of the SGAN recipes with every layer kind in them.
#include "engine/graph/model.h"
#include "engine/layers/activation.h"
#include "engine/layers/batchnorm.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/conv_transpose2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/dropout.h"
#include "engine/layers/gaussian_noise.h"
#include "engine/layers/reshape.h"

namespace sgan::test {

// The article's conv layers in miniature, on inputs [rows, 1, 6, 6]:
// conv 1->3 k3 s2 same (6->3), LeakyReLU 0.2, dropout 0.3, conv_transpose 3->2 k4 s2 same (3->6)
// without bias, batchnorm2d, flatten (72), dense 72->5.
inline Shape conv_model_input(int rows) { return Shape{rows, 1, 6, 6}; }

inline void add_conv_model(Model& model) {
  model.add<Conv2d>("conv", 3, 3, 2, Padding::same);
  model.add<ActivationLayer>("lrelu", Activation::leaky_relu(0.2f));
  model.add<Dropout>("drop", 0.3f);
  model.add<ConvTranspose2d>("deconv", 2, 4, 2, Padding::same, Activation::identity(),
                             false); // batchnorm would cancel a bias
  model.add<BatchNorm>("bn");
  model.add<Flatten>("flatten");
  model.add<Dense>("fc", 5);
}

// The improved recipe's MLP layers in miniature, on inputs [rows, 5]: Gaussian noise 0.3,
// weight-normalised dense 5->6 tanh with a frozen scale, noise 0.5, dense 6->4 without bias,
// batchnorm1d, softplus, weight-normalised dense 4->3 sigmoid with a trained scale. The directions
// v start at unit scale so that a finite-difference step is small against ||v||.
inline Shape mlp_input(int rows) { return Shape{rows, 5}; }

inline void add_mlp(Model& model) {
  const Init unit_scale = Init::uniform(-1.0f, 1.0f);
  model.add<GaussianNoise>("noise_in", 0.3f);
  model.add<Dense>("fc1", 6,
                   DenseOptions{.activation = Activation::tanh(),
                                .weight_norm = true,
                                .train_scale = false,
                                .weight_init = unit_scale});
  model.add<GaussianNoise>("noise_h", 0.5f);
  model.add<Dense>("fc2", 4, DenseOptions{.bias = false}); // batchnorm would cancel a bias
  model.add<BatchNorm>("bn");
  model.add<ActivationLayer>("softplus", Activation::softplus());
  model.add<Dense>("fc3", 3,
                   DenseOptions{.activation = Activation::sigmoid(),
                                .weight_norm = true,
                                .weight_init = unit_scale});
}

} // namespace sgan::test
