// cuDNN's batch normalisation as a twin of ours: cudnnBatchNormalization* in spatial mode on x
// viewed as [n, c, 1, spatial] ([n, c, 1, 1] for BatchNorm1d), with gamma, beta and statistics
// as [1, c, 1, 1]. cuDNN's exponentialAverageFactor is our momentum (the weight of the new batch),
// its running variance takes the unbiased batch variance as ours does, and its saved inverse
// variance is our saved_invstd = 1 / sqrt(var + eps). The epilogue runs after it as our own
// activation pass.
#include "kernels/batchnorm.h"

#include "kernels/cudnn/check.h"
#include "kernels/cudnn/handle.h"

#include <cstdint>
#include <stdexcept>

namespace sgan::cudnn {
namespace {

// The descriptors of one call, destroyed on every exit path.
class BatchNormDescriptors {
public:
  explicit BatchNormDescriptors(const BatchNormShape& s) {
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&data));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&channel));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(data, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n, s.c, 1,
                                           s.spatial));
    CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(channel, data, CUDNN_BATCHNORM_SPATIAL));
  }
  ~BatchNormDescriptors() {
    cudnnDestroyTensorDescriptor(channel);
    cudnnDestroyTensorDescriptor(data);
  }
  BatchNormDescriptors(const BatchNormDescriptors&) = delete;
  BatchNormDescriptors& operator=(const BatchNormDescriptors&) = delete;

  cudnnTensorDescriptor_t data = nullptr;    // x, y, dy, dx
  cudnnTensorDescriptor_t channel = nullptr; // gamma, beta, running and saved statistics
};

// cuDNN's legacy batchnorm has no fused activation for NCHW float, so the epilogue is a second,
// in-place pass (each element is read, then written, by the same thread).
void apply_epilogue(const Activation& epilogue, const BatchNormShape& s, float* y, Handle& h) {
  if (epilogue.kind == ActivationKind::identity) return;
  cuda::activation_forward(epilogue, s.size(), y, y, h.stream());
}

} // namespace

// With one value per channel there is no unbiased variance (m / (m - 1)); we leave the running
// variance unchanged there, which cuDNN does not promise, so the twin refuses the case.
void batchnorm_forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                             const float* gamma, const float* beta, float* y, float* running_mean,
                             float* running_var, float* saved_mean, float* saved_invstd,
                             const Activation& epilogue, Handle& h) {
  if (s.size() == 0) return;
  if (std::int64_t(s.n) * s.spatial < 2)
    throw std::invalid_argument("cudnn batchnorm: training needs more than one value per channel");
  const BatchNormDescriptors d(s);
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      h.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.data, x, d.data, y, d.channel, gamma, beta,
      double(hyper.momentum), running_mean, running_var, double(hyper.eps), saved_mean,
      saved_invstd));
  apply_epilogue(epilogue, s, y, h);
}

void batchnorm_forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float* y, const Activation& epilogue,
                            Handle& h) {
  if (s.size() == 0) return;
  const BatchNormDescriptors d(s);
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      h.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.data, x, d.data, y, d.channel, gamma, beta,
      running_mean, running_var, double(hyper.eps)));
  apply_epilogue(epilogue, s, y, h);
}

// dx is overwritten (alphaDataDiff 1, betaDataDiff 0), dgamma and dbeta accumulate
// (alphaParamDiff 1, betaParamDiff 1). cuDNN uses the saved mean and inverse variance as given;
// the epsilon it asks for only matters without them, so the default eps stands in.
void batchnorm_backward(const BatchNormShape& s, const float* x, const float* dy,
                        const float* gamma, const float* saved_mean, const float* saved_invstd,
                        float* dx, float* dgamma, float* dbeta, Handle& h) {
  if (s.size() == 0) return;
  const BatchNormDescriptors d(s);
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnBatchNormalizationBackward(
      h.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &one, d.data, x, d.data, dy, d.data,
      dx, d.channel, gamma, dgamma, dbeta, double(BatchNormHyper{}.eps), saved_mean, saved_invstd));
}

} // namespace sgan::cudnn
