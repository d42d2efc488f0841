#pragma once
// Batch normalisation over the batch and spatial axes, per channel. x is [n, c, spatial] with
// spatial = h * w for BatchNorm2d (NCHW) and spatial = 1 for BatchNorm1d ([n, c]). Let m = n * spatial.
//
// train forward:  mean_c = (1/m) sum x,  var_c = (1/m) sum (x - mean_c)^2   (biased, for normalising)
//                 xhat = (x - mean_c) * invstd_c,  invstd_c = 1 / sqrt(var_c + eps)
//                 y = act(gamma_c * xhat + beta_c)
//                 running_mean = (1 - momentum) running_mean + momentum mean_c
//                 running_var  = (1 - momentum) running_var  + momentum var_c * m / (m - 1)
//                 (unbiased in the running estimate, as PyTorch; momentum is the weight of the new
//                 batch: PyTorch's 0.1 default, Keras' momentum=0.99 is 0.01 here. With m = 1 the
//                 running variance is left unchanged.) saved_mean/saved_invstd keep mean_c and
//                 invstd_c for the backward pass.
// eval forward:   y = act(gamma_c (x - running_mean_c) / sqrt(running_var_c + eps) + beta_c)
// backward:       with dy = dL/d(gamma xhat + beta) (the caller undoes the epilogue first),
//                 dbeta_c  += sum dy,   dgamma_c += sum dy xhat
//                 dx = gamma_c invstd_c / m * (m dy - sum dy - xhat sum dy xhat)   (overwrites dx)
#include <cstddef>

#include "kernels/activation.h"
#include "kernels/backend.h"

namespace sgan {

struct BatchNormShape {
  int n = 0, c = 0, spatial = 1;

  std::size_t size() const { return std::size_t(n) * c * spatial; }
};

struct BatchNormHyper {
  float momentum = 0.1f;
  float eps = 1e-5f;
};

namespace cpu {
template <typename T>
void batchnorm_forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const T* x,
                             const T* gamma, const T* beta, T* y, T* running_mean, T* running_var,
                             T* saved_mean, T* saved_invstd, const Activation& epilogue = {});
template <typename T>
void batchnorm_forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const T* x,
                            const T* gamma, const T* beta, const T* running_mean,
                            const T* running_var, T* y, const Activation& epilogue = {});
template <typename T>
void batchnorm_backward(const BatchNormShape& s, const T* x, const T* dy, const T* gamma,
                        const T* saved_mean, const T* saved_invstd, T* dx, T* dgamma, T* dbeta);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
// One block per channel: a parallel, fixed-order reduction over the channel's n * spatial values.
void batchnorm_forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                             const float* gamma, const float* beta, float* y, float* running_mean,
                             float* running_var, float* saved_mean, float* saved_invstd,
                             const Activation& epilogue, cudaStream_t stream);
void batchnorm_forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float* y, const Activation& epilogue,
                            cudaStream_t stream);
void batchnorm_backward(const BatchNormShape& s, const float* x, const float* dy,
                        const float* gamma, const float* saved_mean, const float* saved_invstd,
                        float* dx, float* dgamma, float* dbeta, cudaStream_t stream);
}  // namespace cuda
#endif

#if defined(SGAN_WITH_CUDNN)
namespace cudnn {
// cudnnBatchNormalization* in spatial mode; the epilogue is applied by a separate pass (cuDNN's
// legacy batchnorm has no fused activation), and saved_invstd is cuDNN's saved inverse variance.
void batchnorm_forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                             const float* gamma, const float* beta, float* y, float* running_mean,
                             float* running_var, float* saved_mean, float* saved_invstd,
                             const Activation& epilogue, Handle& h);
void batchnorm_forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float* y, const Activation& epilogue,
                            Handle& h);
void batchnorm_backward(const BatchNormShape& s, const float* x, const float* dy,
                        const float* gamma, const float* saved_mean, const float* saved_invstd,
                        float* dx, float* dgamma, float* dbeta, Handle& h);
}  // namespace cudnn
#endif

}  // namespace sgan
