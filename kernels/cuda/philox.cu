// Philox draws on the device, element e of a draw from word e % 4 of Philox block e / 4
// (kernels/cuda/philox_elements.cuh), as on the host.
#include "kernels/cuda/philox_elements.cuh"

namespace sgan::cuda {
namespace {

// lo + (hi - lo) u as one fused multiply-add, as on the host, so the two agree bitwise.
__global__ void philox_uniform_kernel(std::uint64_t n, PhiloxStream s,
                                      const std::uint64_t* __restrict__ counter, float lo, float hi,
                                      float* __restrict__ out) {
  for_each_philox_element(n, s, counter, [&](std::uint64_t e, const PhiloxBlock& r, int k) {
    out[e] = fmaf(hi - lo, philox_uniform01(r.word[k]), lo);
  });
}

// mean + stddev n_e as one fused multiply-add, as on the host (n_e: philox_block_normal).
__global__ void philox_normal_kernel(std::uint64_t n, PhiloxStream s,
                                     const std::uint64_t* __restrict__ counter, float mean,
                                     float stddev, float* __restrict__ out) {
  for_each_philox_element(n, s, counter, [&](std::uint64_t e, const PhiloxBlock& r, int k) {
    out[e] = fmaf(stddev, philox_block_normal(r, k), mean);
  });
}

} // namespace

void philox_uniform(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float lo,
                    float hi, float* out, cudaStream_t stream) {
  if (n == 0) return;
  launch({philox_grid(n), philox_threads_per_block, stream}, philox_uniform_kernel, n, s, counter,
         lo, hi, out);
}

void philox_normal(std::size_t n, const PhiloxStream& s, const std::uint64_t* counter, float mean,
                   float stddev, float* out, cudaStream_t stream) {
  if (n == 0) return;
  launch({philox_grid(n), philox_threads_per_block, stream}, philox_normal_kernel, n, s, counter,
         mean, stddev, out);
}

} // namespace sgan::cuda
