// The vendor twin of dense: cublasLt matmuls in the column-major view of kernels/cuda/dense.cu
// (a row-major [rows, cols] matrix is a column-major [cols, rows] one):
//   forward          y^T = W . x^T          with the bias (and relu) in cublasLt's epilogue
//   backward_data    dx^T = W^T . dy^T
//   backward_weight  dW^T = x^T . dy + dW^T (beta = 1, in place)
//   backward_bias    db = dy^T . ones + db   (cublasSgemv against a vector of ones)
// Activations the epilogue lacks run as a second pass: cuDNN's where it has one, else ours.
#include "kernels/dense.h"

#include "kernels/cuda/check.h"
#include "kernels/cudnn/check.h"
#include "kernels/cudnn/handle.h"

#include <cstddef>
#include <cstdint>
#include <cublasLt.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace sgan::cudnn {
namespace {

// NVIDIA's recommended cublasLt workspace for Hopper.
constexpr std::size_t matmul_workspace_bytes = std::size_t(32) << 20;

template <auto destroy> struct Destroy {
  template <typename P> void operator()(P p) const { destroy(p); }
};
using MatmulDesc = std::unique_ptr<std::remove_pointer_t<cublasLtMatmulDesc_t>,
                                   Destroy<cublasLtMatmulDescDestroy>>;
using MatrixLayout = std::unique_ptr<std::remove_pointer_t<cublasLtMatrixLayout_t>,
                                     Destroy<cublasLtMatrixLayoutDestroy>>;
using MatmulPreference = std::unique_ptr<std::remove_pointer_t<cublasLtMatmulPreference_t>,
                                         Destroy<cublasLtMatmulPreferenceDestroy>>;
using TensorDescriptor = std::unique_ptr<std::remove_pointer_t<cudnnTensorDescriptor_t>,
                                         Destroy<cudnnDestroyTensorDescriptor>>;

void check_shape(const DenseShape& s) {
  if (s.n < 0 || s.in < 1 || s.out < 1)
    throw std::invalid_argument("dense: n must be >= 0 and in, out >= 1");
}

// D = op(A) op(B) + beta D, column-major, FP32 throughout (CUBLAS_COMPUTE_32F never uses TF32).
// D is [m, n]; A is stored [m, k] (op N) or [k, m] (op T), B [k, n] or [n, k].
struct Matmul {
  cublasOperation_t op_a = CUBLAS_OP_N, op_b = CUBLAS_OP_N;
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int lda = 0;
  const float* b = nullptr;
  int ldb = 0;
  float beta = 0.0f;
  float* d = nullptr;
  int ldd = 0;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const float* bias = nullptr; // [m], for the BIAS epilogues
};

MatrixLayout layout(int rows, int cols, int ld) {
  cublasLtMatrixLayout_t raw = nullptr;
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&raw, CUDA_R_32F, std::uint64_t(rows),
                                          std::uint64_t(cols), std::int64_t(ld)));
  return MatrixLayout(raw);
}

// The largest power of two up to 256 that divides the address: the heuristic assumes 256-byte
// aligned operands unless told otherwise, and views into an arena may be less aligned.
std::uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

template <typename Value>
void set_attribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute,
                   const Value& value) {
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof(value)));
}

template <typename Value>
void set_preference(cublasLtMatmulPreference_t preference,
                    cublasLtMatmulPreferenceAttributes_t attribute, const Value& value) {
  CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, attribute, &value, sizeof(value)));
}

void run_matmul(const Matmul& g, void* workspace, Handle& h) {
  cublasLtMatmulDesc_t raw_desc = nullptr;
  CUBLAS_CHECK(cublasLtMatmulDescCreate(&raw_desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const MatmulDesc desc(raw_desc);
  set_attribute(desc.get(), CUBLASLT_MATMUL_DESC_TRANSA, g.op_a);
  set_attribute(desc.get(), CUBLASLT_MATMUL_DESC_TRANSB, g.op_b);
  set_attribute(desc.get(), CUBLASLT_MATMUL_DESC_EPILOGUE, g.epilogue);
  if (g.bias) set_attribute(desc.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, g.bias);

  const MatrixLayout a = g.op_a == CUBLAS_OP_N ? layout(g.m, g.k, g.lda) : layout(g.k, g.m, g.lda);
  const MatrixLayout b = g.op_b == CUBLAS_OP_N ? layout(g.k, g.n, g.ldb) : layout(g.n, g.k, g.ldb);
  const MatrixLayout d = layout(g.m, g.n, g.ldd);

  cublasLtMatmulPreference_t raw_preference = nullptr;
  CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&raw_preference));
  const MatmulPreference preference(raw_preference);
  set_preference(preference.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                 std::uint64_t(matmul_workspace_bytes));
  set_preference(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignment_of(g.a));
  set_preference(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignment_of(g.b));
  set_preference(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignment_of(g.d));
  set_preference(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignment_of(g.d));

  const auto lt = reinterpret_cast<cublasLtHandle_t>(h.cublas()); // a cuBLAS handle is a Lt one
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(lt, desc.get(), a.get(), b.get(), d.get(), d.get(),
                                              preference.get(), 1, &heuristic, &found));
  if (found == 0)
    throw std::runtime_error("cublasLt has no algorithm for an FP32 matmul of [" +
                             std::to_string(g.m) + ", " + std::to_string(g.k) + "] by [" +
                             std::to_string(g.k) + ", " + std::to_string(g.n) + "]");
  const float alpha = 1.0f;
  CUBLAS_CHECK(cublasLtMatmul(lt, desc.get(), &alpha, g.a, a.get(), g.b, b.get(), &g.beta, g.d,
                              d.get(), g.d, d.get(), &heuristic.algo, workspace,
                              matmul_workspace_bytes, h.stream()));
}

} // namespace

void dense_forward(const DenseShape& s, const float* x, const float* w, const float* b, float* y,
                   const Activation& epilogue, Handle& h) {
  check_shape(s);
  if (s.n == 0) return;
  const bool fused =
      epilogue.kind == ActivationKind::identity || epilogue.kind == ActivationKind::relu;
  const bool relu = epilogue.kind == ActivationKind::relu;
  // cublasLt takes no alignment hint for the epilogue's bias and may read it with 16-byte loads,
  // while a bias view into a packed parameter buffer need not be 16-byte aligned: such a bias is
  // read from an aligned copy. Workspace layout: [matmul | product (unfused activations only) |
  // bias copy], each piece starting on a 256-byte boundary.
  const bool copy_bias = b && alignment_of(b) < 16;
  const std::size_t product_bytes = fused ? 0 : (s.y_size() * sizeof(float) + 255) / 256 * 256;
  std::byte* workspace = static_cast<std::byte*>(h.workspace(
      matmul_workspace_bytes + product_bytes + (copy_bias ? s.out * sizeof(float) : 0)));
  float* product = fused ? y : reinterpret_cast<float*>(workspace + matmul_workspace_bytes);
  const float* bias = b;
  if (copy_bias) {
    float* aligned = reinterpret_cast<float*>(workspace + matmul_workspace_bytes + product_bytes);
    CUDA_CHECK(cudaMemcpyAsync(aligned, b, s.out * sizeof(float), cudaMemcpyDeviceToDevice,
                               h.stream()));
    bias = aligned;
  }

  Matmul g;
  g.op_a = CUBLAS_OP_T;
  g.op_b = CUBLAS_OP_N;
  g.m = s.out, g.n = s.n, g.k = s.in;
  g.a = w, g.lda = s.in;
  g.b = x, g.ldb = s.in;
  g.d = product, g.ldd = s.out;
  g.bias = bias;
  g.epilogue = b ? (relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                 : (relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT);
  run_matmul(g, workspace, h);
  if (fused) return;
  if (has_activation(epilogue.kind))
    activation_forward(epilogue, s.y_size(), product, y, h);
  else
    cuda::activation_forward(epilogue, s.y_size(), product, y, h.stream());
}

void dense_backward_data(const DenseShape& s, const float* dy, const float* w, float* dx,
                         Handle& h) {
  check_shape(s);
  if (s.n == 0) return;
  Matmul g;
  g.m = s.in, g.n = s.n, g.k = s.out;
  g.a = w, g.lda = s.in;
  g.b = dy, g.ldb = s.out;
  g.d = dx, g.ldd = s.in;
  run_matmul(g, h.workspace(matmul_workspace_bytes), h);
}

void dense_backward_weight(const DenseShape& s, const float* x, const float* dy, float* dw,
                           Handle& h) {
  check_shape(s);
  if (s.n == 0) return;
  Matmul g;
  g.op_b = CUBLAS_OP_T;
  g.m = s.in, g.n = s.out, g.k = s.n;
  g.a = x, g.lda = s.in;
  g.b = dy, g.ldb = s.out;
  g.beta = 1.0f;
  g.d = dw, g.ldd = s.in;
  run_matmul(g, h.workspace(matmul_workspace_bytes), h);
}

// db[o] += sum_r dy[r, o]: the column-major [out, n] matrix dy^T times n ones. The ones are
// written into the shared workspace on every call, since other ops reuse it in between.
void dense_backward_bias(const DenseShape& s, const float* dy, float* db, Handle& h) {
  check_shape(s);
  if (s.n == 0) return;
  float* ones = static_cast<float*>(h.workspace(std::size_t(s.n) * sizeof(float)));
  cudnnTensorDescriptor_t raw_tensor = nullptr;
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&raw_tensor));
  const TensorDescriptor tensor(raw_tensor);
  CUDNN_CHECK(
      cudnnSetTensor4dDescriptor(tensor.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 1, 1, s.n));
  const float one = 1.0f;
  CUDNN_CHECK(cudnnSetTensor(h.cudnn(), tensor.get(), ones, &one));
  CUBLAS_CHECK(
      cublasSgemv(h.cublas(), CUBLAS_OP_N, s.out, s.n, &one, dy, s.out, ones, 1, &one, db, 1));
}

} // namespace sgan::cudnn
