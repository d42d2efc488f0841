// Dense on the GPU. The three products are cuBLAS SGEMMs; cuBLAS is column-major, and a row-major
// [rows, cols] matrix is the same memory as a column-major [cols, rows] one (its transpose), so
//   forward          y^T [out, n]  = W [out, in] . x^T [in, n]      (W^T stored: op T, ld in)
//   backward_data    dx^T [in, n]  = W^T [in, out] . dy^T [out, n]  (both as stored: op N)
//   backward_weight  dW^T [in, out] += x^T [in, n] . dy [n, out]    (dy^T stored: op T), beta = 1
// Bias + activation is one pass of ours over y, and the bias gradient a fixed-order column sum of
// ours; both run on the cuBLAS handle's stream, so they are ordered after the GEMMs.
#include "kernels/cuda/column_sums.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/dense.h"

#include <stdexcept>

namespace sgan::cuda {
namespace {

constexpr int threads_per_block = 256;

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

// db[o] += sum_r dy[r, o], the rows summed in block_column_sum's fixed order.
__global__ void bias_gradient_kernel(int rows, int out, const float* __restrict__ dy,
                                     float* __restrict__ db) {
  const float total = block_column_sum(rows, out, dy);
  const int o = blockIdx.x * column_sum_columns + threadIdx.x;
  if (threadIdx.y == 0 && o < out) db[o] += total;
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
  launch({column_sum_grid(s.out), column_sum_block(), stream_of(handle)}, bias_gradient_kernel, s.n,
         s.out, dy, db);
}

} // namespace sgan::cuda
