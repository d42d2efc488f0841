// The CPU emulation of CUDA kernels (kernels/cuda/emulation.h) keeps the GPU's rules that our
// kernels rely on: each thread and block sees its own built-in indices, __syncthreads() orders
// shared memory (and its absence shows: neighbouring blocks run their threads in opposite
// orders), threads that returned no longer hold a barrier, a warp shuffle exchanges lanes;
// and where the GPU would hang (threads waiting at barriers that never open) or a kernel asks for
// what the emulation does not model, the launch throws instead.
#include "kernels/cuda/common.cuh"

#include <gtest/gtest.h>
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

} // namespace
} // namespace sgan
