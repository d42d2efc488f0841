#pragma once
// Device-side helpers shared by the hand-written kernels, and the one way they are launched.
#include "kernels/backend.h"
#include "kernels/cuda/check.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <source_location>
#include <utility>

namespace sgan::cuda {

constexpr int warp_size = 32;

// Where and how a kernel runs. `where` is the launch's own line (a default member initializer's
// source_location is that of the aggregate initialization), named if the launch fails.
struct LaunchConfig {
  dim3 grid;
  dim3 block;
  cudaStream_t stream = nullptr;
  std::source_location where = std::source_location::current();
};

// kernel<<<grid, block, 0, stream>>>(args...), its error checked at once. In the emulated tests
// (kernels/cuda/emulation.h) the kernel runs on the CPU instead, thread by thread, or is recorded
// where the stream is being captured into a CUDA graph.
template <class... Params, class... Args>
void launch(const LaunchConfig& config, void (*kernel)(Params...), Args&&... args) {
#if defined(SGAN_CUDA_EMULATION)
  const cudaError_t status = emulation::launch(config.grid, config.block, config.stream, kernel,
                                               std::forward<Args>(args)...);
#else
  kernel<<<config.grid, config.block, 0, config.stream>>>(std::forward<Args>(args)...);
  const cudaError_t status = cudaGetLastError();
#endif
  check_cuda(status, "kernel launch", config.where.file_name(), config.where.line());
}

inline unsigned int ceil_div(std::int64_t a, std::int64_t b) {
  return static_cast<unsigned int>((a + b - 1) / b);
}

// Grid for a one-thread-per-element kernel over n elements; the grid is capped and the kernels
// loop (grid-stride), so any n works with one launch.
inline unsigned int elementwise_blocks(std::int64_t n, int threads) {
  constexpr std::int64_t max_blocks = 65535;
  const std::int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > max_blocks ? max_blocks : blocks));
}

// x / d and x % d for 0 <= x < 2^31 and a divisor fixed per launch, by a multiply and a shift
// (Granlund & Montgomery 1994, as in CUTLASS's FastDivmod): with l = ceil(log2 d) and
// m = ceil(2^(31 + l) / d) < 2^32, floor(x / d) = floor(x m / 2^(31 + l)) for every x < 2^31.
// Index decodes in inner loops divide by runtime sizes (kh kw, h_out w_out, h w, ...); a GPU has
// no integer divider, and its software division costs ~20 instructions per element.
struct FastDivmod {
  int divisor = 1;
  unsigned int multiplier = 0;
  unsigned int shift = 0;

  FastDivmod() = default;
  SGAN_HOST_DEVICE explicit FastDivmod(int d) : divisor(d) {
    if (d == 1) return;
    unsigned int log2_ceil = 0;
    while ((1ull << log2_ceil) < static_cast<unsigned long long>(d)) ++log2_ceil;
    const unsigned int p = 31 + log2_ceil;
    multiplier = static_cast<unsigned int>(((1ull << p) + static_cast<unsigned int>(d) - 1) /
                                           static_cast<unsigned int>(d));
    shift = p - 32;
  }

  __device__ int div(int x) const {
    return divisor == 1
               ? x
               : static_cast<int>(__umulhi(static_cast<unsigned int>(x), multiplier) >> shift);
  }
  __device__ void divmod(int x, int& quotient, int& remainder) const {
    quotient = div(x);
    remainder = x - quotient * divisor;
  }
};

// A device buffer of `count` T from the stream-ordered pool (cudaMallocAsync), released with
// cudaFreeAsync on the same stream after the work queued before the release: no device
// synchronisation, and capturable in a CUDA graph. Holds the partial sums of split reductions.
template <typename T> class StreamScratch {
public:
  StreamScratch(std::size_t count, cudaStream_t stream) : stream_(stream) {
    CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&data_), count * sizeof(T), stream_));
  }
  ~StreamScratch() { cudaFreeAsync(data_, stream_); }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  T* get() const { return data_; }

private:
  T* data_ = nullptr;
  cudaStream_t stream_;
};

// Whether a pointer may be read and written as float4s (16-byte loads and stores).
inline bool aligned16(const void* pointer) {
  return reinterpret_cast<std::uintptr_t>(pointer) % 16 == 0;
}

// How many float4s of n elements an elementwise kernel may move: n / 4 where every pointer is
// 16-byte aligned, else none (one float a trip throughout).
inline std::size_t aligned_quads(std::size_t n, std::initializer_list<const void*> pointers) {
  for (const void* p : pointers)
    if (!aligned16(p)) return 0;
  return n / 4;
}

// Sum over the 32 lanes of a warp by butterfly shuffles; every lane gets the total. The order of
// additions is fixed, so the result is deterministic.
template <typename T> __device__ inline T warp_sum(T value) {
  for (int offset = warp_size / 2; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

// Sum over all threads of a block (blockDim.x a multiple of 32, at most 1024) in a fixed order;
// every thread gets the total. `scratch` holds 32 values in shared memory.
template <typename T> __device__ inline T block_sum(T value, T* scratch) {
  const int lane = threadIdx.x % warp_size;
  const int warp = threadIdx.x / warp_size;
  value = warp_sum(value);
  __syncthreads(); // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  const int warps = blockDim.x / warp_size;
  value = lane < warps ? scratch[lane] : T(0);
  return warp_sum(value);
}

} // namespace sgan::cuda
