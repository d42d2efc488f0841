// Philox draws on the host: element e is word e % 4 of block e / 4 (kernels/philox.h).
#include "kernels/philox.h"

#include <cmath>

namespace sgan::cpu {

// lo + (hi - lo) u as one fused multiply-add, so the host and the device round it alike.
void philox_uniform(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float lo,
                    float hi, float* out) {
  for (std::size_t e = 0; e < n; e += 4) {
    const PhiloxBlock b = philox_block(s, *counter, e / 4);
    for (std::size_t k = 0; k < 4 && e + k < n; ++k)
      out[e + k] = std::fma(hi - lo, philox_uniform01(b.word[k]), lo);
  }
}

// The block's word pairs (0, 1) and (2, 3) each give two normals, cosine branch first.
void philox_normal(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float mean,
                   float stddev, float* out) {
  for (std::size_t e = 0; e < n; e += 4) {
    const PhiloxBlock b = philox_block(s, *counter, e / 4);
    for (std::size_t k = 0; k < 4 && e + k < n; ++k) {
      const std::size_t pair = k & ~std::size_t(1);
      const float normal = sgan::philox_normal(b.word[pair], b.word[pair + 1], int(k & 1));
      out[e + k] = std::fma(stddev, normal, mean);
    }
  }
}

} // namespace sgan::cpu
