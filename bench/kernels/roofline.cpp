#include "bench/kernels/roofline.h"

#if defined(SGAN_WITH_CUDA)
#include "bench/kernels/events.h"
#include "kernels/cuda/check.h"

#include <cstddef>
#include <vector>

namespace sgan::bench {
namespace {

int device_attribute(cudaDeviceAttr attribute, int device) {
  int value = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&value, attribute, device));
  return value;
}

// Two device buffers of `bytes` each, freed on destruction.
class CopyBuffers {
public:
  explicit CopyBuffers(std::size_t bytes) {
    CUDA_CHECK(cudaMalloc(&from, bytes));
    CUDA_CHECK(cudaMalloc(&to, bytes));
    CUDA_CHECK(cudaMemset(from, 0, bytes));
  }
  ~CopyBuffers() {
    cudaFree(to);
    cudaFree(from);
  }
  CopyBuffers(const CopyBuffers&) = delete;
  CopyBuffers& operator=(const CopyBuffers&) = delete;

  void* from = nullptr;
  void* to = nullptr;
};

double copy_bandwidth(cudaStream_t stream) {
  constexpr std::size_t bytes = std::size_t(256) << 20;
  constexpr int warmup_copies = 2, timed_copies = 11;
  CopyBuffers buffers(bytes);
  for (int i = 0; i < warmup_copies; ++i)
    CUDA_CHECK(cudaMemcpyAsync(buffers.to, buffers.from, bytes, cudaMemcpyDeviceToDevice, stream));
  Event start, end;
  std::vector<double> seconds;
  for (int i = 0; i < timed_copies; ++i) {
    start.record(stream);
    CUDA_CHECK(cudaMemcpyAsync(buffers.to, buffers.from, bytes, cudaMemcpyDeviceToDevice, stream));
    end.record(stream);
    end.synchronize();
    seconds.push_back(end.seconds_since(start));
  }
  return 2.0 * double(bytes) / median(seconds);
}

} // namespace

int fp32_lanes_per_sm(int major, int minor) {
  if (major == 6 && minor == 0) return 64;
  if (major == 7) return 64;
  if (major == 8 && minor == 0) return 64;
  return 128;
}

DeviceRoofline measure_roofline(cudaStream_t stream) {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp properties{};
  CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  DeviceRoofline r;
  r.name = properties.name;
  r.compute_major = device_attribute(cudaDevAttrComputeCapabilityMajor, device);
  r.compute_minor = device_attribute(cudaDevAttrComputeCapabilityMinor, device);
  r.sm_count = device_attribute(cudaDevAttrMultiProcessorCount, device);
  r.fp32_lanes_per_sm = fp32_lanes_per_sm(r.compute_major, r.compute_minor);
  // cudaDeviceProp::clockRate is gone in CUDA 13; the attribute remains, in kHz.
  r.sm_clock_hz = double(device_attribute(cudaDevAttrClockRate, device)) * 1e3;
  r.peak_flops = double(r.sm_count) * r.fp32_lanes_per_sm * 2.0 * r.sm_clock_hz;
  r.copy_bytes_per_s = copy_bandwidth(stream);
  return r;
}

} // namespace sgan::bench
#endif
