// The fiber scheduler behind kernels/cuda/emulation.h: a block's threads are ucontext fibers on
// the calling thread, resumed in thread order, each running until it waits at a barrier or
// returns; then every barrier whose live threads have all arrived opens.
#include "kernels/cuda/emulation.h"

#include <fmt/format.h>
#include <ucontext.h>

namespace sgan::emulation {
namespace {

constexpr int warp_lanes = 32;
// Kernel frames are small (a few register arrays); 256 KiB each leaves room for the math library.
constexpr std::size_t fiber_stack_bytes = 256 * 1024;
constexpr unsigned int max_threads_per_block = 1024;

enum class FiberState { runnable, at_block_barrier, at_warp_barrier, returned };

struct Fiber {
  ucontext_t context{};
  std::unique_ptr<char[]> stack; // left uninitialised: pages are touched only as the frame grows
  uint3 index{0, 0, 0};
  FiberState state = FiberState::runnable;
};

struct Block {
  std::vector<Fiber> fibers;
  std::vector<std::uint64_t> exchange; // one 8-byte slot per thread, for warp shuffles
  ucontext_t scheduler{};
  Fiber* running = nullptr;
  int running_thread = 0; // linear index of `running`
  const std::function<void()>* body = nullptr;
};

Block* active_block = nullptr;

void fiber_entry() {
  Block& b = *active_block;
  (*b.body)();
  b.running->state = FiberState::returned;
  swapcontext(&b.running->context, &b.scheduler);
}

void wait_at(FiberState barrier) {
  if (!active_block || !active_block->running)
    throw std::logic_error("emulated barrier outside a kernel");
  Block& b = *active_block;
  b.running->state = barrier;
  swapcontext(&b.running->context, &b.scheduler);
}

// Opens the barriers every live thread of their scope has reached; false where none could open
// and no thread can run (a deadlock on the GPU).
bool open_barriers(Block& b) {
  bool any_live = false, all_at_block = true;
  for (const Fiber& f : b.fibers) {
    if (f.state == FiberState::returned) continue;
    any_live = true;
    all_at_block = all_at_block && f.state == FiberState::at_block_barrier;
  }
  if (!any_live) return true;
  if (all_at_block) {
    for (Fiber& f : b.fibers)
      if (f.state == FiberState::at_block_barrier) f.state = FiberState::runnable;
    return true;
  }
  bool opened = false;
  const std::size_t threads = b.fibers.size();
  for (std::size_t warp0 = 0; warp0 < threads; warp0 += warp_lanes) {
    const std::size_t end = std::min(threads, warp0 + warp_lanes);
    bool live = false, all_at_warp = true;
    for (std::size_t t = warp0; t < end; ++t) {
      const FiberState s = b.fibers[t].state;
      if (s == FiberState::returned) continue;
      live = true;
      all_at_warp = all_at_warp && s == FiberState::at_warp_barrier;
    }
    if (!live || !all_at_warp) continue;
    for (std::size_t t = warp0; t < end; ++t)
      if (b.fibers[t].state == FiberState::at_warp_barrier)
        b.fibers[t].state = FiberState::runnable;
    opened = true;
  }
  return opened;
}

void run_block(Block& b) {
  for (Fiber& f : b.fibers) {
    f.state = FiberState::runnable;
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.stack.get();
    f.context.uc_stack.ss_size = fiber_stack_bytes;
    f.context.uc_link = nullptr;
    makecontext(&f.context, fiber_entry, 0);
  }
  for (;;) {
    for (std::size_t t = 0; t < b.fibers.size(); ++t) {
      Fiber& f = b.fibers[t];
      if (f.state != FiberState::runnable) continue;
      b.running = &f;
      b.running_thread = static_cast<int>(t);
      threadIdx = f.index;
      swapcontext(&b.scheduler, &f.context);
    }
    b.running = nullptr;
    const bool all_returned = std::all_of(b.fibers.begin(), b.fibers.end(), [](const Fiber& f) {
      return f.state == FiberState::returned;
    });
    if (all_returned) return;
    if (!open_barriers(b))
      throw std::logic_error(fmt::format(
          "emulated kernel deadlocked in block ({}, {}, {}): its threads wait at barriers that "
          "cannot open (a __syncthreads() or shuffle that some threads of the block or warp "
          "skip)",
          blockIdx.x, blockIdx.y, blockIdx.z));
  }
}

} // namespace

void block_barrier() { wait_at(FiberState::at_block_barrier); }
void warp_barrier() { wait_at(FiberState::at_warp_barrier); }

int running_lane() { return active_block->running_thread % warp_lanes; }

void* warp_exchange_slot(int lane) {
  Block& b = *active_block;
  const int warp0 = b.running_thread - b.running_thread % warp_lanes;
  const std::size_t slot = static_cast<std::size_t>(warp0 + lane);
  if (slot >= b.exchange.size())
    throw std::logic_error("emulated shuffle reads a lane past the end of the block");
  return &b.exchange[slot];
}

void run_grid(dim3 grid, dim3 block, const std::function<void()>& body) {
  const unsigned int threads = block.x * block.y * block.z;
  if (threads == 0 || threads > max_threads_per_block)
    throw std::invalid_argument(fmt::format(
        "emulated launch: {} threads per block (1 to {} allowed)", threads, max_threads_per_block));
  if (grid.x == 0 || grid.y == 0 || grid.z == 0)
    throw std::invalid_argument("emulated launch: an empty grid (the GPU rejects it too)");
  if (active_block) throw std::logic_error("emulated launch from inside an emulated kernel");

  Block b;
  b.body = &body;
  b.fibers.resize(threads);
  b.exchange.assign(threads, 0);
  unsigned int t = 0;
  for (unsigned int z = 0; z < block.z; ++z)
    for (unsigned int y = 0; y < block.y; ++y)
      for (unsigned int x = 0; x < block.x; ++x, ++t) {
        b.fibers[t].index = uint3{x, y, z};
        b.fibers[t].stack.reset(new char[fiber_stack_bytes]);
      }
  blockDim = block;
  gridDim = grid;
  active_block = &b;
  try {
    for (unsigned int z = 0; z < grid.z; ++z)
      for (unsigned int y = 0; y < grid.y; ++y)
        for (unsigned int x = 0; x < grid.x; ++x) {
          blockIdx = uint3{x, y, z};
          run_block(b);
        }
  } catch (...) {
    active_block = nullptr;
    throw;
  }
  active_block = nullptr;
}

cudaError_t malloc_async(void** pointer, std::size_t bytes, cudaStream_t) {
  *pointer = std::malloc(bytes ? bytes : 1);
  return *pointer ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t free_async(void* pointer, cudaStream_t) {
  std::free(pointer);
  return cudaSuccess;
}

} // namespace sgan::emulation
