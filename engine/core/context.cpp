#include "engine/core/context.h"

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <new>
#include <stdexcept>

#if defined(SGAN_WITH_CUDA)
#include "kernels/cuda/check.h"
#endif
#if defined(SGAN_WITH_CUDNN)
#include "kernels/cudnn/handle.h"
#endif

namespace sgan {

#if defined(SGAN_WITH_CUDA)
namespace {

// The properties of the device this thread's CUDA calls go to (the context's, once constructed).
cudaDeviceProp current_device_properties() {
  int ordinal = 0;
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDevice(&ordinal));
  CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal));
  return prop;
}

} // namespace
#endif

std::string_view backend_name(Backend backend) {
  switch (backend) {
  case Backend::cpu:
    return "cpu";
  case Backend::cuda:
    return "cuda";
  case Backend::cudnn:
    return "cudnn";
  }
  return "?";
}

Backend parse_backend(std::string_view name) {
  if (name == "cpu") return Backend::cpu;
  if (name == "cuda") return Backend::cuda;
  if (name == "cudnn") return Backend::cudnn;
  throw std::invalid_argument(fmt::format("unknown device '{}': choose cpu, cuda or cudnn", name));
}

bool backend_available(Backend backend, std::string* reason) {
  if (backend == Backend::cpu) return true;
#if defined(SGAN_WITH_CUDA)
  if (backend == Backend::cudnn) {
#if !defined(SGAN_WITH_CUDNN)
    if (reason) *reason = "this build has no cuDNN";
    return false;
#endif
  }
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (reason) *reason = fmt::format("no usable CUDA driver ({})", cudaGetErrorString(status));
    cudaGetLastError();
    return false;
  }
  if (count == 0) {
    if (reason) *reason = "no CUDA device found";
    return false;
  }
  return true;
#else
  if (reason)
    *reason = "this build has no CUDA backend (nvcc was not found when it was configured)";
  return false;
#endif
}

Context::Context(Backend backend, int device_ordinal) : backend_(backend) {
  std::string reason;
  if (!backend_available(backend, &reason))
    throw std::runtime_error(
        fmt::format("the {} backend is not available: {}", backend_name(backend), reason));
#if defined(SGAN_WITH_CUDA)
  if (backend != Backend::cpu) {
    CUDA_CHECK(cudaSetDevice(device_ordinal));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&cublas_));
    CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    // FP32 products stay FP32: no silent TF32 (the kernels are compared against FP32 references).
    CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_PEDANTIC_MATH));
#if defined(SGAN_WITH_CUDNN)
    if (backend == Backend::cudnn) cudnn_ = std::make_unique<cudnn::Handle>(stream_);
#endif
  }
#endif
  (void)device_ordinal;
}

Context::~Context() {
#if defined(SGAN_WITH_CUDA)
  if (stream_) cudaStreamSynchronize(stream_);
#if defined(SGAN_WITH_CUDNN)
  cudnn_.reset();
#endif
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
#endif
}

void Context::set_tf32_convolutions(bool on) {
  if (!on) {
    tf32_convolutions_ = false;
    return;
  }
  if (backend_ != Backend::cuda)
    throw std::invalid_argument(
        fmt::format("TF32 convolutions are our cuda backend's (the {} backend computes in FP32)",
                    backend_name(backend_)));
#if defined(SGAN_WITH_CUDA)
  const cudaDeviceProp prop = current_device_properties();
  if (prop.major < 8)
    throw std::invalid_argument(
        fmt::format("TF32 tensor cores need compute capability 8.0 or later; the {} has {}.{}",
                    prop.name, prop.major, prop.minor));
#endif
  tf32_convolutions_ = true;
}

std::string Context::device_name() const {
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) return current_device_properties().name;
#endif
  return "CPU";
}

void* Context::allocate(std::size_t bytes) {
  if (bytes == 0) bytes = 1;
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) {
    void* p = nullptr;
    const cudaError_t status = cudaMalloc(&p, bytes);
    if (status != cudaSuccess) {
      cudaGetLastError();
      throw std::runtime_error(fmt::format("out of GPU memory: could not allocate {:.1f} MiB ({})",
                                           double(bytes) / (1 << 20), cudaGetErrorString(status)));
    }
    CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream_));
    return p;
  }
#endif
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!p)
    throw std::runtime_error(
        fmt::format("out of memory: could not allocate {:.1f} MiB", double(bytes) / (1 << 20)));
  std::memset(p, 0, bytes);
  return p;
}

void Context::release(void* pointer) {
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) {
    cudaFree(pointer);
    return;
  }
#endif
  std::free(pointer);
}

void Context::upload(void* device_dst, const void* host_src, std::size_t bytes) {
  if (bytes == 0) return;
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) {
    CUDA_CHECK(cudaMemcpyAsync(device_dst, host_src, bytes, cudaMemcpyHostToDevice, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    return;
  }
#endif
  std::memcpy(device_dst, host_src, bytes);
}

void Context::download(void* host_dst, const void* device_src, std::size_t bytes) {
  if (bytes == 0) return;
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) {
    CUDA_CHECK(cudaMemcpyAsync(host_dst, device_src, bytes, cudaMemcpyDeviceToHost, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    return;
  }
#endif
  std::memcpy(host_dst, device_src, bytes);
}

void Context::copy(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0 || dst == src) return;
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
    return;
  }
#endif
  std::memmove(dst, src, bytes);
}

void Context::zero(void* dst, std::size_t bytes) {
  if (bytes == 0) return;
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) {
    CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream_));
    return;
  }
#endif
  std::memset(dst, 0, bytes);
}

void Context::synchronize() {
#if defined(SGAN_WITH_CUDA)
  if (device() == Device::cuda) CUDA_CHECK(cudaStreamSynchronize(stream_));
#endif
}

} // namespace sgan
