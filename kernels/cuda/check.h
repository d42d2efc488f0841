#pragma once
// One error path for the CUDA runtime and cuBLAS: a failing call throws sgan::CudaError naming the
// call, file and line. Kernel launches go through cuda::launch (common.cuh), which checks them.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#if defined(SGAN_CUDA_EMULATION)
#include "kernels/cuda/emulation.h" // the tests that run kernels on the CPU
#endif

#include <stdexcept>
#include <string>
#include <utility>

namespace sgan {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // status: the library's name for what it answered; not_supported: it refused the problem as one
  // it does not handle (cuBLAS's CUBLAS_STATUS_NOT_SUPPORTED, cuDNN's CUDNN_STATUS_NOT_SUPPORTED
  // category), rather than failing at it.
  CudaError(const std::string& what, std::string status, bool not_supported)
      : std::runtime_error(what), status_(std::move(status)), not_supported_(not_supported) {}
  const std::string& status() const { return status_; }
  bool not_supported() const { return not_supported_; }

private:
  std::string status_;
  bool not_supported_ = false;
};

[[noreturn]] inline void throw_cuda_error(const char* what, const char* call, const char* file,
                                          int line, bool not_supported = false) {
  throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " + what,
                  what, not_supported);
}

inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(cudaGetErrorString(status), call, file, line);
}

inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw_cuda_error(cublasGetStatusString(status), call, file, line,
                     status == CUBLAS_STATUS_NOT_SUPPORTED);
}

}  // namespace sgan

#define CUDA_CHECK(call) ::sgan::check_cuda((call), #call, __FILE__, __LINE__)
#define CUBLAS_CHECK(call) ::sgan::check_cublas((call), #call, __FILE__, __LINE__)
