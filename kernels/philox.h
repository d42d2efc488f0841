#pragma once
// Counter-based random numbers: Philox4x32-10 (Random123), the same function on host and device,
// so the CPU and CUDA backends draw the same numbers for the same (seed, stream, counter, index).
//
// Element e of a draw is word e % 4 of the block
//     philox4x32_10(key = {seed_lo, seed_hi}, counter = {e / 4, stream, counter_lo, counter_hi})
// where `stream` tells apart the users of one seed (one per layer or purpose) and `counter` tells
// apart successive draws of one user (the training step, say). The counter is read through a
// pointer into the backend's memory (device memory for cuda::), not passed by value, so that a
// captured CUDA graph draws fresh numbers at each replay once the counter has been advanced.
//
// uniform:  u = (word >> 8) * 2^-24 in [0, 1) (24 bits: every value exact in float)
// normal:   Box-Muller on the block's word pairs (0, 1) and (2, 3): with u1 = ((w_a >> 8) + 1) 2^-24
//           in (0, 1] and u2 from w_b, n_a = sqrt(-2 ln u1) cos(2 pi u2), n_b = ... sin(2 pi u2).
//           Host and device libm differ by a few ulps, so normals agree to ~1e-6 relative, uniforms
//           and dropout masks bitwise.
#include <Random123/philox.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace sgan {

struct PhiloxStream {
  std::uint64_t seed = 0;
  std::uint32_t stream = 0;
};

struct PhiloxBlock {
  std::uint32_t word[4];
};

SGAN_HOST_DEVICE inline PhiloxBlock philox_block(const PhiloxStream& s, std::uint64_t counter,
                                                 std::uint64_t block) {
  r123::Philox4x32 rng;
  const r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(block), s.stream,
                                           static_cast<std::uint32_t>(counter),
                                           static_cast<std::uint32_t>(counter >> 32)}};
  const r123::Philox4x32::key_type key = {
      {static_cast<std::uint32_t>(s.seed), static_cast<std::uint32_t>(s.seed >> 32)}};
  const r123::Philox4x32::ctr_type r = rng(ctr, key);
  return {{r[0], r[1], r[2], r[3]}};
}

SGAN_HOST_DEVICE inline float philox_uniform01(std::uint32_t word) {
  return static_cast<float>(word >> 8) * (1.0f / 16777216.0f);
}

// The two standard normals of one word pair (Box-Muller); index 0 gives the cosine branch.
SGAN_HOST_DEVICE inline float philox_normal(std::uint32_t word_a, std::uint32_t word_b, int index) {
  const float u1 = static_cast<float>((word_a >> 8) + 1u) * (1.0f / 16777216.0f);
  const float u2 = static_cast<float>(word_b >> 8) * (1.0f / 16777216.0f);
  const float radius = sqrtf(-2.0f * logf(u1));
  const float angle = 6.2831853071795864769f * u2;
  return index == 0 ? radius * cosf(angle) : radius * sinf(angle);
}

// Element k's normal of a block: words (0, 1) give elements 0 (cosine) and 1 (sine), words (2, 3)
// elements 2 and 3.
SGAN_HOST_DEVICE inline float philox_block_normal(const PhiloxBlock& r, int k) {
  return philox_normal(r.word[k & 2], r.word[(k & 2) + 1], k & 1);
}

// A word keeps its element with probability keep_prob: word < keep_prob * 2^32, compared in
// 64-bit integers, so CPU and GPU masks agree bitwise and keep_prob = 1 keeps everything.
SGAN_HOST_DEVICE inline bool philox_keep(std::uint32_t word, float keep_prob) {
  const double threshold = static_cast<double>(keep_prob) * 4294967296.0;
  return static_cast<double>(word) < threshold;
}

namespace cpu {
// element(e, r, k) for every e = 4 b + k < n in order, r the b-th Philox block of (s, *counter):
// the host's loop over a draw (the device's is kernels/cuda/philox_elements.cuh).
template <typename Element>
void for_each_philox_element(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter,
                             Element element) {
  for (std::size_t b = 0; 4 * b < n; ++b) {
    const PhiloxBlock r = philox_block(s, *counter, b);
    for (int k = 0; k < 4 && 4 * b + k < n; ++k) element(4 * b + k, r, k);
  }
}

// out[e] = lo + (hi - lo) u_e
void philox_uniform(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float lo,
                    float hi, float* out);
// out[e] = mean + stddev n_e
void philox_normal(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float mean,
                   float stddev, float* out);
}  // namespace cpu

#if defined(SGAN_WITH_CUDA)
namespace cuda {
void philox_uniform(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float lo,
                    float hi, float* out, cudaStream_t stream);
void philox_normal(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float mean,
                   float stddev, float* out, cudaStream_t stream);
}  // namespace cuda
#endif

}  // namespace sgan
