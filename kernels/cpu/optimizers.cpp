// The optimiser references: one element at a time in double, stored back to float, written as the
// formulas of kernels/optimizers.h.
#include "kernels/optimizers.h"

#include <cmath>

namespace sgan::cpu {

void adam_update(const AdamHyper& hyper, std::size_t n, const AdamStepScalars* scalars,
                 float* params, const float* grads, float* m, float* v) {
  const double beta1 = hyper.beta1, beta2 = hyper.beta2, eps = hyper.eps;
  const double lr = scalars->lr, bias_correction1 = scalars->bias_correction1,
               bias_correction2 = scalars->bias_correction2;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = params[i];
    const double g = grads[i] + double(hyper.weight_decay) * p;
    const double m_new = beta1 * m[i] + (1 - beta1) * g;
    const double v_new = beta2 * v[i] + (1 - beta2) * g * g;
    const double v_hat = v_new / bias_correction2;
    const double denominator =
        hyper.eps_inside_sqrt ? std::sqrt(v_hat + eps) : std::sqrt(v_hat) + eps;
    const double step = lr * (m_new / bias_correction1) / denominator;
    m[i] = static_cast<float>(m_new);
    v[i] = static_cast<float>(v_new);
    params[i] = static_cast<float>(p - step);
  }
}

void sgd_update(const SgdHyper& hyper, std::size_t n, const float* lr, float* params,
                const float* grads, float* velocity) {
  const double rate = *lr, momentum = hyper.momentum, weight_decay = hyper.weight_decay;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = params[i];
    double u = grads[i] + weight_decay * p;
    if (momentum != 0) {
      u += momentum * velocity[i];
      velocity[i] = static_cast<float>(u);
    }
    params[i] = static_cast<float>(p - rate * u);
  }
}

void ema_update(std::size_t n, float rate, const float* params, float* ema) {
  for (std::size_t i = 0; i < n; ++i)
    ema[i] = static_cast<float>(ema[i] + double(rate) * (double(params[i]) - ema[i]));
}

} // namespace sgan::cpu
