#pragma once
// What the GPU batchnorm tests (ours and cuDNN's) share: inputs whose channels have their own
// means and spreads, per-channel parameters, the CPU reference's train forward, eval forward and
// backward, a shape's name in failure messages.
#include "kernels/activation.h"
#include "kernels/batchnorm.h"
#include "tests/support/compare.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sgan::test {

inline std::string name(const BatchNormShape& s) {
  return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.spatial);
}

// x of channel ch = offset_ch + spread_ch u, offset_ch uniform in [-offset_scale, offset_scale),
// spread_ch in [0.5, 2), u in [-1, 1): channels with their own non-zero means and spreads, so a
// mix-up of channels or statistics shows.
inline std::vector<float> channel_inputs(const BatchNormShape& s, std::uint64_t seed,
                                         double offset_scale) {
  const std::vector<double> offsets =
      random_uniform<double>(s.c, seed, -offset_scale, offset_scale);
  const std::vector<double> spreads = random_uniform<double>(s.c, seed + 1, 0.5, 2.0);
  const std::vector<double> u = random_uniform<double>(s.size(), seed + 2);
  std::vector<float> x(s.size());
  for (std::size_t e = 0; e < x.size(); ++e) {
    const std::size_t ch = (e / s.spatial) % s.c;
    x[e] = float(offsets[ch] + spreads[ch] * u[e]);
  }
  return x;
}

struct ChannelParams {
  std::vector<float> gamma, beta, running_mean, running_var;
};

// gamma in [0.5, 1.5), beta and the running mean in [-1, 1), the running variance in [0.5, 2).
inline ChannelParams channel_params(int c, std::uint64_t seed) {
  return {random_uniform<float>(c, seed, 0.5, 1.5), random_uniform<float>(c, seed + 1),
          random_uniform<float>(c, seed + 2), random_uniform<float>(c, seed + 3, 0.5, 2)};
}

// The CPU reference's train forward in double on the float inputs: y, the running statistics
// updated from p's, and the saved mean and inverse std.
struct BatchNormTrainReference {
  std::vector<double> y, running_mean, running_var, saved_mean, saved_invstd;
};

inline BatchNormTrainReference batchnorm_train_reference(const BatchNormShape& s,
                                                         const BatchNormHyper& hyper,
                                                         const std::vector<float>& x,
                                                         const ChannelParams& p,
                                                         const Activation& epilogue) {
  BatchNormTrainReference r{std::vector<double>(s.size()), convert<double>(p.running_mean),
                            convert<double>(p.running_var), std::vector<double>(s.c),
                            std::vector<double>(s.c)};
  const std::vector<double> x_d = convert<double>(x), gamma = convert<double>(p.gamma);
  const std::vector<double> beta = convert<double>(p.beta);
  cpu::batchnorm_forward_train(s, hyper, x_d.data(), gamma.data(), beta.data(), r.y.data(),
                               r.running_mean.data(), r.running_var.data(), r.saved_mean.data(),
                               r.saved_invstd.data(), epilogue);
  return r;
}

// The CPU reference's eval forward in double on the float inputs (p's running statistics).
inline std::vector<double> batchnorm_eval_reference(const BatchNormShape& s,
                                                    const BatchNormHyper& hyper,
                                                    const std::vector<float>& x,
                                                    const ChannelParams& p,
                                                    const Activation& epilogue) {
  const std::vector<double> x_d = convert<double>(x), gamma = convert<double>(p.gamma),
                            beta = convert<double>(p.beta), rm = convert<double>(p.running_mean),
                            rv = convert<double>(p.running_var);
  std::vector<double> y(s.size());
  cpu::batchnorm_forward_eval(s, hyper, x_d.data(), gamma.data(), beta.data(), rm.data(), rv.data(),
                              y.data(), epilogue);
  return y;
}

// One backward case: inputs (x as channel_inputs with offsets up to 2, dy, parameters, and the
// dgamma and dbeta the backward adds to) drawn from a seed, and the CPU reference in double fed
// the implementation's own saved statistics, so forward rounding does not enter the comparison.
struct BatchNormBackwardCheck {
  std::vector<float> x, dy;
  ChannelParams p;
  std::vector<float> dgamma_start, dbeta_start;

  BatchNormBackwardCheck(const BatchNormShape& s, std::uint64_t seed)
      : x(channel_inputs(s, seed, 2.0)), dy(random_uniform<float>(s.size(), seed + 3)),
        p(channel_params(s.c, seed + 5)), dgamma_start(random_uniform<float>(s.c, seed + 6)),
        dbeta_start(random_uniform<float>(s.c, seed + 7)) {}

  struct Reference {
    std::vector<double> dx, dgamma, dbeta;
    // max_c gamma_c invstd_c (at least 1): dx's error scales with it.
    double largest_gain = 1;
  };

  Reference reference(const BatchNormShape& s, const std::vector<float>& saved_mean,
                      const std::vector<float>& saved_invstd) const {
    Reference r{std::vector<double>(s.size()), convert<double>(dgamma_start),
                convert<double>(dbeta_start)};
    const std::vector<double> x_d = convert<double>(x), dy_d = convert<double>(dy),
                              gamma = convert<double>(p.gamma), sm = convert<double>(saved_mean),
                              si = convert<double>(saved_invstd);
    cpu::batchnorm_backward(s, x_d.data(), dy_d.data(), gamma.data(), sm.data(), si.data(),
                            r.dx.data(), r.dgamma.data(), r.dbeta.data());
    for (int ch = 0; ch < s.c; ++ch) r.largest_gain = std::max(r.largest_gain, gamma[ch] * si[ch]);
    return r;
  }
};

} // namespace sgan::test
