// Philox draws on the host: element e is word e % 4 of block e / 4 (kernels/philox.h).
#include "kernels/philox.h"

#include <cmath>

namespace sgan::cpu {

// lo + (hi - lo) u as one fused multiply-add, so the host and the device round it alike.
void philox_uniform(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float lo,
                    float hi, float* out) {
  for_each_philox_element(n, s, counter, [&](std::size_t e, const PhiloxBlock& r, int k) {
    out[e] = std::fma(hi - lo, philox_uniform01(r.word[k]), lo);
  });
}

// mean + stddev n_e as one fused multiply-add, as on the device.
void philox_normal(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float mean,
                   float stddev, float* out) {
  for_each_philox_element(n, s, counter, [&](std::size_t e, const PhiloxBlock& r, int k) {
    out[e] = std::fma(stddev, philox_block_normal(r, k), mean);
  });
}

} // namespace sgan::cpu
