#pragma once
// CUDA kernels run on the CPU, thread by thread, so that their indexing, tiling, barriers and
// shuffles are checked against the CPU reference on a machine without a GPU (tests/emulation/).
// Only for tests: a .cu file compiled as C++ with SGAN_CUDA_EMULATION defined (through
// a .cpp that includes it) gets, through kernels/cuda/check.h, this file in place of the device:
//
// * every GPU thread of a block is a fiber (its own stack) on the calling thread, and one fiber
//   runs at a time, until it reaches __syncthreads(), a warp shuffle or its end. A block runs one
//   warp at a time, each as far as it can go before the next __syncthreads(); warps and lanes go
//   first to last, or last to first in blocks whose x + y + z is odd, so a barrier missing between
//   one thread's write and another's read gives a wrong result in one order or the other. A
//   barrier opens when every thread of the block (of the warp, for a shuffle) that has not
//   returned has reached it, as on the GPU, where returned threads no longer count. Threads that
//   wait at barriers that can never open (a __syncthreads() some threads skip) stop the launch
//   with an error instead of hanging;
// * the blocks of a grid run one after another, so a __shared__ array is one static array per
//   kernel instantiation, which the running block owns;
// * "device" memory is host memory, and the runtime calls around the kernels (memory, streams,
//   CUDA graphs, cuBLAS) are emulated too (kernels/cuda/emulated_runtime.h): the kernels read and
//   write the host pointers they are given, tests/support/gpu.h's DeviceBuffer works unchanged,
//   and so does the engine's cuda backend.
//
// The kernels' tests build it with AddressSanitizer (the scheduler tells it of every stack
// switch), which makes it a memory checker too: an access past a cudaMalloc'd buffer (a heap
// block) or a __shared__ array (a static) is reported where it happens.
//
// What it does not model: timing, the memory model between blocks (blocks never run at once),
// warp-synchronous code without __shfl_*_sync, and anything beyond what this header defines
// (another intrinsic is a compile error, not a silent difference).
#if !defined(SGAN_CUDA_EMULATION)
#error "kernels/cuda/emulation.h is for the emulated tests only (SGAN_CUDA_EMULATION)"
#endif

#include "kernels/cuda/emulated_runtime.h" // the host side: memory, streams, graphs, cuBLAS

#include <algorithm> // min and max, which device code calls unqualified
#include <cmath>     // the float math device code calls
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cuda_runtime_api.h> // dim3, uint3
#include <functional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

// What nvcc's qualifiers mean here. The CUDA headers define them as GNU attributes g++ ignores
// with a warning; they are redefined after those headers.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __launch_bounds__
#undef __shared__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

// The built-in variables of the fiber that runs now: the scheduler sets them before it resumes one.
inline uint3 threadIdx{0, 0, 0};
inline uint3 blockIdx{0, 0, 0};
inline dim3 blockDim{1, 1, 1};
inline dim3 gridDim{1, 1, 1};

namespace sgan::emulation {

void block_barrier();
void warp_barrier();
// warp_exchange_bytes per lane of the running fiber's warp (a shuffle's value, an MMA's operands).
inline constexpr std::size_t warp_exchange_bytes = 32;
void* warp_exchange_slot(int lane);
int running_lane();

// x rounded to TF32 as cvt.rna.tf32.f32 does: to the nearest value with 10 mantissa bits, ties
// away from zero, kept in float format with the low 13 bits zero; infinities and NaNs unchanged.
float round_to_tf32(float x);

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 with d as both C and D: D = A B + C for one
// warp, as PTX lays its fragments out (groupID g = lane / 4, t = lane % 4):
//   a[r] = A[g + 8 (r % 2)][t + 4 (r / 2)]   (A is 16 x 8)
//   b[r] = B[t + 4 r][g]                      (B is 8 x 8)
//   d[r] = D[g + 8 (r / 2)][2 t + r % 2]      (D is 16 x 8)
// The tensor cores read only the sign, exponent and top 10 mantissa bits of each operand; the low
// 13 are dropped here too, so an operand not rounded first is truncated, as on the GPU. Products
// of TF32 values are exact; each output's 8 products and C are summed in double and rounded once
// (the hardware's order and rounding inside one MMA are unspecified: tests allow float rounding).
// Every lane of the warp must take part: a warp with a returned or missing lane throws.
void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]);

// Runs `body` once per thread of each block of `grid` as described above.
void run_grid(dim3 grid, dim3 block, const std::function<void()>& body);

// kernel<<<grid, block, 0, stream>>>(args...): the arguments converted to the kernel's parameter
// types once, as a launch copies them, and every thread called with those values, now or, where
// `stream` is being captured, when the graph runs.
template <class... Params, class... Args>
cudaError_t launch(dim3 grid, dim3 block, cudaStream_t stream, void (*kernel)(Params...),
                   Args&&... args) {
  return submit(stream,
                [grid, block, kernel,
                 params = std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)] {
                  run_grid(grid, block, [&] { std::apply(kernel, params); });
                });
}

} // namespace sgan::emulation

inline void __syncthreads() { ::sgan::emulation::block_barrier(); }

template <typename T> inline T __ldg(const T* p) { return *p; }

inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return static_cast<unsigned int>((static_cast<std::uint64_t>(a) * b) >> 32);
}

inline float __int_as_float(int bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline float __uint_as_float(unsigned int bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline unsigned int __float_as_uint(float value) {
  unsigned int bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

using std::max;
using std::min;

// value of lane (this lane ^ lane_mask) of the warp; every lane of the warp takes part.
template <typename T> T __shfl_xor_sync(unsigned int mask, T value, int lane_mask) {
  static_assert(sizeof(T) <= ::sgan::emulation::warp_exchange_bytes &&
                    std::is_trivially_copyable_v<T>,
                "values of at most warp_exchange_bytes");
  if (mask != 0xffffffffu)
    throw std::logic_error("emulated __shfl_xor_sync: only the full-warp mask is modelled");
  const int lane = ::sgan::emulation::running_lane();
  std::memcpy(::sgan::emulation::warp_exchange_slot(lane), &value, sizeof(T));
  ::sgan::emulation::warp_barrier(); // every lane has written
  T result;
  std::memcpy(&result, ::sgan::emulation::warp_exchange_slot(lane ^ lane_mask), sizeof(T));
  ::sgan::emulation::warp_barrier(); // every lane has read before any writes again
  return result;
}
