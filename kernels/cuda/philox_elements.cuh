#pragma once
// The loop every Philox-driven elementwise kernel runs (draws, dropout masks, Gaussian noise):
// one thread per Philox block b of the draw the device counter names, the block's four words
// giving elements e = 4 b + k, k the word index (kernels/philox.h), grid-stride so one launch
// covers any n. The counter is read inside the kernel, so a captured graph draws fresh numbers
// once it has been advanced.
#include "kernels/cuda/common.cuh"
#include "kernels/philox.h"

#include <cstddef>
#include <cstdint>

namespace sgan::cuda {

constexpr int philox_threads_per_block = 256;

// Blocks for a launch over n elements: one thread per Philox block of four.
inline unsigned int philox_grid(std::size_t n) {
  return elementwise_blocks(static_cast<std::int64_t>((n + 3) / 4), philox_threads_per_block);
}

// element(e, r, k) for every e = 4 b + k < n, r the b-th Philox block of (s, *counter).
template <typename Element>
__device__ inline void for_each_philox_element(std::uint64_t n, const PhiloxStream& s,
                                               const std::uint64_t* __restrict__ counter,
                                               Element element) {
  const std::uint64_t step = *counter;
  const std::uint64_t blocks = (n + 3) / 4;
  for (std::uint64_t b = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; b < blocks;
       b += std::uint64_t(gridDim.x) * blockDim.x) {
    const PhiloxBlock r = philox_block(s, step, b);
#pragma unroll
    for (int k = 0; k < 4; ++k)
      if (4 * b + k < n) element(4 * b + k, r, k);
  }
}

} // namespace sgan::cuda
