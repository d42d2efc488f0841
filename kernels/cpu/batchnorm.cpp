// Batch normalisation, the reference: per channel, direct loops over the channel's n * spatial
// values, statistics in double by two passes (mean, then centred squares).
#include "kernels/batchnorm.h"

#include <cmath>
#include <cstddef>

namespace sgan::cpu {
namespace {

// Offset of value k of sample i in channel ch of an [n, c, spatial] tensor.
std::size_t offset(const BatchNormShape& s, int i, int ch, int k) {
  return (std::size_t(i) * s.c + ch) * s.spatial + k;
}

} // namespace

template <typename T>
void batchnorm_forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const T* x,
                             const T* gamma, const T* beta, T* y, T* running_mean, T* running_var,
                             T* saved_mean, T* saved_invstd, const Activation& epilogue) {
  if (s.size() == 0) return;
  const double m = double(s.n) * s.spatial;
  for (int ch = 0; ch < s.c; ++ch) {
    double sum = 0;
    for (int i = 0; i < s.n; ++i)
      for (int k = 0; k < s.spatial; ++k) sum += double(x[offset(s, i, ch, k)]);
    const double mean = sum / m;
    double centred_squares = 0;
    for (int i = 0; i < s.n; ++i)
      for (int k = 0; k < s.spatial; ++k) {
        const double d = double(x[offset(s, i, ch, k)]) - mean;
        centred_squares += d * d;
      }
    const double var = centred_squares / m;
    const double invstd = 1.0 / std::sqrt(var + double(hyper.eps));

    for (int i = 0; i < s.n; ++i)
      for (int k = 0; k < s.spatial; ++k) {
        const std::size_t at = offset(s, i, ch, k);
        const double xhat = (double(x[at]) - mean) * invstd;
        y[at] = T(activation_apply(epilogue, double(gamma[ch]) * xhat + double(beta[ch])));
      }

    const double momentum = hyper.momentum;
    running_mean[ch] = T((1 - momentum) * double(running_mean[ch]) + momentum * mean);
    if (m > 1)
      running_var[ch] = T((1 - momentum) * double(running_var[ch]) + momentum * var * m / (m - 1));
    saved_mean[ch] = T(mean);
    saved_invstd[ch] = T(invstd);
  }
}

template <typename T>
void batchnorm_forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const T* x,
                            const T* gamma, const T* beta, const T* running_mean,
                            const T* running_var, T* y, const Activation& epilogue) {
  for (int ch = 0; ch < s.c; ++ch) {
    const double invstd = 1.0 / std::sqrt(double(running_var[ch]) + double(hyper.eps));
    for (int i = 0; i < s.n; ++i)
      for (int k = 0; k < s.spatial; ++k) {
        const std::size_t at = offset(s, i, ch, k);
        const double xhat = (double(x[at]) - double(running_mean[ch])) * invstd;
        y[at] = T(activation_apply(epilogue, double(gamma[ch]) * xhat + double(beta[ch])));
      }
  }
}

template <typename T>
void batchnorm_backward(const BatchNormShape& s, const T* x, const T* dy, const T* gamma,
                        const T* saved_mean, const T* saved_invstd, T* dx, T* dgamma, T* dbeta) {
  if (s.size() == 0) return;
  const double m = double(s.n) * s.spatial;
  for (int ch = 0; ch < s.c; ++ch) {
    const double mean = saved_mean[ch], invstd = saved_invstd[ch];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int i = 0; i < s.n; ++i)
      for (int k = 0; k < s.spatial; ++k) {
        const std::size_t at = offset(s, i, ch, k);
        sum_dy += double(dy[at]);
        sum_dy_xhat += double(dy[at]) * (double(x[at]) - mean) * invstd;
      }
    dbeta[ch] = T(double(dbeta[ch]) + sum_dy);
    dgamma[ch] = T(double(dgamma[ch]) + sum_dy_xhat);

    const double scale = double(gamma[ch]) * invstd / m;
    for (int i = 0; i < s.n; ++i)
      for (int k = 0; k < s.spatial; ++k) {
        const std::size_t at = offset(s, i, ch, k);
        const double xhat = (double(x[at]) - mean) * invstd;
        dx[at] = T(scale * (m * double(dy[at]) - sum_dy - xhat * sum_dy_xhat));
      }
  }
}

#define SGAN_INSTANTIATE_BATCHNORM(T)                                                              \
  template void batchnorm_forward_train<T>(const BatchNormShape&, const BatchNormHyper&, const T*, \
                                           const T*, const T*, T*, T*, T*, T*, T*,                 \
                                           const Activation&);                                     \
  template void batchnorm_forward_eval<T>(const BatchNormShape&, const BatchNormHyper&, const T*,  \
                                          const T*, const T*, const T*, const T*, T*,              \
                                          const Activation&);                                      \
  template void batchnorm_backward<T>(const BatchNormShape&, const T*, const T*, const T*,         \
                                      const T*, const T*, T*, T*, T*);
SGAN_INSTANTIATE_BATCHNORM(float)
SGAN_INSTANTIATE_BATCHNORM(double)
#undef SGAN_INSTANTIATE_BATCHNORM

} // namespace sgan::cpu
