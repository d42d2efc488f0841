#include "tests/support/gpu.h"

#if defined(SGAN_WITH_CUDA)
#include "kernels/cuda/check.h" // the runtime, or in the emulated tests its emulation
#endif

namespace sgan::test {

bool gpu_available(std::string* reason) {
#if defined(SGAN_WITH_CUDA)
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    *reason = std::string("no usable CUDA device (") + cudaGetErrorString(status) + ")";
    return false;
  }
  if (count == 0) {
    *reason = "no CUDA device found";
    return false;
  }
  return true;
#else
  *reason = "built without the CUDA backend (SGAN_CUDA=OFF or no nvcc)";
  return false;
#endif
}

}  // namespace sgan::test
