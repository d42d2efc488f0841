#pragma once
// Data-dependent initialisation of weight-normalised dense layers (Salimans & Kingma 2016, as
// openai/improved-gan initialises its discriminator on 500 training images): walking the layers
// in order, each weight-normalised Dense gets the scale and bias that give its pre-activation
//   t[r, o] = x[r, :] . v[o, :] / ||v[o, :]||        (its input x on the init batch, g = 1, b = 0)
// zero mean and standard deviation init_scale over the batch, per unit o:
//   m[o] = mean_r t[r, o],  s[o] = sqrt(mean_r (t[r, o] - m[o])^2)
//   g[o] = init_scale / s[o],  b[o] = -m[o] init_scale / s[o]
// and the layers after it see the outputs of the initialised layer.
//
// The layers run as they are set: in training mode noise and dropout layers draw from the
// model's RngState (improved-gan initialises with its noise on) and batchnorm layers normalise
// each piece by its own statistics and update their running ones; eval mode is deterministic.
// The batch may hold more rows than the model was built for: it is run through in pieces, and
// the layers before each weight-normalised one run again for it (the init runs once).
#include "engine/core/context.h"
#include "engine/core/tensor.h"
#include "engine/graph/model.h"

namespace sgan {

// Throws std::invalid_argument if x does not fit the model's inputs, std::runtime_error if a
// unit's pre-activation is constant over the batch (no scale can give it unit variance) and
// std::logic_error for a weight-normalised layer without a bias.
void data_dependent_init(Context& ctx, Model& model, const Tensor& x, float init_scale = 1.0f);

} // namespace sgan
