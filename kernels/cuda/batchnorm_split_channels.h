#pragma once
// The split_channels batchnorm variant (batchnorm_variants.h), called by batchnorm.cu's variant
// dispatch once the shape is validated (s.size() > 0, n * spatial < 2^31).
#include "kernels/batchnorm.h"

namespace sgan::cuda::split_channels {

void forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                   const float* gamma, const float* beta, float* y, float* running_mean,
                   float* running_var, float* saved_mean, float* saved_invstd,
                   const Activation& epilogue, cudaStream_t stream);
void forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                  const float* gamma, const float* beta, const float* running_mean,
                  const float* running_var, float* y, const Activation& epilogue,
                  cudaStream_t stream);
void backward(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
              const float* saved_mean, const float* saved_invstd, float* dx, float* dgamma,
              float* dbeta, cudaStream_t stream);

} // namespace sgan::cuda::split_channels
