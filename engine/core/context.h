#pragma once
// The execution context: which backend runs the ops (our CPU references, our CUDA kernels, or the
// cuDNN/cuBLAS twins), the CUDA stream and vendor handles, and memory transfers on that device.
// One engine, three backends chosen at run time; every layer dispatches through its context.
#include "engine/core/tensor.h"
#include "kernels/backend.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace sgan {

enum class Backend { cpu, cuda, cudnn };

std::string_view backend_name(Backend backend);
// "cpu", "cuda" or "cudnn"; anything else throws std::invalid_argument naming the choices.
Backend parse_backend(std::string_view name);
// Whether `backend` was compiled in and, for cuda/cudnn, a device is usable; else `reason` says
// why.
bool backend_available(Backend backend, std::string* reason);

class Context {
public:
  explicit Context(Backend backend, int device_ordinal = 0);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Backend backend() const { return backend_; }

  // Whether the cuda backend's convolutions run on TF32 tensor cores (--tf32: operands rounded to
  // 10 mantissa bits, ~1e-3 relative error; kernels/cuda/tensor_cores.cuh) instead of in FP32.
  // Off unless asked for. Only our cuda backend has it, on compute capability 8.0 or later;
  // anything else throws std::invalid_argument saying why.
  void set_tf32_convolutions(bool on);
  bool tf32_convolutions() const { return tf32_convolutions_; }
  Device device() const { return backend_ == Backend::cpu ? Device::cpu : Device::cuda; }
  std::string device_name() const;

#if defined(SGAN_WITH_CUDA)
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
#endif
#if defined(SGAN_WITH_CUDNN)
  cudnn::Handle& cudnn() const { return *cudnn_; }
#endif

  // Raw memory on this context's device (Arena is the only caller), zero-filled.
  void* allocate(std::size_t bytes);
  void release(void* pointer);

  // Transfers ordered on the stream. upload and download return when the copy is complete;
  // copy and zero only enqueue.
  void upload(void* device_dst, const void* host_src, std::size_t bytes);
  void download(void* host_dst, const void* device_src, std::size_t bytes);
  void copy(void* dst, const void* src, std::size_t bytes);
  void zero(void* dst, std::size_t bytes);
  void synchronize();

private:
  Backend backend_;
  bool tf32_convolutions_ = false;
#if defined(SGAN_WITH_CUDA)
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
#endif
#if defined(SGAN_WITH_CUDNN)
  std::unique_ptr<cudnn::Handle> cudnn_;
#endif
};

} // namespace sgan
