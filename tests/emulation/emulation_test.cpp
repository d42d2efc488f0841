// The CPU emulation of CUDA kernels (kernels/cuda/emulation.h) keeps the GPU's rules that our
// kernels rely on: each thread and block sees its own built-in indices, __syncthreads() orders
// shared memory (and its absence shows: neighbouring blocks run their threads in opposite
// orders), threads that returned no longer hold a barrier, a warp shuffle exchanges lanes;
// and where the GPU would hang (threads waiting at barriers that never open) or a kernel asks for
// what the emulation does not model, the launch throws instead. The TF32 tensor-core primitives
// (kernels/cuda/tensor_cores.cuh) round and multiply as PTX defines them.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/tensor_cores.cuh"
#include "tests/support/tf32.h"

#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

__global__ void write_indices(int* out) {
  const int block = blockIdx.x + gridDim.x * blockIdx.y;
  const int thread = threadIdx.x + blockDim.x * threadIdx.y;
  out[block * blockDim.x * blockDim.y + thread] = 1000 * block + thread;
}

TEST(CudaEmulationTest, EachThreadSeesItsOwnIndices) {
  std::vector<int> out(3 * 2 * 4 * 2, -1);
  cuda::launch({dim3(3, 2), dim3(4, 2)}, write_indices, out.data());
  for (int block = 0; block < 6; ++block)
    for (int thread = 0; thread < 8; ++thread)
      EXPECT_EQ(out[block * 8 + thread], 1000 * block + thread);
}

// Each thread reads what its neighbour wrote before the barrier: right only if no thread passes
// the barrier before all have written.
__global__ void rotate_through_shared(int* out) {
  __shared__ int slots[128];
  const int t = threadIdx.x;
  slots[t] = 10 * t + blockIdx.x;
  __syncthreads();
  out[blockIdx.x * blockDim.x + t] = slots[(t + 1) % blockDim.x];
}

TEST(CudaEmulationTest, SyncthreadsOrdersSharedMemory) {
  std::vector<int> out(2 * 128, -1);
  cuda::launch({2, 128}, rotate_through_shared, out.data());
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 128; ++t) EXPECT_EQ(out[b * 128 + t], 10 * ((t + 1) % 128) + b);
}

// The race rotate_through_shared avoids: each thread reads its neighbour's slot with no barrier
// after the writes.
__global__ void rotate_without_barrier(int* out) {
  __shared__ int slots[128];
  const int t = threadIdx.x;
  slots[t] = 10 * t + blockIdx.x;
  out[blockIdx.x * blockDim.x + t] = slots[(t + 1) % blockDim.x];
}

// A missing barrier shows in one of two neighbouring blocks whichever way the race goes: block 0
// runs its threads first to last (a thread reads the next one's slot before it is written), block
// 1 last to first (after).
TEST(CudaEmulationTest, NeighbouringBlocksRunTheirThreadsInOppositeOrders) {
  std::vector<int> out(2 * 128, -1);
  cuda::launch({2, 128}, rotate_without_barrier, out.data());
  int wrong[2] = {0, 0};
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 128; ++t) wrong[b] += out[b * 128 + t] != 10 * ((t + 1) % 128) + b;
  EXPECT_GT(wrong[0], 0) << "first to last: every thread saw its neighbour's write";
  EXPECT_EQ(wrong[1], 1) << "last to first: only thread 127 reads a slot written after it ran";
}

__global__ void early_return_then_sync(int* out) {
  if (threadIdx.x >= 10) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

TEST(CudaEmulationTest, ReturnedThreadsDoNotHoldABarrier) {
  std::vector<int> out(64, 0);
  cuda::launch({1, 64}, early_return_then_sync, out.data());
  for (int t = 0; t < 64; ++t) EXPECT_EQ(out[t], t < 10 ? 1 : 0) << t;
}

__global__ void shuffle_xor(int lane_mask, int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x) * 3, lane_mask);
}

TEST(CudaEmulationTest, ShuffleXorReadsThePartnerLane) {
  std::vector<int> out(64, -1);
  cuda::launch({1, 64}, shuffle_xor, 5, out.data());
  for (int t = 0; t < 64; ++t) EXPECT_EQ(out[t], ((t % 32) ^ 5) * 3 + (t / 32) * 96) << t;
}

// Lane 0 waits at the block barrier while the rest of its warp waits in a shuffle for it: on the
// GPU this hangs.
__global__ void divergent_barriers(int* out) {
  if (threadIdx.x == 0)
    __syncthreads();
  else
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1, 1);
}

TEST(CudaEmulationTest, BarriersThatCannotOpenAreReported) {
  std::vector<int> out(32, 0);
  EXPECT_THROW(cuda::launch({1, 32}, divergent_barriers, out.data()), std::logic_error);
  // The emulation is usable again after a failed launch.
  cuda::launch({1, 128}, rotate_through_shared, std::vector<int>(128).data());
}

__global__ void partial_mask_shuffle(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, 1, 1);
}

TEST(CudaEmulationTest, WhatIsNotModelledThrows) {
  std::vector<int> out(32, 0);
  EXPECT_THROW(cuda::launch({1, 32}, partial_mask_shuffle, out.data()), std::logic_error);
  EXPECT_THROW(cuda::launch({1, 2048}, write_indices, out.data()), std::invalid_argument);
  EXPECT_THROW(cuda::launch({0, 32}, write_indices, out.data()), std::invalid_argument);
}

__global__ void round_each(int n, const float* in, float* out) {
  for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = cuda::round_to_tf32(in[i]);
}

TEST(CudaEmulationTest, RoundToTf32IsToNearestTiesAwayFromZero) {
  std::vector<float> in = {1.0f + 0x1p-11f,             // a tie: up, away from zero
                           -(1.0f + 0x1p-11f),          // a tie: down, away from zero
                           1.0f + 0x1p-11f - 0x1p-23f,  // just below the tie: down
                           1.0f + 0x1p-10f + 0x1p-11f,  // a tie above an odd last bit: up
                           2.0f - 0x1p-23f,             // carries into the exponent: 2
                           0.0f, -0.0f};
  std::mt19937 random(11);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-60, 60);
  for (int i = 0; i < 2000; ++i) in.push_back(std::ldexp(mantissa(random), exponent(random)));
  std::vector<float> out(in.size(), std::numeric_limits<float>::quiet_NaN());
  cuda::launch({1, 128}, round_each, int(in.size()), in.data(), out.data());
  for (std::size_t i = 0; i < in.size(); ++i)
    EXPECT_EQ(double(out[i]), test::tf32_rounded(in[i])) << "x = " << in[i];
  EXPECT_EQ(out[0], 1.0f + 0x1p-10f);
  EXPECT_EQ(out[4], 2.0f);

  const float specials[] = {std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  float special_out[3];
  cuda::launch({1, 32}, round_each, 3, specials, special_out);
  EXPECT_EQ(special_out[0], specials[0]);
  EXPECT_EQ(special_out[1], specials[1]);
  EXPECT_TRUE(std::isnan(special_out[2]));
}

// One warp's D = A B + C through the MMA, A 16 x 8, B 8 x 8, C and D 16 x 8, row-major in global
// memory, each lane loading and storing the elements PTX's fragment layout gives it.
__global__ void one_mma(const float* a, const float* b, const float* c, float* d) {
  const int lane = threadIdx.x, g = lane / 4, t = lane % 4;
  std::uint32_t a_frag[4], b_frag[2];
  float acc[4];
  for (int r = 0; r < 4; ++r) {
    a_frag[r] = __float_as_uint(a[(g + 8 * (r % 2)) * 8 + t + 4 * (r / 2)]);
    acc[r] = c[(g + 8 * (r / 2)) * 8 + 2 * t + r % 2];
  }
  for (int r = 0; r < 2; ++r) b_frag[r] = __float_as_uint(b[(t + 4 * r) * 8 + g]);
  cuda::mma_m16n8k8_tf32(acc, a_frag, b_frag);
  for (int r = 0; r < 4; ++r) d[(g + 8 * (r / 2)) * 8 + 2 * t + r % 2] = acc[r];
}

TEST(CudaEmulationTest, MmaComputesTheProductInPtxFragmentLayout) {
  std::mt19937 random(12);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(16 * 8), b(8 * 8), c(16 * 8), d(16 * 8, -1.0f);
  for (float& v : a) v = float(test::tf32_rounded(uniform(random)));
  for (float& v : b) v = float(test::tf32_rounded(uniform(random)));
  for (float& v : c) v = uniform(random); // C is FP32, not rounded
  cuda::launch({1, 32}, one_mma, a.data(), b.data(), c.data(), d.data());
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double expected = c[i * 8 + j];
      for (int k = 0; k < 8; ++k) expected += double(a[i * 8 + k]) * b[k * 8 + j];
      EXPECT_NEAR(d[i * 8 + j], expected, 1e-6) << "D[" << i << "][" << j << "]";
    }
}

// The tensor cores read 10 mantissa bits of an operand: the rest is dropped, not rounded.
TEST(CudaEmulationTest, MmaTruncatesOperandsThatWereNotRounded) {
  std::vector<float> a(16 * 8, 0.0f), b(8 * 8, 0.0f), c(16 * 8, 0.0f), d(16 * 8, -1.0f);
  for (int i = 0; i < 8; ++i) b[i * 8 + i] = 1.0f; // B = I
  a[0] = 1.0f + 0x1p-11f + 0x1p-20f;               // rounds up to 1 + 2^-10; truncates to 1
  cuda::launch({1, 32}, one_mma, a.data(), b.data(), c.data(), d.data());
  EXPECT_EQ(d[0], 1.0f);
}

__global__ void mma_with_a_returned_lane(float* d) {
  if (threadIdx.x == 31) return;
  std::uint32_t a[4] = {}, b[2] = {};
  float acc[4] = {};
  cuda::mma_m16n8k8_tf32(acc, a, b);
  d[threadIdx.x] = acc[0];
}

TEST(CudaEmulationTest, MmaNeedsTheWholeWarp) {
  std::vector<float> d(16 * 8, 0.0f);
  EXPECT_THROW(cuda::launch({1, 32}, mma_with_a_returned_lane, d.data()), std::logic_error);
  // Half a warp: the 16 lanes' loads stay inside the 16 x 8 buffers.
  EXPECT_THROW(cuda::launch({1, 16}, one_mma, d.data(), d.data(), d.data(), d.data()),
               std::logic_error);
}

} // namespace
} // namespace sgan
