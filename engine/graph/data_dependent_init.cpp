#include "engine/graph/data_dependent_init.h"

#include "engine/layers/dense.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fmt/format.h>
#include <stdexcept>
#include <vector>

namespace sgan {

namespace {

std::vector<float> download(Context& ctx, const Tensor& t) {
  std::vector<float> host(t.size());
  ctx.download(host.data(), t.data, host.size() * sizeof(float));
  return host;
}

// The input of layer `index` on the whole batch x, as a host matrix [x.rows(), row size]: the
// layers before it run on pieces of at most `piece` rows.
std::vector<float> input_of_layer(Context& ctx, Model& model, std::size_t index, const Tensor& x,
                                  int piece) {
  std::vector<float> input;
  for (int begin = 0; begin < x.rows(); begin += piece) {
    Tensor h = x.rows(begin, std::min(piece, x.rows() - begin));
    for (std::size_t i = 0; i < index; ++i) h = model.layers()[i]->forward(ctx, h);
    const std::vector<float> part = download(ctx, h);
    input.insert(input.end(), part.begin(), part.end());
  }
  return input;
}

void initialize_dense(Context& ctx, Dense& dense, const std::vector<float>& x, int rows,
                      float init_scale) {
  if (!dense.bias())
    throw std::logic_error(fmt::format(
        "data-dependent init of dense layer '{}' needs a bias to centre it", dense.name()));
  const int units = dense.units(), in = dense.in_features();
  const std::vector<float> v = download(ctx, dense.weight_v()->value);
  std::vector<float> g(static_cast<std::size_t>(units)), b(static_cast<std::size_t>(units));
  std::vector<double> t(static_cast<std::size_t>(rows));
  for (int o = 0; o < units; ++o) {
    const float* v_o = v.data() + std::size_t(o) * in;
    double norm = 0;
    for (int i = 0; i < in; ++i) norm += double(v_o[i]) * v_o[i];
    norm = std::sqrt(norm);
    double mean = 0;
    for (int r = 0; r < rows; ++r) {
      const float* x_r = x.data() + std::size_t(r) * in;
      double dot = 0;
      for (int i = 0; i < in; ++i) dot += double(x_r[i]) * v_o[i];
      t[std::size_t(r)] = dot / norm;
      mean += t[std::size_t(r)];
    }
    mean /= rows;
    double var = 0;
    for (const double t_r : t) var += (t_r - mean) * (t_r - mean);
    const double stddev = std::sqrt(var / rows);
    if (!(stddev > 0))
      throw std::runtime_error(fmt::format(
          "data-dependent init: unit {} of dense layer '{}' has the same pre-activation for every "
          "image of the init batch (use a larger or more varied batch)",
          o, dense.name()));
    g[std::size_t(o)] = static_cast<float>(init_scale / stddev);
    b[std::size_t(o)] = static_cast<float>(-mean * init_scale / stddev);
  }
  ctx.upload(dense.weight_g()->value.data, g.data(), g.size() * sizeof(float));
  ctx.upload(dense.bias()->value.data, b.data(), b.size() * sizeof(float));
}

} // namespace

void data_dependent_init(Context& ctx, Model& model, const Tensor& x, float init_scale) {
  const Shape& planned = model.input_shape();
  if (planned.rank() == 0)
    throw std::logic_error(
        fmt::format("data-dependent init of model {} before it was built", model.name()));
  if (x.shape.rank() != planned.rank() || x.shape.row_size() != planned.row_size() || x.rows() < 2)
    throw std::invalid_argument(fmt::format(
        "data-dependent init of model {} needs a batch of at least 2 inputs shaped like {}, got {}",
        model.name(), planned.str(), x.shape.str()));
  const auto& layers = model.layers();
  for (std::size_t k = 0; k < layers.size(); ++k) {
    auto* dense = dynamic_cast<Dense*>(layers[k].get());
    if (!dense || !dense->options().weight_norm) continue;
    const std::vector<float> input = input_of_layer(ctx, model, k, x, planned[0]);
    initialize_dense(ctx, *dense, input, x.rows(), init_scale);
  }
}

} // namespace sgan
