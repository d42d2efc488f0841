#pragma once
// What every kernel header needs: the host/device qualifier for math shared by the CPU reference
// and the CUDA kernels, and, where the CUDA backend is built, the runtime types (cudaStream_t,
// cublasHandle_t) that the cuda:: declarations take. cudnn:: twins take a cudnn::Handle.

#if defined(SGAN_WITH_CUDA)
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif

#if defined(__CUDACC__)
#define SGAN_HOST_DEVICE __host__ __device__
#else
#define SGAN_HOST_DEVICE
#endif

#if defined(SGAN_WITH_CUDNN)
namespace sgan::cudnn {
class Handle;
}
#endif
