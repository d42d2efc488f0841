// The CUDA runtime and cuBLAS on the CPU, behind kernels/cuda/emulated_runtime.h: host memory,
// streams that run their work at once, and stream capture that records it instead.
#include "kernels/cuda/emulation.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

// A node of a captured graph: what it is (the work itself is in Recording::work).
struct CUgraphNode_st {
  cudaGraphNodeType type;
};

namespace sgan::emulation {

// What a capture recorded: the work in call order, the nodes the GPU's capture would have made
// (the work's and the memory nodes'), and the memory the graph owns.
struct Recording {
  std::vector<std::function<void()>> work;
  std::deque<CUgraphNode_st> nodes;
  std::vector<void*> memory; // cudaMallocAsync'd during the capture
  ~Recording() {
    for (void* p : memory) std::free(p);
  }
};

} // namespace sgan::emulation

// The runtime's opaque handle types, completed here: what a stream, a graph, an executable graph
// and a cuBLAS handle are in the emulation.
using sgan::emulation::Recording;

struct CUstream_st {
  std::shared_ptr<Recording> capture; // set while the stream is being captured
  bool invalidated = false;           // a call during the capture that the GPU refuses
};

struct CUgraph_st {
  std::shared_ptr<Recording> recording;
};

struct CUgraphExec_st {
  std::shared_ptr<Recording> recording;
};

struct cublasContext {
  cudaStream_t stream = nullptr;
};

namespace sgan::emulation {
namespace {

// The stream this thread captures (the thread-local capture mode: the only one our code uses).
thread_local CUstream_st* capturing = nullptr;
thread_local cudaError_t last_error = cudaSuccess;

cudaError_t fail(cudaError_t error) {
  last_error = error;
  return error;
}

// A synchronizing call or legacy-stream work while this thread captures: refused, and the
// capture can no longer end in a graph.
bool refused_during_capture() {
  if (!capturing) return false;
  capturing->invalidated = true;
  fail(cudaErrorStreamCaptureUnsupported);
  return true;
}

} // namespace

cudaError_t get_device_count(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t set_device(int ordinal) {
  return ordinal == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice);
}

cudaError_t get_device(int* ordinal) {
  *ordinal = 0;
  return cudaSuccess;
}

cudaError_t get_device_properties(cudaDeviceProp* properties, int ordinal) {
  if (ordinal != 0) return fail(cudaErrorInvalidDevice);
  *properties = cudaDeviceProp{};
  std::strncpy(properties->name, "CUDA emulated on the CPU", sizeof properties->name - 1);
  properties->major = 9; // what the kernels are compiled for (sm_90), tensor cores included
  return cudaSuccess;
}

cudaError_t get_last_error() { return std::exchange(last_error, cudaSuccess); }

const char* get_error_string(cudaError_t error) {
  switch (error) {
  case cudaSuccess:
    return "no error";
  case cudaErrorInvalidValue:
    return "invalid argument";
  case cudaErrorMemoryAllocation:
    return "out of memory";
  case cudaErrorInvalidDevice:
    return "invalid device ordinal";
  case cudaErrorInvalidResourceHandle:
    return "invalid resource handle";
  case cudaErrorIllegalState:
    return "the operation is not permitted in the current state";
  case cudaErrorStreamCaptureUnsupported:
    return "operation not permitted when stream is capturing";
  case cudaErrorStreamCaptureInvalidated:
    return "operation failed due to a previous error during capture";
  default:
    return "another CUDA error (not produced by the emulation)";
  }
}

cudaError_t submit(cudaStream_t stream, std::function<void()> work, cudaGraphNodeType node) {
  if (stream && stream->capture) {
    stream->capture->work.push_back(std::move(work));
    stream->capture->nodes.push_back({node});
    return cudaSuccess;
  }
  if (!stream && refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  work();
  return cudaSuccess;
}

cudaError_t malloc(void** pointer, std::size_t bytes) {
  if (refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  *pointer = std::malloc(bytes ? bytes : 1);
  return *pointer ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t free(void* pointer) {
  if (refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  std::free(pointer);
  return cudaSuccess;
}

// Stream-ordered, so refused during a capture only on the legacy stream, as other work there;
// on the stream being captured the memory is the graph's.
cudaError_t malloc_async(void** pointer, std::size_t bytes, cudaStream_t stream) {
  if (!stream && refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  *pointer = std::malloc(bytes ? bytes : 1);
  if (!*pointer) return fail(cudaErrorMemoryAllocation);
  if (stream && stream->capture) {
    stream->capture->memory.push_back(*pointer);
    stream->capture->nodes.push_back({cudaGraphNodeTypeMemAlloc});
  }
  return cudaSuccess;
}

cudaError_t free_async(void* pointer, cudaStream_t stream) {
  if (!stream && refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  if (!stream || !stream->capture) {
    std::free(pointer);
    return cudaSuccess;
  }
  const std::vector<void*>& owned = stream->capture->memory;
  if (std::find(owned.begin(), owned.end(), pointer) == owned.end())
    throw std::logic_error("emulated cudaFreeAsync during a capture of memory allocated before "
                           "it: not modelled");
  stream->capture->nodes.push_back({cudaGraphNodeTypeMemFree});
  return cudaSuccess; // the graph's memory, freed with it
}

cudaError_t memset(void* pointer, int value, std::size_t bytes) {
  if (refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  if (bytes) std::memset(pointer, value, bytes);
  return cudaSuccess;
}

// Every kind is a host copy here; the kinds a GPU would reject are not modelled.
cudaError_t memcpy(void* destination, const void* source, std::size_t bytes, cudaMemcpyKind) {
  if (refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  if (bytes) std::memcpy(destination, source, bytes); // a 0-byte copy may name null pointers
  return cudaSuccess;
}

cudaError_t memset_async(void* pointer, int value, std::size_t bytes, cudaStream_t stream) {
  return submit(
      stream,
      [=] {
        if (bytes) std::memset(pointer, value, bytes);
      },
      cudaGraphNodeTypeMemset);
}

cudaError_t memcpy_async(void* destination, const void* source, std::size_t bytes,
                         cudaMemcpyKind kind, cudaStream_t stream) {
  if (stream && stream->capture && kind != cudaMemcpyDeviceToDevice)
    throw std::logic_error("emulated cudaMemcpyAsync to or from the host during a capture: not "
                           "modelled");
  return submit(
      stream,
      [=] {
        if (bytes) std::memmove(destination, source, bytes);
      },
      cudaGraphNodeTypeMemcpy);
}

cudaError_t device_synchronize() { return stream_synchronize(nullptr); }

cudaError_t stream_create(cudaStream_t* stream) { return stream_create_with_flags(stream, 0); }

cudaError_t stream_create_with_flags(cudaStream_t* stream, unsigned int) {
  *stream = new CUstream_st;
  return cudaSuccess;
}

cudaError_t stream_destroy(cudaStream_t stream) {
  if (!stream) return fail(cudaErrorInvalidResourceHandle);
  if (capturing == stream) capturing = nullptr;
  delete stream;
  return cudaSuccess;
}

cudaError_t stream_synchronize(cudaStream_t) {
  return refused_during_capture() ? cudaErrorStreamCaptureUnsupported : cudaSuccess;
}

cudaError_t stream_begin_capture(cudaStream_t stream, cudaStreamCaptureMode) {
  if (!stream) return fail(cudaErrorStreamCaptureUnsupported); // the legacy stream cannot be
  if (stream->capture || capturing) return fail(cudaErrorIllegalState);
  stream->capture = std::make_shared<Recording>();
  stream->invalidated = false;
  capturing = stream;
  return cudaSuccess;
}

cudaError_t stream_end_capture(cudaStream_t stream, cudaGraph_t* graph) {
  *graph = nullptr;
  if (!stream || !stream->capture) return fail(cudaErrorIllegalState);
  std::shared_ptr<Recording> recording = std::exchange(stream->capture, nullptr);
  if (capturing == stream) capturing = nullptr;
  if (stream->invalidated) return fail(cudaErrorStreamCaptureInvalidated);
  *graph = new CUgraph_st{std::move(recording)};
  return cudaSuccess;
}

cudaError_t graph_instantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (!graph) return fail(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->recording};
  return cudaSuccess;
}

cudaError_t graph_launch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (!exec) return fail(cudaErrorInvalidValue);
  return submit(
      stream,
      [recording = exec->recording] {
        for (const std::function<void()>& work : recording->work) work();
      },
      cudaGraphNodeTypeGraph);
}

cudaError_t graph_destroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t graph_exec_destroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

// As the runtime: with `nodes` null, the count; else up to *count nodes, and *count the number
// written.
cudaError_t graph_get_nodes(cudaGraph_t graph, cudaGraphNode_t* nodes, std::size_t* count) {
  if (!graph || !count) return fail(cudaErrorInvalidValue);
  std::deque<CUgraphNode_st>& recorded = graph->recording->nodes;
  if (!nodes) {
    *count = recorded.size();
    return cudaSuccess;
  }
  *count = std::min(*count, recorded.size());
  for (std::size_t i = 0; i < *count; ++i) nodes[i] = &recorded[i];
  return cudaSuccess;
}

cudaError_t graph_node_get_type(cudaGraphNode_t node, cudaGraphNodeType* type) {
  if (!node || !type) return fail(cudaErrorInvalidValue);
  *type = node->type;
  return cudaSuccess;
}

cublasStatus_t cublas_create(cublasHandle_t* handle) {
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublas_destroy(cublasHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublas_set_stream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublas_get_stream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublas_set_math_mode(cublasHandle_t handle, cublasMath_t) {
  return handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

const char* cublas_get_status_string(cublasStatus_t status) {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_EXECUTION_FAILED:
    return "CUBLAS_STATUS_EXECUTION_FAILED";
  default:
    return "CUBLAS_STATUS (another)";
  }
}

cublasStatus_t cublas_sgemm(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b,
                            int m, int n, int k, const float* alpha, const float* a, int lda,
                            const float* b, int ldb, const float* beta, float* c, int ldc) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool a_transposed = op_a != CUBLAS_OP_N, b_transposed = op_b != CUBLAS_OP_N;
  // cuBLAS's argument checks: the leading dimensions must cover the stored rows.
  if (m < 0 || n < 0 || k < 0 || lda < std::max(1, a_transposed ? k : m) ||
      ldb < std::max(1, b_transposed ? n : k) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  const float alpha_value = *alpha, beta_value = *beta; // host pointer mode: read at the call
  // Each C element sums its k products in increasing l, by FMAs, whichever loop runs innermost:
  // over rows i where a column of op(A) is contiguous (A as stored), over l where a row is.
  const cudaError_t status = submit(handle->stream, [=] {
    const auto b_at = [=](int l, int j) {
      return b_transposed ? b[j + std::size_t(l) * ldb] : b[l + std::size_t(j) * ldb];
    };
    std::vector<float> column(static_cast<std::size_t>(m));
    for (int j = 0; j < n; ++j) {
      if (a_transposed) {
        for (int i = 0; i < m; ++i) {
          float sum = 0.0f;
          for (int l = 0; l < k; ++l) sum = std::fma(a[l + std::size_t(i) * lda], b_at(l, j), sum);
          column[std::size_t(i)] = sum;
        }
      } else {
        std::fill(column.begin(), column.end(), 0.0f);
        for (int l = 0; l < k; ++l) {
          const float b_lj = b_at(l, j);
          const float* a_l = a + std::size_t(l) * lda;
          for (int i = 0; i < m; ++i)
            column[std::size_t(i)] = std::fma(a_l[i], b_lj, column[std::size_t(i)]);
        }
      }
      for (int i = 0; i < m; ++i) {
        float& out = c[i + std::size_t(j) * ldc];
        const float sum = column[std::size_t(i)];
        out = beta_value == 0.0f ? alpha_value * sum : alpha_value * sum + beta_value * out;
      }
    }
  });
  return status == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

} // namespace sgan::emulation
