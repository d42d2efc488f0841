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
  for (std::size_t e = 0; e < n; e += 4) {
    const PhiloxBlock b = philox_block(s, *counter, e / 4);
    for (std::size_t k = 0; k < 4 && e + k < n; ++k)
      out[e + k] = philox_keep(b.word[k], keep_prob) ? in[e + k] / T(keep_prob) : T(0);
  }
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
  for (std::size_t e = 0; e < n; e += 4) {
    const PhiloxBlock b = philox_block(s, *counter, e / 4);
    for (std::size_t k = 0; k < 4 && e + k < n; ++k) {
      const std::size_t pair = k & ~std::size_t(1);
      const float normal = sgan::philox_normal(b.word[pair], b.word[pair + 1], int(k & 1));
      y[e + k] = std::fma(T(sigma), T(normal), x[e + k]);
    }
  }
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
