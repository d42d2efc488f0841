#pragma once
// The state the cuDNN/cuBLAS twins need: a cuDNN handle and a cuBLAS handle bound to one stream, a
// device workspace that grows on demand, and the algorithm chosen for each problem (found once,
// then reused), so that a repeated call costs what the vendor's kernels cost and not set-up.
#include <cublas_v2.h>
#include <cudnn.h>

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace sgan::cudnn {

// What the convolutions may compute in: plain FP32 (FMA math, what our default kernels compute),
// or with TF32 tensor cores allowed (what our opt-in TF32 kernels compute, for the benchmarks'
// TF32 comparison). The dense twins stay FP32 either way.
enum class ConvMath { fp32, tf32 };

class Handle {
 public:
  explicit Handle(cudaStream_t stream = nullptr, ConvMath conv_math = ConvMath::fp32);
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }
  cudaStream_t stream() const { return stream_; }
  ConvMath conv_math() const { return conv_math_; }

  // A device buffer of at least `bytes`, valid until the next call that asks for more. Growing it
  // synchronises the stream first, since queued work may still read the old buffer.
  void* workspace(std::size_t bytes);

  // Algorithm chosen for a problem, keyed by a string that names the operation and its shape.
  std::optional<int> cached_algorithm(const std::string& key) const;
  void cache_algorithm(const std::string& key, int algorithm);

 private:
  cudaStream_t stream_;
  ConvMath conv_math_;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  std::unordered_map<std::string, int> algorithms_;
};

}  // namespace sgan::cudnn
