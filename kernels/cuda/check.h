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

namespace sgan {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void throw_cuda_error(const char* what, const char* call, const char* file,
                                          int line) {
  throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " + what);
}

inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(cudaGetErrorString(status), call, file, line);
}

inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) throw_cuda_error(cublasGetStatusString(status), call, file, line);
}

}  // namespace sgan

#define CUDA_CHECK(call) ::sgan::check_cuda((call), #call, __FILE__, __LINE__)
#define CUBLAS_CHECK(call) ::sgan::check_cublas((call), #call, __FILE__, __LINE__)
