#pragma once
// CUDA events for timing work on a stream, and the median of the samples they give.
#if defined(SGAN_WITH_CUDA)
#include "kernels/cuda/check.h"

#include <algorithm>
#include <cuda_runtime_api.h>
#include <vector>

namespace sgan::bench {

class Event {
public:
  Event() { CUDA_CHECK(cudaEventCreate(&event_)); }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(cudaStream_t stream) { CUDA_CHECK(cudaEventRecord(event_, stream)); }
  void synchronize() { CUDA_CHECK(cudaEventSynchronize(event_)); }

  // Seconds from `start` to this event; both must have completed.
  double seconds_since(const Event& start) const {
    float ms = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, event_));
    return double(ms) * 1e-3;
  }

private:
  cudaEvent_t event_ = nullptr;
};

// The middle sample (the mean of the two middle ones for an even count); 0 for no samples.
inline double median(std::vector<double> samples) {
  if (samples.empty()) return 0.0;
  std::sort(samples.begin(), samples.end());
  const std::size_t mid = samples.size() / 2;
  return samples.size() % 2 ? samples[mid] : 0.5 * (samples[mid - 1] + samples[mid]);
}

} // namespace sgan::bench
#endif
