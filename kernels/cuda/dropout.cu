// Dropout and Gaussian noise on the device: one thread per Philox block of four elements, the
// mask or noise regenerated from (stream, counter) exactly as on the host (kernels/dropout.h).
// The output may alias the input: each thread reads its four elements before writing them.
#include "kernels/cuda/philox_elements.cuh"
#include "kernels/dropout.h"

namespace sgan::cuda {
namespace {

// out[e] = keep_e ? in[e] / keep_prob : 0, the division IEEE-rounded as on the host.
__global__ void dropout_mask_kernel(std::uint64_t n, float keep_prob, PhiloxStream s,
                                    const std::uint64_t* __restrict__ counter, const float* in,
                                    float* out) {
  for_each_philox_element(n, s, counter, [&](std::uint64_t e, const PhiloxBlock& r, int k) {
    out[e] = philox_keep(r.word[k], keep_prob) ? in[e] / keep_prob : 0.0f;
  });
}

// y[e] = fma(sigma, n_e, x[e]), n_e the e-th Philox normal (philox_block_normal).
__global__ void gaussian_noise_kernel(std::uint64_t n, float sigma, PhiloxStream s,
                                      const std::uint64_t* __restrict__ counter, const float* x,
                                      float* y) {
  for_each_philox_element(n, s, counter, [&](std::uint64_t e, const PhiloxBlock& r, int k) {
    y[e] = fmaf(sigma, philox_block_normal(r, k), x[e]);
  });
}

void apply_dropout_mask(std::size_t n, float keep_prob, const PhiloxStream& s,
                        const std::uint64_t* counter, const float* in, float* out,
                        cudaStream_t stream) {
  check_dropout_keep_prob(keep_prob);
  if (n == 0) return;
  launch({philox_grid(n), philox_threads_per_block, stream}, dropout_mask_kernel, n, keep_prob, s,
         counter, in, out);
}

} // namespace

void dropout_forward(std::size_t n, float keep_prob, const PhiloxStream& s,
                     const std::uint64_t* counter, const float* x, float* y, cudaStream_t stream) {
  apply_dropout_mask(n, keep_prob, s, counter, x, y, stream);
}

void dropout_backward(std::size_t n, float keep_prob, const PhiloxStream& s,
                      const std::uint64_t* counter, const float* dy, float* dx,
                      cudaStream_t stream) {
  apply_dropout_mask(n, keep_prob, s, counter, dy, dx, stream);
}

void gaussian_noise_forward(std::size_t n, float sigma, const PhiloxStream& s,
                            const std::uint64_t* counter, const float* x, float* y,
                            cudaStream_t stream) {
  if (n == 0) return;
  launch({philox_grid(n), philox_threads_per_block, stream}, gaussian_noise_kernel, n, sigma, s,
         counter, x, y);
}

} // namespace sgan::cuda
