#include "kernels/cudnn/handle.h"

#include "kernels/cudnn/check.h"

namespace sgan::cudnn {

Handle::Handle(cudaStream_t stream, ConvMath conv_math) : stream_(stream), conv_math_(conv_math) {
  CUDNN_CHECK(cudnnCreate(&cudnn_));
  CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  CUBLAS_CHECK(cublasCreate(&cublas_));
  CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
}

Handle::~Handle() {
  if (workspace_) cudaFree(workspace_);
  if (cublas_) cublasDestroy(cublas_);
  if (cudnn_) cudnnDestroy(cudnn_);
}

void* Handle::workspace(std::size_t bytes) {
  if (bytes <= workspace_bytes_) return workspace_;
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (workspace_) CUDA_CHECK(cudaFree(workspace_));
  workspace_ = nullptr;
  workspace_bytes_ = 0;
  CUDA_CHECK(cudaMalloc(&workspace_, bytes));
  workspace_bytes_ = bytes;
  return workspace_;
}

std::optional<int> Handle::cached_algorithm(const std::string& key) const {
  const auto it = algorithms_.find(key);
  if (it == algorithms_.end()) return std::nullopt;
  return it->second;
}

void Handle::cache_algorithm(const std::string& key, int algorithm) { algorithms_[key] = algorithm; }

}  // namespace sgan::cudnn
