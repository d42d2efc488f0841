// The fiber scheduler behind kernels/cuda/emulation.h: a block's threads are fibers on the calling
// thread, run one warp at a time (each as far as it can before the next block barrier) and within
// a warp in lane order, each thread until it waits at a barrier or returns; odd blocks take warps
// and lanes in reverse.
//
// A switch between fibers saves the callee-saved registers and the stack pointer and loads the
// other's (switch_stack below, x86-64 System V; the tests are built on x86-64 only): ucontext's
// swapcontext also saves the signal mask, two system calls per switch, which made a million-thread
// elementwise launch take seconds.
#include "kernels/cuda/emulation.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <fmt/format.h>
#include <memory>
#include <vector>

#if !defined(__x86_64__)
#error "the kernel emulation's fiber switch is written for x86-64"
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

// switch_stack(&save, load): pushes rbp, rbx, r12-r15, stores rsp in *save, takes load as rsp,
// pops the other fiber's registers and returns into it.
extern "C" void sgan_emulation_switch_stack(void** save, void* load);
asm(R"(
  .text
  .globl sgan_emulation_switch_stack
  .type sgan_emulation_switch_stack, @function
sgan_emulation_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size sgan_emulation_switch_stack, .-sgan_emulation_switch_stack
  .section .note.GNU-stack,"",@progbits
)");

namespace sgan::emulation {
namespace {

constexpr int warp_lanes = 32;
// Kernel frames are small (a few register arrays); 256 KiB each leaves room for the math library.
constexpr std::size_t fiber_stack_bytes = 256 * 1024;
constexpr unsigned int max_threads_per_block = 1024;
constexpr std::size_t exchange_words = warp_exchange_bytes / sizeof(std::uint64_t);
static_assert(warp_exchange_bytes % sizeof(std::uint64_t) == 0);

enum class FiberState { runnable, at_block_barrier, at_warp_barrier, returned };

struct Fiber {
  void* stack_pointer = nullptr; // where its registers were pushed when it last stopped
  char* stack = nullptr;         // fiber_stacks()[its thread index]
  void* sanitizer_fake_stack = nullptr;
  uint3 index{0, 0, 0};
  FiberState state = FiberState::runnable;
};

struct Block {
  std::vector<Fiber> fibers;
  // warp_exchange_bytes per thread, for warp shuffles and MMAs (8-byte words keep it aligned).
  std::vector<std::uint64_t> exchange;
  void* scheduler_stack_pointer = nullptr;
  // The scheduler's stack as AddressSanitizer knows it, learnt at a fiber's first switch.
  void* scheduler_fake_stack = nullptr;
  const void* scheduler_stack_bottom = nullptr;
  std::size_t scheduler_stack_size = 0;
  Fiber* running = nullptr;
  int running_thread = 0; // linear index of `running`
  const std::function<void()>* body = nullptr;
  std::exception_ptr error; // what a thread of the block threw
};

Block* active_block = nullptr;

// One stack per thread index, kept from launch to launch: a fresh 256 KiB allocation is an mmap,
// page faults and an munmap each time, which dominated the many small launches of a training
// iteration. Left uninitialised: pages are touched only as a frame grows.
std::vector<std::unique_ptr<char[]>>& fiber_stacks(std::size_t threads) {
  static std::vector<std::unique_ptr<char[]>> stacks;
  while (stacks.size() < threads) stacks.emplace_back(new char[fiber_stack_bytes]);
  return stacks;
}

// AddressSanitizer (the checked emulated tests) must hear of every stack switch, before it (the
// stack switched to, and where to keep the leaving one's fake frames; null where that one is done
// for good) and after it (the fake frames of the one arriving). Nothing without it.
void before_switch([[maybe_unused]] void** fake_stack_save, [[maybe_unused]] const void* bottom,
                   [[maybe_unused]] std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#endif
}

void after_switch([[maybe_unused]] void* fake_stack, [[maybe_unused]] const void** old_bottom,
                  [[maybe_unused]] std::size_t* old_size) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(fake_stack, old_bottom, old_size);
#endif
}

// Where a new fiber starts (by switch_stack's ret); it never returns, it switches away for good.
[[noreturn]] void fiber_entry() {
  Block& b = *active_block;
  after_switch(nullptr, &b.scheduler_stack_bottom, &b.scheduler_stack_size);
  try {
    (*b.body)();
  } catch (...) { // no frame above this one on the fiber's stack: the scheduler rethrows it
    b.error = std::current_exception();
  }
  b.running->state = FiberState::returned;
  before_switch(nullptr, b.scheduler_stack_bottom, b.scheduler_stack_size);
  sgan_emulation_switch_stack(&b.running->stack_pointer, b.scheduler_stack_pointer);
  __builtin_unreachable();
}

// A stack that switch_stack can switch into: six zero registers, then fiber_entry as the return
// address, then one slot, so that fiber_entry starts with rsp = 8 (mod 16) as after a call.
// The stacks are page-aligned allocations, so their tops would all fall in the same cache sets and
// evict each other at every switch; thread t's starts (t mod 64) * (1 KiB + 64 B) lower instead.
void* fresh_stack(char* stack, int thread) {
  const std::size_t colour = std::size_t(thread % 64) * (1024 + 64);
  auto top =
      reinterpret_cast<std::uintptr_t>(stack + fiber_stack_bytes - colour) & ~std::uintptr_t(15);
  auto* slot = reinterpret_cast<void**>(top);
  *--slot = nullptr;                               // the alignment slot
  *--slot = reinterpret_cast<void*>(&fiber_entry); // ret goes here
  for (int r = 0; r < 6; ++r) *--slot = nullptr;   // rbp, rbx, r12-r15
  return slot;
}

void resume(Block& b, Fiber& f) {
  before_switch(&b.scheduler_fake_stack, f.stack, fiber_stack_bytes);
  sgan_emulation_switch_stack(&b.scheduler_stack_pointer, f.stack_pointer);
  after_switch(b.scheduler_fake_stack, nullptr, nullptr);
}

void wait_at(FiberState barrier) {
  if (!active_block || !active_block->running)
    throw std::logic_error("emulated barrier outside a kernel");
  Block& b = *active_block;
  Fiber& f = *b.running;
  f.state = barrier;
  before_switch(&f.sanitizer_fake_stack, b.scheduler_stack_bottom, b.scheduler_stack_size);
  sgan_emulation_switch_stack(&f.stack_pointer, b.scheduler_stack_pointer);
  after_switch(f.sanitizer_fake_stack, nullptr, nullptr);
}

// Runs the lanes [first, end) of one warp, in order, opening the warp's shuffle barrier whenever
// every live lane has reached it, until none can run: each has returned, waits at the block
// barrier, or waits at a shuffle barrier that cannot open.
void run_warp(Block& b, std::size_t first, std::size_t end, bool last_to_first) {
  for (;;) {
    for (std::size_t i = first; i < end; ++i) {
      const std::size_t t = last_to_first ? end - 1 - (i - first) : i;
      Fiber& f = b.fibers[t];
      if (f.state != FiberState::runnable) continue;
      b.running = &f;
      b.running_thread = static_cast<int>(t);
      threadIdx = f.index;
      resume(b, f);
      if (b.error) std::rethrow_exception(b.error);
    }
    b.running = nullptr;
    bool live = false, all_at_warp = true;
    for (std::size_t t = first; t < end; ++t) {
      const FiberState s = b.fibers[t].state;
      if (s == FiberState::returned) continue;
      live = true;
      all_at_warp = all_at_warp && s == FiberState::at_warp_barrier;
    }
    if (!live || !all_at_warp) return;
    for (std::size_t t = first; t < end; ++t)
      if (b.fibers[t].state == FiberState::at_warp_barrier)
        b.fibers[t].state = FiberState::runnable;
  }
}

// Runs the block one warp at a time, each as far as it can go before the next block barrier,
// first to last or last to first (warps and lanes), then opens the block barrier once every live
// thread waits there. A warp running ahead of the others as far as the GPU allows makes a missing
// __syncthreads() between warps show; a barrier that can never open is reported, not hung on.
void run_block(Block& b, bool last_to_first) {
  const std::size_t threads = b.fibers.size();
  for (std::size_t t = 0; t < threads; ++t) {
    b.fibers[t].state = FiberState::runnable;
    b.fibers[t].stack_pointer = fresh_stack(b.fibers[t].stack, int(t));
    b.fibers[t].sanitizer_fake_stack = nullptr;
  }
  const std::size_t warps = (threads + warp_lanes - 1) / warp_lanes;
  for (;;) {
    for (std::size_t i = 0; i < warps; ++i) {
      const std::size_t w = last_to_first ? warps - 1 - i : i;
      run_warp(b, w * warp_lanes, std::min(threads, (w + 1) * warp_lanes), last_to_first);
    }
    bool live = false, all_at_block = true;
    for (const Fiber& f : b.fibers) {
      if (f.state == FiberState::returned) continue;
      live = true;
      all_at_block = all_at_block && f.state == FiberState::at_block_barrier;
    }
    if (!live) return;
    if (!all_at_block)
      throw std::logic_error(fmt::format(
          "emulated kernel deadlocked in block ({}, {}, {}): its threads wait at barriers that "
          "cannot open (a __syncthreads() or shuffle that some threads of the block or warp "
          "skip)",
          blockIdx.x, blockIdx.y, blockIdx.z));
    for (Fiber& f : b.fibers)
      if (f.state == FiberState::at_block_barrier) f.state = FiberState::runnable;
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
  if ((slot + 1) * exchange_words > b.exchange.size())
    throw std::logic_error("emulated shuffle reads a lane past the end of the block");
  return &b.exchange[slot * exchange_words];
}

float round_to_tf32(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7f800000u) != 0x7f800000u) {
    // Adding half of the last kept bit to the magnitude rounds half away from zero (sign and
    // magnitude), carrying into the exponent where the mantissa overflows, to infinity at the top.
    bits += 0x1000u;
    bits &= 0xffffe000u;
  }
  float rounded;
  std::memcpy(&rounded, &bits, sizeof rounded);
  return rounded;
}

void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
  if (!active_block || !active_block->running)
    throw std::logic_error("emulated mma.sync outside a kernel");
  struct Operands {
    std::uint32_t a[4], b[2];
  };
  static_assert(sizeof(Operands) <= warp_exchange_bytes);
  const int lane = running_lane();
  Operands mine;
  std::memcpy(mine.a, a, sizeof mine.a);
  std::memcpy(mine.b, b, sizeof mine.b);
  std::memcpy(warp_exchange_slot(lane), &mine, sizeof mine);
  warp_barrier(); // every lane's operands are in place, or every lane still running is here
  {
    // The barrier opens once the lanes that have not returned are all here: an .aligned MMA
    // needs all 32.
    const Block& blk = *active_block;
    const std::size_t warp0 = std::size_t(blk.running_thread) / warp_lanes * warp_lanes;
    bool whole = warp0 + warp_lanes <= blk.fibers.size();
    for (std::size_t t = warp0; whole && t < warp0 + warp_lanes; ++t)
      whole = blk.fibers[t].state != FiberState::returned;
    if (!whole)
      throw std::logic_error("emulated mma.sync: every lane of the warp must take part (.aligned)");
  }
  auto operand = [](std::uint32_t bits) {
    bits &= 0xffffe000u; // what the tensor cores read of it
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return double(value);
  };
  Operands warp[warp_lanes]; // every lane's operands, read once
  for (int l = 0; l < warp_lanes; ++l) std::memcpy(&warp[l], warp_exchange_slot(l), sizeof warp[l]);
  const int g = lane / 4, t = lane % 4;
  float result[4];
  for (int r = 0; r < 4; ++r) {
    const int row = g + 8 * (r / 2), col = 2 * t + r % 2;
    double sum = d[r];
    for (int k = 0; k < 8; ++k) {
      // A[row][k] is a[(row / 8) + 2 (k / 4)] of lane 4 (row % 8) + k % 4; B[k][col] is
      // b[k / 4] of lane 4 col + k % 4.
      sum += operand(warp[4 * (row % 8) + k % 4].a[row / 8 + 2 * (k / 4)]) *
             operand(warp[4 * col + k % 4].b[k / 4]);
    }
    result[r] = static_cast<float>(sum);
  }
  warp_barrier(); // every lane has read before any writes again
  std::memcpy(d, result, sizeof result);
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
  b.exchange.assign(std::size_t(threads) * exchange_words, 0);
  const std::vector<std::unique_ptr<char[]>>& stacks = fiber_stacks(threads);
  unsigned int t = 0;
  for (unsigned int z = 0; z < block.z; ++z)
    for (unsigned int y = 0; y < block.y; ++y)
      for (unsigned int x = 0; x < block.x; ++x, ++t) {
        b.fibers[t].index = uint3{x, y, z};
        b.fibers[t].stack = stacks[t].get();
      }
  blockDim = block;
  gridDim = grid;
  active_block = &b;
  try {
    for (unsigned int z = 0; z < grid.z; ++z)
      for (unsigned int y = 0; y < grid.y; ++y)
        for (unsigned int x = 0; x < grid.x; ++x) {
          blockIdx = uint3{x, y, z};
          // Odd blocks run their threads in reverse, so that a missing barrier between one
          // thread's write and another's read shows, whichever of the two comes first.
          run_block(b, (x + y + z) % 2 == 1);
        }
  } catch (...) {
    active_block = nullptr;
    throw;
  }
  active_block = nullptr;
}

} // namespace sgan::emulation
