#pragma once
// Device slices between NaN guards, for the vectorised kernels: an input or output placed at a
// chosen float offset from a cudaMalloc'd (256-byte aligned) start, so the float4 and scalar paths
// both run, with NaN before it and `guard` NaNs after it. A float4 overrun or a store outside the
// slice lands in the guards, which must still be NaN when the slice comes back.
#include "tests/support/gpu.h"

#include <cmath>
#include <cstddef>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan::test {

constexpr std::size_t guard = 4;

// `data` copied to floats [offset, offset + size) of a NaN-poisoned buffer.
inline DeviceBuffer<float> upload_at(const std::vector<float>& data, std::size_t offset) {
  DeviceBuffer<float> buffer(offset + data.size() + guard);
  CUDA_CHECK(cudaMemcpy(buffer.get() + offset, data.data(), data.size() * sizeof(float),
                        cudaMemcpyHostToDevice));
  return buffer;
}

// The slice back, after checking that every float outside it is still NaN (`what` names the
// buffer in the failure).
inline std::vector<float> download_at(const DeviceBuffer<float>& buffer, std::size_t offset,
                                      std::size_t n, const std::string& what) {
  const std::vector<float> all = buffer.to_host();
  for (std::size_t i = 0; i < all.size(); ++i)
    if (i < offset || i >= offset + n) {
      EXPECT_TRUE(std::isnan(all[i])) << what << ": wrote outside its slice at " << i;
    }
  return std::vector<float>(all.begin() + offset, all.begin() + offset + n);
}

} // namespace sgan::test
