#pragma once
// CUDNN_CHECK: the cuDNN member of the CUDA_CHECK family (kernels/cuda/check.h).
#include <cudnn.h>

#include "kernels/cuda/check.h"

namespace sgan {

inline void check_cudnn(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw_cuda_error(cudnnGetErrorString(status), call, file, line,
                     CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_NOT_SUPPORTED);
}

}  // namespace sgan

#define CUDNN_CHECK(call) ::sgan::check_cudnn((call), #call, __FILE__, __LINE__)
