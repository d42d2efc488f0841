// Weight normalisation on the GPU: one warp per row (a dense layer's output unit, at most a few
// thousand columns). Lane k handles columns k, k + 32, k + 64, ... in order and the warp combines
// the 32 partial sums with warp_sum, so every sum has one fixed order.
#include "kernels/cuda/common.cuh"
#include "kernels/weight_norm.h"

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;
constexpr int rows_per_block = threads_per_block / warp_size;

// w[r, c] = g[r] v[r, c] / ||v[r, :]||,  norm[r] = ||v[r, :]||.
__global__ void weight_norm_forward_kernel(int rows, int cols, const float* __restrict__ v,
                                           const float* __restrict__ g, float* __restrict__ w,
                                           float* __restrict__ norm) {
  const int r = blockIdx.x * rows_per_block + threadIdx.x / warp_size;
  const int lane = threadIdx.x % warp_size;
  if (r >= rows) return; // the whole warp leaves together, so warp_sum below has all 32 lanes
  const float* v_row = v + std::size_t(r) * cols;
  float sum_sq = 0.0f;
  for (int c = lane; c < cols; c += warp_size) sum_sq += v_row[c] * v_row[c];
  const float length = sqrtf(warp_sum(sum_sq));
  const float scale = g[r] / length;
  float* w_row = w + std::size_t(r) * cols;
  for (int c = lane; c < cols; c += warp_size) w_row[c] = scale * v_row[c];
  if (lane == 0) norm[r] = length;
}

// t[r] = sum_c dw[r, c] v[r, c] / norm[r];  dg[r] += t[r];
// dv[r, c] += (g[r] / norm[r]) (dw[r, c] - t[r] v[r, c] / norm[r]).
__global__ void weight_norm_backward_kernel(int rows, int cols, const float* __restrict__ v,
                                            const float* __restrict__ g,
                                            const float* __restrict__ norm,
                                            const float* __restrict__ dw, float* __restrict__ dv,
                                            float* __restrict__ dg) {
  const int r = blockIdx.x * rows_per_block + threadIdx.x / warp_size;
  const int lane = threadIdx.x % warp_size;
  if (r >= rows) return;
  const std::size_t row = std::size_t(r) * cols;
  float dot = 0.0f;
  for (int c = lane; c < cols; c += warp_size) dot += dw[row + c] * v[row + c];
  const float length = norm[r];
  const float t = warp_sum(dot) / length;
  const float scale = g[r] / length;
  const float t_over_length = t / length;
  for (int c = lane; c < cols; c += warp_size)
    dv[row + c] += scale * (dw[row + c] - t_over_length * v[row + c]);
  if (lane == 0) dg[r] += t;
}

} // namespace

void weight_norm_forward(const WeightNormShape& s, const float* v, const float* g, float* w,
                         float* norm, cudaStream_t stream) {
  if (s.rows <= 0 || s.cols <= 0) return;
  launch({ceil_div(s.rows, rows_per_block), threads_per_block, stream}, weight_norm_forward_kernel,
         s.rows, s.cols, v, g, w, norm);
}

void weight_norm_backward(const WeightNormShape& s, const float* v, const float* g,
                          const float* norm, const float* dw, float* dv, float* dg,
                          cudaStream_t stream) {
  if (s.rows <= 0 || s.cols <= 0) return;
  launch({ceil_div(s.rows, rows_per_block), threads_per_block, stream}, weight_norm_backward_kernel,
         s.rows, s.cols, v, g, norm, dw, dv, dg);
}

} // namespace sgan::cuda
