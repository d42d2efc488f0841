// The emulated CUDA runtime and cuBLAS (kernels/cuda/emulated_runtime.h) keep the rules the
// engine's cuda backend relies on, and refuse what the GPU refuses: a captured stream records its
// work instead of running it (and lists it as the GPU's nodes), a graph runs the recording each
// time it is launched with the arguments the capture saw, synchronizing calls and legacy-stream
// work during a capture fail and invalidate it, and cublasSgemm computes column-major
// C = alpha op(A) op(B) + beta C as the BLAS defines it (against a double reference here), never
// reading C when beta is 0.
#include "kernels/cuda/common.cuh"

#include <cmath>
#include <cstddef>
#include <functional>
#include <gtest/gtest.h>
#include <limits>
#include <string>
#include <vector>

namespace sgan {
namespace {

__global__ void add_to_each(int value, int n, int* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] += value;
}

class Stream {
public:
  Stream() { CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(stream_); }
  operator cudaStream_t() const { return stream_; }

private:
  cudaStream_t stream_ = nullptr;
};

class Graph {
public:
  explicit Graph(cudaStream_t stream) {
    CUDA_CHECK(cudaStreamEndCapture(stream, &graph_));
    CUDA_CHECK(cudaGraphInstantiate(&exec_, graph_, 0));
  }
  ~Graph() {
    cudaGraphExecDestroy(exec_);
    cudaGraphDestroy(graph_);
  }
  void launch(cudaStream_t stream) { CUDA_CHECK(cudaGraphLaunch(exec_, stream)); }

private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

TEST(CudaRuntimeEmulationTest, OneDevice) {
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  EXPECT_EQ(count, 1);
  cudaDeviceProp properties{};
  CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
  EXPECT_NE(std::string(properties.name).find("emulated"), std::string::npos);
  EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(CudaRuntimeEmulationTest, ACapturedStreamRecordsAndEachGraphLaunchRunsTheRecording) {
  Stream stream;
  std::vector<int> out(40, 7);
  std::vector<int> copy(40, -1);
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  CUDA_CHECK(cudaMemsetAsync(out.data(), 0, out.size() * sizeof(int), stream));
  cuda::launch({2, 32, stream}, add_to_each, 3, 40, out.data());
  cuda::launch({2, 32, stream}, add_to_each, 4, 40, out.data());
  CUDA_CHECK(cudaMemcpyAsync(copy.data(), out.data(), out.size() * sizeof(int),
                             cudaMemcpyDeviceToDevice, stream));
  EXPECT_EQ(out[0], 7) << "a captured stream ran its work";
  Graph graph(stream);
  EXPECT_EQ(out[0], 7) << "ending the capture ran the work";
  EXPECT_EQ(copy[39], -1);
  graph.launch(stream);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(copy[i], 7) << i;
  cuda::launch({2, 32, stream}, add_to_each, 100, 40, out.data()); // eager again: runs now
  EXPECT_EQ(out[5], 107);
  graph.launch(stream); // the memset runs again: a replay starts from what the capture recorded
  EXPECT_EQ(out[5], 7);
}

// The node types, in capture order, that a GPU's capture makes of each call.
TEST(CudaRuntimeEmulationTest, AGraphListsANodePerCapturedCall) {
  Stream stream;
  std::vector<int> out(40, 7), copy(40);
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  cuda::launch({1, 32, stream}, add_to_each, 1, 40, out.data());
  Graph inner(stream);

  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  CUDA_CHECK(cudaMemsetAsync(out.data(), 0, out.size() * sizeof(int), stream));
  cuda::launch({2, 32, stream}, add_to_each, 3, 40, out.data());
  void* scratch = nullptr;
  CUDA_CHECK(cudaMallocAsync(&scratch, 64, stream));
  CUDA_CHECK(cudaMemcpyAsync(copy.data(), out.data(), out.size() * sizeof(int),
                             cudaMemcpyDeviceToDevice, stream));
  CUDA_CHECK(cudaFreeAsync(scratch, stream));
  inner.launch(stream);
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));

  std::size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  ASSERT_EQ(count, 6u);
  std::vector<cudaGraphNode_t> nodes(count);
  CUDA_CHECK(cudaGraphGetNodes(graph, nodes.data(), &count));
  const cudaGraphNodeType expected[] = {cudaGraphNodeTypeMemset, cudaGraphNodeTypeKernel,
                                        cudaGraphNodeTypeMemAlloc, cudaGraphNodeTypeMemcpy,
                                        cudaGraphNodeTypeMemFree, cudaGraphNodeTypeGraph};
  for (std::size_t i = 0; i < count; ++i) {
    cudaGraphNodeType type{};
    CUDA_CHECK(cudaGraphNodeGetType(nodes[i], &type));
    EXPECT_EQ(type, expected[i]) << "node " << i;
  }
  CUDA_CHECK(cudaGraphDestroy(graph));
}

TEST(CudaRuntimeEmulationTest, AGraphKeepsTheKernelArgumentsOfItsCapture) {
  Stream stream;
  std::vector<int> out(1, 0);
  int value = 1;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  cuda::launch({1, 32, stream}, add_to_each, value, 1, out.data());
  Graph graph(stream);
  value = 50; // a host value changed after the capture does not reach the graph
  graph.launch(stream);
  graph.launch(stream);
  EXPECT_EQ(out[0], 2);
}

// Each call the GPU refuses while this thread captures, and the capture it spoils.
void expect_refused_during_capture(const std::function<cudaError_t(cudaStream_t)>& call) {
  Stream stream;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  EXPECT_EQ(call(stream), cudaErrorStreamCaptureUnsupported);
  cudaGetLastError();
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  cudaGetLastError();
  EXPECT_EQ(call(stream), cudaSuccess) << "refused after the capture ended";
}

TEST(CudaRuntimeEmulationTest, SynchronizingCallsDuringACaptureAreRefusedAndInvalidateIt) {
  std::vector<int> host(4, 0), device(4, 0);
  expect_refused_during_capture([](cudaStream_t s) { return cudaStreamSynchronize(s); });
  expect_refused_during_capture([](cudaStream_t) { return cudaDeviceSynchronize(); });
  expect_refused_during_capture([&](cudaStream_t) {
    return cudaMemcpy(host.data(), device.data(), 16, cudaMemcpyDeviceToHost);
  });
  expect_refused_during_capture([&](cudaStream_t) { return cudaMemset(device.data(), 0, 16); });
  expect_refused_during_capture([](cudaStream_t) {
    void* p = nullptr;
    const cudaError_t status = cudaMalloc(&p, 16);
    if (status == cudaSuccess) cudaFree(p);
    return status;
  });
}

TEST(CudaRuntimeEmulationTest, LegacyStreamWorkDuringACaptureIsRefused) {
  std::vector<int> out(1, 0);
  expect_refused_during_capture(
      [&](cudaStream_t) { return cudaMemsetAsync(out.data(), 0, sizeof(int), nullptr); });
  expect_refused_during_capture([](cudaStream_t) {
    void* p = nullptr;
    const cudaError_t status = cudaMallocAsync(&p, 16, nullptr);
    if (status == cudaSuccess) cudaFreeAsync(p, nullptr);
    return status;
  });
  Stream stream;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  EXPECT_THROW(cuda::launch({1, 32}, add_to_each, 1, 1, out.data()), CudaError)
      << "a kernel launched on stream 0 during a capture";
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream, &graph), cudaErrorStreamCaptureInvalidated);
  cudaGetLastError();
  EXPECT_EQ(out[0], 0);
}

TEST(CudaRuntimeEmulationTest, StreamOrderedMemoryOfACaptureIsTheGraphs) {
  Stream stream;
  std::vector<int> out(8, 0);
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  int* scratch = nullptr;
  CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&scratch), 8 * sizeof(int), stream));
  CUDA_CHECK(cudaMemsetAsync(scratch, 0, 8 * sizeof(int), stream));
  cuda::launch({1, 32, stream}, add_to_each, 5, 8, scratch);
  CUDA_CHECK(
      cudaMemcpyAsync(out.data(), scratch, 8 * sizeof(int), cudaMemcpyDeviceToDevice, stream));
  CUDA_CHECK(cudaFreeAsync(scratch, stream));
  Graph graph(stream);
  graph.launch(stream); // the scratch memory lives as long as the graph
  graph.launch(stream);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], 5) << i;
}

TEST(CudaRuntimeEmulationTest, CaptureNeedsAStreamOfItsOwnAndOneAtATime) {
  EXPECT_EQ(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeThreadLocal),
            cudaErrorStreamCaptureUnsupported);
  Stream first, second;
  CUDA_CHECK(cudaStreamBeginCapture(first, cudaStreamCaptureModeThreadLocal));
  EXPECT_EQ(cudaStreamBeginCapture(second, cudaStreamCaptureModeThreadLocal),
            cudaErrorIllegalState);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(second, &graph), cudaErrorIllegalState);
  CUDA_CHECK(cudaStreamEndCapture(first, &graph));
  EXPECT_NE(graph, nullptr);
  cudaGraphDestroy(graph);
  cudaGetLastError();
}

// Column-major element (row, column) of op(M), M stored with leading dimension ld.
double element(const std::vector<float>& m, int ld, bool transposed, int row, int column) {
  return transposed ? m[std::size_t(column) + std::size_t(row) * ld]
                    : m[std::size_t(row) + std::size_t(column) * ld];
}

TEST(CublasEmulationTest, SgemmMatchesTheBlasDefinitionForEveryTranspose) {
  cublasHandle_t handle = nullptr;
  CUBLAS_CHECK(cublasCreate(&handle));
  const int m = 7, n = 5, k = 9;
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      // Leading dimensions larger than the stored rows, so an ld mix-up reads the padding.
      const int lda = (ta ? k : m) + 3, ldb = (tb ? n : k) + 2, ldc = m + 1;
      std::vector<float> a(std::size_t(lda) * (ta ? m : k)), b(std::size_t(ldb) * (tb ? k : n));
      for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(std::sin(0.37 * double(i) + 1.0));
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(std::cos(0.23 * double(i) + 2.0));
      std::vector<float> c(std::size_t(ldc) * n);
      for (std::size_t i = 0; i < c.size(); ++i) c[i] = float(i % 5) - 2.0f;
      const std::vector<float> c0 = c;
      const float alpha = 0.75f, beta = -0.5f;
      CUBLAS_CHECK(cublasSgemm(handle, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                               tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &alpha, a.data(), lda,
                               b.data(), ldb, &beta, c.data(), ldc));
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          double sum = 0;
          for (int l = 0; l < k; ++l) sum += element(a, lda, ta, i, l) * element(b, ldb, tb, l, j);
          const std::size_t at = std::size_t(i) + std::size_t(j) * ldc;
          EXPECT_NEAR(c[at], alpha * sum + beta * c0[at], 1e-5)
              << "op_a " << ta << " op_b " << tb << " at (" << i << ", " << j << ")";
        }
      for (int j = 0; j < n; ++j) // the rows of C past m are not C's
        EXPECT_EQ(c[std::size_t(m) + std::size_t(j) * ldc],
                  c0[std::size_t(m) + std::size_t(j) * ldc]);
    }
  cublasDestroy(handle);
}

TEST(CublasEmulationTest, SgemmWithBetaZeroNeverReadsC) {
  cublasHandle_t handle = nullptr;
  CUBLAS_CHECK(cublasCreate(&handle));
  const std::vector<float> a = {1, 2, 3, 4}, b = {1, 0, 0, 1};
  std::vector<float> c(4, std::numeric_limits<float>::quiet_NaN());
  const float alpha = 1.0f, beta = 0.0f;
  CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &alpha, a.data(), 2, b.data(),
                           2, &beta, c.data(), 2));
  EXPECT_EQ(c, a);
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &alpha, a.data(), 1, b.data(), 2,
                        &beta, c.data(), 2),
            CUBLAS_STATUS_INVALID_VALUE)
      << "lda below the rows of A";
  cublasDestroy(handle);
}

TEST(CublasEmulationTest, SgemmOnACapturedStreamIsRecordedWithItsScalars) {
  Stream stream;
  cublasHandle_t handle = nullptr;
  CUBLAS_CHECK(cublasCreate(&handle));
  CUBLAS_CHECK(cublasSetStream(handle, stream));
  const std::vector<float> a = {2}, b = {3};
  std::vector<float> c = {1};
  float alpha = 1.0f;
  const float beta = 1.0f;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &alpha, a.data(), 1, b.data(),
                           1, &beta, c.data(), 1));
  EXPECT_EQ(c[0], 1.0f);
  Graph graph(stream);
  alpha = 10.0f;
  graph.launch(stream);
  EXPECT_EQ(c[0], 7.0f); // 1 + 1 * 2 * 3: alpha as it was at the capture
  cublasDestroy(handle);
}

} // namespace
} // namespace sgan
