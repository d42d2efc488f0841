#pragma once
// All memory of a run comes from one arena, reserved when the models are built: parameters,
// gradients, optimiser moments, activations, the resident data set. The arena hands out aligned
// pieces of large chunks and frees them all at once; after freeze() any further request throws, so
// a training step provably allocates nothing (and can be captured as one CUDA graph).
#include "engine/core/context.h"
#include "engine/core/tensor.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sgan {

class Arena {
public:
  explicit Arena(Context& ctx, std::size_t chunk_bytes = std::size_t(64) << 20);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` of zero-filled memory aligned to 256 bytes (what cuBLAS and vector loads want).
  void* allocate_bytes(std::size_t bytes);
  template <typename T> T* allocate(std::size_t count) {
    return static_cast<T*>(allocate_bytes(count * sizeof(T)));
  }
  Tensor tensor(const Shape& shape) {
    return {allocate<float>(shape.size()), shape, ctx_.device()};
  }

  void freeze() { frozen_ = true; }
  std::size_t bytes_in_use() const { return in_use_; }
  Context& context() const { return ctx_; }

private:
  struct Chunk {
    std::uint8_t* base;
    std::size_t bytes, used;
  };
  Context& ctx_;
  std::size_t chunk_bytes_;
  std::vector<Chunk> chunks_;
  std::size_t in_use_ = 0;
  bool frozen_ = false;
};

} // namespace sgan
