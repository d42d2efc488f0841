#pragma once
// The two recipes' networks (SGAN.md "Recipes", REFERENCES.md), as layer chains.
#include <memory>
#include <string>

#include "engine/graph/model.h"
#include "engine/sgan/config.h"

namespace sgan {

// What the trainer needs to know about a recipe besides its layers.
struct RecipeTraits {
  int noise_dim = 100;
  bool uniform_noise = false;       // z ~ U(0, 1) (improved) or N(0, 1) (article)
  float pixel_lo = -1.0f, pixel_hi = 1.0f;  // the range images are scaled to and G produces
  std::string feature_layer;        // D's penultimate activation, for feature matching
  bool data_dependent_init = false; // weight-normalised D initialised on a batch
  bool adam_eps_inside_sqrt = false; // Adam's eps under the square root (kernels/optimizers.h)
};

RecipeTraits recipe_traits(const TrainConfig& config);
// D outputs K + 1 logits with an explicit fake logit, K with a fixed zero one.
std::unique_ptr<Model> make_discriminator(const TrainConfig& config);
std::unique_ptr<Model> make_generator(const TrainConfig& config);

}  // namespace sgan
