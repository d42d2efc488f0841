#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace sgan::cpu {
namespace {

std::atomic<int> requested_threads{0};

// About a millisecond of one core's double multiply-adds: well above a thread's start-up cost.
constexpr double multiply_adds_per_thread = 1 << 20;

} // namespace

void set_thread_count(int threads) {
  if (threads < 0)
    throw std::invalid_argument("the CPU thread count must be 0 (all) or more, got " +
                                std::to_string(threads));
  requested_threads = threads;
}

int thread_count() {
  const int requested = requested_threads;
  if (requested > 0) return requested;
  return std::max(1, int(std::thread::hardware_concurrency()));
}

void parallel_for(int count, double multiply_adds_per_item,
                  const std::function<void(int begin, int end)>& body) {
  if (count <= 0) return;
  const double worth = count * multiply_adds_per_item / multiply_adds_per_thread;
  const int threads = int(std::clamp(worth, 1.0, double(std::min(count, thread_count()))));
  // Range t is [count t / threads, count (t + 1) / threads): sizes differ by at most one.
  auto range_begin = [&](int t) { return int(std::int64_t(count) * t / threads); };
  // An exception escaping a thread would end the process: the first one thrown by any range is
  // kept and rethrown here once every range has finished.
  std::exception_ptr failure;
  std::mutex failure_lock;
  auto guarded = [&](int begin, int end) {
    try {
      body(begin, end);
    } catch (...) {
      const std::lock_guard lock(failure_lock);
      if (!failure) failure = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> workers;
    workers.reserve(threads - 1);
    int t = 1;
    try {
      for (; t < threads; ++t) workers.emplace_back(guarded, range_begin(t), range_begin(t + 1));
    } catch (const std::system_error&) {
      // No thread to be had (a process or memory limit): the caller does the ranges left over.
      guarded(range_begin(t), range_begin(threads));
    }
    guarded(0, range_begin(1));
  } // each jthread joins as `workers` goes out of scope
  if (failure) std::rethrow_exception(failure);
}

} // namespace sgan::cpu
