#pragma once
// Which rows of a concatenated batch are which, and how much each row's loss counts. D runs once
// per step on [labeled | unlabeled | fake] rows; the loss kernel reads a kind and a weight per row:
//
//   L_D = (1/n_lab) sum_labeled CE  +  w_unsup ((1/n_unl) sum_unlabeled + (1/n_fake) sum_fake)
//   L_G = (1/n_gen) sum_generator rows                         (non-saturating generator loss)
#include <cstdint>
#include <vector>

#include "kernels/sgan_loss.h"

namespace sgan {

struct BatchLayout {
  std::vector<SganRow> kinds;
  std::vector<float> weights;
  int rows() const { return static_cast<int>(kinds.size()); }
};

BatchLayout discriminator_layout(int labeled, int unlabeled, int fake, float unsup_weight);
BatchLayout generator_layout(int fake);

}  // namespace sgan
