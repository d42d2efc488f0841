#pragma once
// GPU test support: whether a CUDA device is usable (GPU tests skip with the reason where not),
// and a device buffer that starts poisoned with NaN so an element a kernel never writes is caught.
#include <gtest/gtest.h>

#include <string>

namespace sgan::test {

// True where a CUDA device can run our kernels; otherwise false and `reason` says why (no CUDA
// backend built, no driver, no device).
bool gpu_available(std::string* reason);

}  // namespace sgan::test

#define SGAN_REQUIRE_GPU()                                                     \
  do {                                                                         \
    std::string sgan_gpu_reason_;                                              \
    if (!::sgan::test::gpu_available(&sgan_gpu_reason_))                       \
      GTEST_SKIP() << "GPU test skipped: " << sgan_gpu_reason_;                \
  } while (0)

#if defined(SGAN_WITH_CUDA)
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cuda/check.h"

namespace sgan::test {

template <typename T>
class DeviceBuffer {
 public:
  // n elements, every byte 0xFF (NaN for float, -1 for integers).
  explicit DeviceBuffer(std::size_t n) : size_(n) {
    CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), bytes() ? bytes() : 1));
    poison();
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() { return data_; }
  const T* get() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

  void poison() { CUDA_CHECK(cudaMemset(data_, 0xFF, bytes())); }
  void upload(const std::vector<T>& host) {
    CUDA_CHECK(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  // Synchronises the device first, so the result of every queued kernel is in.
  std::vector<T> to_host() const {
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> host(size_);
    CUDA_CHECK(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sgan::test
#endif
