#pragma once
// Optimiser updates over one flat parameter buffer (a model's parameters, gradients and moments are
// each one contiguous buffer, so an update is one launch), and the parameter moving average.
//
// Adam (Kingma & Ba, PyTorch's formulation), with t the 1-based step:
//   g' = g + weight_decay p                       (L2 penalty, PyTorch's Adam weight_decay)
//   m = beta1 m + (1 - beta1) g',   v = beta2 v + (1 - beta2) g'^2
//   p -= lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
// or, with eps_inside_sqrt (openai/improved-gan's Adam, which the improved recipe follows),
//   p -= lr (m / (1 - beta1^t)) / sqrt(v / (1 - beta2^t) + eps)
// whose eps = 1e-8 caps the step at lr m^ / 1e-4 where gradients are tiny, instead of rescaling
// tiny gradients to full-size steps.
// SGD with momentum (PyTorch's, no dampening):
//   g' = g + weight_decay p,   u = momentum u + g',   p -= lr u
//   (with momentum 0 the velocity u is neither read nor written, and may be null)
// EMA of parameters (evaluated instead of the raw weights):
//   ema += rate (p - ema)
//
// The per-step scalars (learning rate, bias corrections) are read through a pointer into the
// backend's memory, not passed by value, so that a captured CUDA graph replays later steps with
// their own learning rate and corrections once the engine has written them.
#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace sgan {

struct AdamHyper {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  bool eps_inside_sqrt = false;
};

struct AdamStepScalars {
  float lr = 0.0f;
  float bias_correction1 = 1.0f;  // 1 - beta1^t
  float bias_correction2 = 1.0f;  // 1 - beta2^t
};

// The scalars of step t >= 1, computed in double.
AdamStepScalars adam_step_scalars(const AdamHyper& hyper, float lr, std::int64_t step);

struct SgdHyper {
  float momentum = 0.0f, weight_decay = 0.0f;
};

namespace cpu {
void adam_update(const AdamHyper& hyper, std::size_t n, const AdamStepScalars* scalars,
                 float* params, const float* grads, float* m, float* v);
void sgd_update(const SgdHyper& hyper, std::size_t n, const float* lr, float* params,
                const float* grads, float* velocity);
void ema_update(std::size_t n, float rate, const float* params, float* ema);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void adam_update(const AdamHyper& hyper, std::size_t n, const AdamStepScalars* scalars,
                 float* params, const float* grads, float* m, float* v, cudaStream_t stream);
void sgd_update(const SgdHyper& hyper, std::size_t n, const float* lr, float* params,
                const float* grads, float* velocity, cudaStream_t stream);
void ema_update(std::size_t n, float rate, const float* params, float* ema, cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
