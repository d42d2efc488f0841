#pragma once
// The roofline each case is held against: the device's peak FP32 throughput, computed from its SM
// count, boost clock and FP32 lanes per SM, and the bandwidth of a large device-to-device copy,
// measured once at start-up.
#if defined(SGAN_WITH_CUDA)
#include <cuda_runtime_api.h>
#include <string>

namespace sgan::bench {

struct DeviceRoofline {
  std::string name;
  int compute_major = 0, compute_minor = 0;
  int sm_count = 0;
  int fp32_lanes_per_sm = 0;
  double sm_clock_hz = 0;      // the peak (boost) clock the device reports
  double peak_flops = 0;       // sm_count * fp32_lanes_per_sm * 2 (one FMA is two FLOPs) * clock
  double copy_bytes_per_s = 0; // bytes read + written per second by a device-to-device copy
};

// FP32 lanes (FP32 FMAs per clock) per SM for a compute capability, as the CUDA programming
// guide's instruction throughput table gives them: 64 on 6.0, 7.x and 8.0; 128 on 5.x, 6.1, 6.2,
// 8.6 to 8.9 and 9.0 (H100, H200) and, as far as known, on later ones.
int fp32_lanes_per_sm(int major, int minor);

// The current device's facts and peak FP32, and the median bandwidth of repeated 256 MiB
// device-to-device cudaMemcpyAsync copies on `stream` (each copy reads and writes 256 MiB, far
// more than any L2 cache holds).
DeviceRoofline measure_roofline(cudaStream_t stream);

} // namespace sgan::bench
#endif
