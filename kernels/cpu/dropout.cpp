// Dropout and Gaussian noise on the host, masks and noise drawn from Philox block by block:
// element e uses word e % 4 of block e / 4, as every other Philox draw (kernels/philox.h). The
// noise is added by one fused multiply-add, y = fma(sigma, n_e, x), as on the device.
#include "kernels/dropout.h"

#include <cmath>

namespace sgan::cpu {
namespace {

// out[e] = keep_e ? in[e] / keep_prob : 0; in and out may be the same array.
template <typename T>
void apply_dropout_mask(std::size_t n, float keep_prob, const PhiloxStream& s,
                        const std::uint64_t* counter, const T* in, T* out) {
  check_dropout_keep_prob(keep_prob);
  for_each_philox_element(n, s, counter, [&](std::size_t e, const PhiloxBlock& r, int k) {
    out[e] = philox_keep(r.word[k], keep_prob) ? in[e] / T(keep_prob) : T(0);
  });
}

} // namespace

template <typename T>
void dropout_forward(std::size_t n, float keep_prob, const PhiloxStream& s,
                     const std::uint64_t* counter, const T* x, T* y) {
  apply_dropout_mask(n, keep_prob, s, counter, x, y);
}

template <typename T>
void dropout_backward(std::size_t n, float keep_prob, const PhiloxStream& s,
                      const std::uint64_t* counter, const T* dy, T* dx) {
  apply_dropout_mask(n, keep_prob, s, counter, dy, dx);
}

template <typename T>
void gaussian_noise_forward(std::size_t n, float sigma, const PhiloxStream& s,
                            const std::uint64_t* counter, const T* x, T* y) {
  for_each_philox_element(n, s, counter, [&](std::size_t e, const PhiloxBlock& r, int k) {
    y[e] = std::fma(T(sigma), T(philox_block_normal(r, k)), x[e]);
  });
}

#define SGAN_INSTANTIATE_DROPOUT(T)                                                                \
  template void dropout_forward<T>(std::size_t, float, const PhiloxStream&, const std::uint64_t*,  \
                                   const T*, T*);                                                  \
  template void dropout_backward<T>(std::size_t, float, const PhiloxStream&, const std::uint64_t*, \
                                    const T*, T*);                                                 \
  template void gaussian_noise_forward<T>(std::size_t, float, const PhiloxStream&,                 \
                                          const std::uint64_t*, const T*, T*);
SGAN_INSTANTIATE_DROPOUT(float)
SGAN_INSTANTIATE_DROPOUT(double)
#undef SGAN_INSTANTIATE_DROPOUT

} // namespace sgan::cpu
