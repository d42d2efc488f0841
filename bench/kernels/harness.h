#pragma once
// The harness of sgan_bench_kernels: the GPU state every case shares (one stream for our kernels
// and the vendor's, our cuBLAS handle, the cuDNN/cuBLAS twin's Handle, the device's roofline),
// device arrays filled with deterministic random data, and the timing of one case.
//
// A case times our CUDA kernel and, where one exists, its cuDNN/cuBLAS twin on the same buffers
// and stream. Each Google Benchmark iteration is one sample: our call repeated back to back
// between two CUDA events, then the twin's likewise; the sample's time per call is the elapsed
// time divided by the calls. The iteration time given to Google Benchmark (manual time) is ours;
// the counters carry the medians of both. Repeating calls back to back measures throughput:
// a call shorter than its own host-side launch cost (a few microseconds, more for a cuDNN call
// that builds descriptors) is measured at the launch rate, not the kernel's speed.
//
// Everything here needs the CUDA backend and cuDNN (SGAN_WITH_CUDNN implies SGAN_WITH_CUDA).
#if defined(SGAN_WITH_CUDNN)
#include "bench/kernels/roofline.h"
#include "kernels/cuda/check.h"
#include "kernels/cudnn/handle.h"

#include <benchmark/benchmark.h>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sgan::bench {

// The recipe batch sizes n every batch-dependent case runs at: a D layer sees 3n rows (labeled,
// unlabeled and generated images in one batch), a G layer n rows.
inline constexpr int recipe_batches[] = {64, 256};

// How much each case runs.
struct Schedule {
  int warmup_calls = 0;      // calls of each implementation before timing: cuDNN's algorithm
                             // search, lazy module loading and workspace growth happen here
  int samples = 0;           // timed samples per case (Google Benchmark iterations)
  double sample_seconds = 0; // a sample repeats a call for about this long; 0: one call
};
inline constexpr Schedule full_schedule{5, 51, 200e-6};
inline constexpr Schedule smoke_schedule{1, 1, 0.0};

// A CUDA stream, created non-blocking so that no legacy default-stream work serialises with it.
class Stream {
public:
  Stream() { CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

private:
  cudaStream_t stream_ = nullptr;
};

// The cuBLAS handle our dense kernels take, bound to a stream; apart from the twin's, so neither
// side changes the other's settings.
class CublasHandle {
public:
  explicit CublasHandle(cudaStream_t stream) {
    CUBLAS_CHECK(cublasCreate(&handle_));
    CUBLAS_CHECK(cublasSetStream(handle_, stream));
  }
  ~CublasHandle() { cublasDestroy(handle_); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

private:
  cublasHandle_t handle_ = nullptr;
};

class Gpu {
public:
  explicit Gpu(const Schedule& schedule);

  cudaStream_t stream() const { return stream_.get(); }
  cublasHandle_t cublas() const { return cublas_.get(); }
  // The twin's Handle: FP32 convolutions, or with TF32 allowed (the TF32 cases').
  cudnn::Handle& vendor(cudnn::ConvMath math = cudnn::ConvMath::fp32) {
    return math == cudnn::ConvMath::tf32 ? vendor_tf32_ : vendor_;
  }
  const DeviceRoofline& roofline() const { return roofline_; }
  const Schedule& schedule() const { return schedule_; }

  void record_failure() { ++failed_cases_; }
  int failed_cases() const { return failed_cases_; }

private:
  Schedule schedule_;
  Stream stream_;
  CublasHandle cublas_;
  cudnn::Handle vendor_, vendor_tf32_;
  DeviceRoofline roofline_;
  int failed_cases_ = 0;
};

// n elements of device memory, freed on destruction.
template <typename T> class DeviceArray {
public:
  // Zero-filled.
  explicit DeviceArray(std::size_t n) : size_(n) {
    CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), bytes() ? bytes() : 1));
    CUDA_CHECK(cudaMemset(data_, 0, bytes()));
  }
  explicit DeviceArray(const std::vector<T>& host) : size_(host.size()) {
    CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), bytes() ? bytes() : 1));
    CUDA_CHECK(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(DeviceArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray& operator=(DeviceArray&&) = delete;

  T* get() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// n floats drawn uniformly from [lo, hi) by a fixed generator from `seed`: the same data on every
// run.
DeviceArray<float> random_array(std::size_t n, std::uint64_t seed, float lo = -1.0f,
                                float hi = 1.0f);

// n int32 drawn uniformly from [0, bound).
DeviceArray<std::int32_t> random_indices(std::size_t n, std::uint64_t seed, std::int32_t bound);

// What one call does, for the rate and roofline counters. A compute-bound op (convolution, dense)
// counts 2 FLOPs per multiply-add and is held against peak FP32; a memory-bound op counts the
// bytes it cannot avoid (every input read once, every output written once, an accumulated output
// read and written) and is held against the device-to-device copy bandwidth. A case whose working
// set stays in L2 across back-to-back calls can pass 100% of the copy bandwidth.
struct Work {
  enum class Bound { compute, memory };
  Bound bound = Bound::memory;
  double amount = 0; // FLOPs or bytes per call

  static Work compute(double multiply_adds) { return {Bound::compute, 2.0 * multiply_adds}; }
  static Work memory(double bytes) { return {Bound::memory, bytes}; }
  // Memory-bound work of `count` float32 values moved.
  static Work floats(double count) { return memory(count * sizeof(float)); }
};

using Launch = std::function<void()>;

// The vendor twin of a case: a name for the label ("cudnn", "cublasLt") and its call. A
// default-constructed Vendor means the op has no twin and the case reports ours only.
struct Vendor {
  const char* name = nullptr;
  Launch launch;
};

// Warms up, then times `ours` and `vendor` once per Google Benchmark iteration, and sets the
// counters: ours_us, vendor_us, ratio (ours / vendor), ours_gflops or ours_gbps (and the
// vendor's), ours_roofline_pct and vendor_roofline_pct, gflop or mbyte (the work of one call).
void time_case(benchmark::State& state, Gpu& gpu, const Work& work, const Launch& ours,
               const Vendor& vendor = {});

// Registers a case named `name` whose body allocates its buffers and calls time_case; a body
// that throws (a CUDA error, a rejected shape) marks the case as failed with the error's text and
// counts a failure in gpu.
using CaseBody = std::function<void(benchmark::State&, Gpu&)>;
void register_case(const std::string& name, Gpu& gpu, CaseBody body);

// "op/direction/shape/n<rows>": rows is the leading dimension the op sees (3n for a D layer).
std::string case_name(std::string_view op, std::string_view direction, std::string_view shape,
                      int rows);
// "op/direction/shape", for an op whose size does not depend on the batch (parameter updates).
std::string case_name(std::string_view op, std::string_view direction, std::string_view shape);

} // namespace sgan::bench
#endif
