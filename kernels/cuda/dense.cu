// Dense on the GPU. The three products are cuBLAS SGEMMs; cuBLAS is column-major, and a row-major
// [rows, cols] matrix is the same memory as a column-major [cols, rows] one (its transpose), so
//   forward          y^T [out, n]  = W [out, in] . x^T [in, n]      (W^T stored: op T, ld in)
//   backward_data    dx^T [in, n]  = W^T [in, out] . dy^T [out, n]  (both as stored: op N)
//   backward_weight  dW^T [in, out] += x^T [in, n] . dy [n, out]    (dy^T stored: op T), beta = 1
// Bias + activation is one pass of ours over y, and the bias gradient a fixed-order column sum of
// ours; both run on the cuBLAS handle's stream, so they are ordered after the GEMMs.
#include "kernels/cuda/common.cuh"
#include "kernels/dense.h"

#include <stdexcept>

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;

// The bias-gradient block: 32 columns wide (one warp reads 32 consecutive floats of a row) and
// 8 rows deep; each thread sums every 8th row, then one thread per column adds the 8 partial sums.
constexpr int bias_columns = 32;
constexpr int bias_row_phases = 8;

void check_shape(const DenseShape& s) {
  if (s.n < 0 || s.in < 1 || s.out < 1)
    throw std::invalid_argument("dense: n must be >= 0 and in, out >= 1");
}

cudaStream_t stream_of(cublasHandle_t handle) {
  cudaStream_t stream = nullptr;
  CUBLAS_CHECK(cublasGetStream(handle, &stream));
  return stream;
}

// Plain FP32 products: a handle left in TF32 mode by someone else would round the inputs to 10
// mantissa bits and the results would no longer match the reference.
void sgemm(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m, int n,
           int k, const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  const float alpha = 1.0f;
  CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
  CUBLAS_CHECK(cublasSgemm(handle, op_a, op_b, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc));
}

// y[r, o] = act(y[r, o] + b[o]), b may be null.
__global__ void bias_activation_kernel(std::size_t size, int out, const float* __restrict__ b,
                                       Activation epilogue, float* __restrict__ y) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < size;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float value = b ? y[i] + b[i % out] : y[i];
    y[i] = activation_apply(epilogue, value);
  }
}

// db[o] += sum_r dy[r, o]. Block (32, 8): column o = blockIdx.x * 32 + threadIdx.x; thread
// (x, p) sums rows p, p + 8, p + 16, ... in order, and thread (x, 0) adds the 8 partials in order.
__global__ void bias_gradient_kernel(int rows, int out, const float* __restrict__ dy,
                                     float* __restrict__ db) {
  __shared__ float partial[bias_row_phases][bias_columns];
  const int o = blockIdx.x * bias_columns + threadIdx.x;
  float sum = 0.0f;
  if (o < out)
    for (int r = threadIdx.y; r < rows; r += bias_row_phases) sum += dy[std::size_t(r) * out + o];
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && o < out) {
    float total = 0.0f;
    for (int p = 0; p < bias_row_phases; ++p) total += partial[p][threadIdx.x];
    db[o] += total;
  }
}

} // namespace

void dense_forward(const DenseShape& s, const float* x, const float* w, const float* b, float* y,
                   const Activation& epilogue, cublasHandle_t handle) {
  check_shape(s);
  if (s.n == 0) return;
  sgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, s.out, s.n, s.in, w, s.in, x, s.in, 0.0f, y, s.out);
  if (!b && epilogue.kind == ActivationKind::identity) return;
  const std::size_t size = s.y_size();
  launch({elementwise_blocks(size, threads_per_block), threads_per_block, stream_of(handle)},
         bias_activation_kernel, size, s.out, b, epilogue, y);
}

void dense_backward_data(const DenseShape& s, const float* dy, const float* w, float* dx,
                         cublasHandle_t handle) {
  check_shape(s);
  if (s.n == 0) return;
  sgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, s.in, s.n, s.out, w, s.in, dy, s.out, 0.0f, dx, s.in);
}

void dense_backward_weight(const DenseShape& s, const float* x, const float* dy, float* dw,
                           cublasHandle_t handle) {
  check_shape(s);
  if (s.n == 0) return;
  sgemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, s.in, s.out, s.n, x, s.in, dy, s.out, 1.0f, dw, s.in);
}

void dense_backward_bias(const DenseShape& s, const float* dy, float* db, cublasHandle_t handle) {
  check_shape(s);
  if (s.n == 0) return;
  const dim3 block(bias_columns, bias_row_phases);
  launch({ceil_div(s.out, bias_columns), block, stream_of(handle)}, bias_gradient_kernel, s.n,
         s.out, dy, db);
}

} // namespace sgan::cuda
