#pragma once
// Threads for the CPU backend's products (dense and convolution layers, every direction).
//
// Each kernel splits an outer index whose elements are independent (a row of the batch, a block of
// output channels) into contiguous ranges, one per thread. An element's sum is still computed by
// one thread over its terms in the order of the plain loops, so the results are bitwise the same
// for any number of threads, and a run's trajectory does not depend on the machine's core count.
#include <functional>

namespace sgan::cpu {

// The most threads a CPU kernel uses; 0 (the default) means every hardware thread. Negative
// counts throw std::invalid_argument. Set it before training, not while a kernel runs.
void set_thread_count(int threads);
// What set_thread_count asked for, with 0 resolved to the hardware's thread count (at least 1).
int thread_count();

// Calls body(begin, end) on contiguous ranges covering [0, count) exactly once, at most
// thread_count() of them at once, the first on the calling thread; returns when all are done.
// If body throws on any range, the first exception is rethrown after every range has finished.
// `multiply_adds_per_item` sizes the split: starting a thread costs tens of microseconds, so each
// thread gets at least ~a million multiply-adds and small products stay on the calling thread.
void parallel_for(int count, double multiply_adds_per_item,
                  const std::function<void(int begin, int end)>& body);

} // namespace sgan::cpu
