#pragma once
// Dropout and additive Gaussian noise, with masks and noise drawn from Philox (kernels/philox.h)
// and regenerated from (stream, counter) instead of being stored.
//
//   dropout forward   y[e] = keep_e ? x[e] / keep_prob : 0,   keep_e = philox_keep(word_e, keep_prob)
//   dropout backward  dx[e] = keep_e ? dy[e] / keep_prob : 0  (the same mask, drawn again)
//   noise forward     y[e] = x[e] + sigma n_e                 (n_e = element e of philox_normal)
//   noise backward    dx = dy: the noise is additive, so the layer passes its gradient through.
// y may alias x and dx may alias dy.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "kernels/backend.h"
#include "kernels/philox.h"

namespace sgan {

// Every backend's dropout rejects a keep_prob outside (0, 1] with std::invalid_argument.
inline void check_dropout_keep_prob(float keep_prob) {
  if (!(keep_prob > 0.0f && keep_prob <= 1.0f))
    throw std::invalid_argument("dropout: keep_prob must be in (0, 1]");
}

namespace cpu {
template <typename T>
void dropout_forward(std::size_t n, float keep_prob, const PhiloxStream& s,
                     const std::uint64_t* counter, const T* x, T* y);
template <typename T>
void dropout_backward(std::size_t n, float keep_prob, const PhiloxStream& s,
                      const std::uint64_t* counter, const T* dy, T* dx);
template <typename T>
void gaussian_noise_forward(std::size_t n, float sigma, const PhiloxStream& s,
                            const std::uint64_t* counter, const T* x, T* y);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void dropout_forward(std::size_t n, float keep_prob, const PhiloxStream& s,
                     const std::uint64_t* counter, const float* x, float* y, cudaStream_t stream);
void dropout_backward(std::size_t n, float keep_prob, const PhiloxStream& s,
                      const std::uint64_t* counter, const float* dy, float* dx,
                      cudaStream_t stream);
void gaussian_noise_forward(std::size_t n, float sigma, const PhiloxStream& s,
                            const std::uint64_t* counter, const float* x, float* y,
                            cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
