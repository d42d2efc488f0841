// The CPU backend's threads: parallel_for covers its range exactly once in contiguous pieces on
// at most the threads asked for, and every threaded kernel gives bitwise the same results with 1,
// 2, 3 or 7 threads (kernels/cpu/parallel.h's promise: a run does not depend on the core count).
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/cpu/parallel.h"
#include "kernels/dense.h"
#include "tests/support/compare.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace sgan {
namespace {

// Restores the default thread count when a test ends, whatever it set.
struct ThreadCountGuard {
  ~ThreadCountGuard() { cpu::set_thread_count(0); }
};

TEST(ParallelForTest, CoversTheRangeOnceInContiguousPiecesOnAtMostTheThreadsAskedFor) {
  ThreadCountGuard guard;
  for (int threads : {1, 2, 3, 7}) {
    cpu::set_thread_count(threads);
    for (int count : {1, 2, 5, 100}) {
      SCOPED_TRACE(testing::Message() << threads << " threads, count " << count);
      std::mutex mutex;
      std::vector<std::pair<int, int>> pieces;
      std::set<std::thread::id> ids;
      std::vector<int> visits(count, 0);
      // 1e9 multiply-adds an item: worth a thread each, so the split is the most allowed.
      cpu::parallel_for(count, 1e9, [&](int begin, int end) {
        for (int i = begin; i < end; ++i) ++visits[i]; // disjoint pieces: no race
        const std::lock_guard lock(mutex);
        pieces.emplace_back(begin, end);
        ids.insert(std::this_thread::get_id());
      });
      EXPECT_EQ(visits, std::vector<int>(count, 1));
      std::sort(pieces.begin(), pieces.end());
      ASSERT_EQ(int(pieces.size()), std::min(count, threads));
      EXPECT_EQ(pieces.front().first, 0);
      EXPECT_EQ(pieces.back().second, count);
      for (std::size_t p = 1; p < pieces.size(); ++p)
        EXPECT_EQ(pieces[p].first, pieces[p - 1].second);
      for (const auto& [begin, end] : pieces)
        EXPECT_LE(end - begin, count / int(pieces.size()) + 1);
      EXPECT_EQ(ids.size(), pieces.size());
    }
  }
}

TEST(ParallelForTest, SmallWorkStaysOnTheCallingThread) {
  ThreadCountGuard guard;
  cpu::set_thread_count(4);
  std::set<std::thread::id> ids;
  int calls = 0;
  cpu::parallel_for(1000, 10.0, [&](int begin, int end) {
    ++calls;
    ids.insert(std::this_thread::get_id());
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 1000);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
  cpu::parallel_for(0, 1e9, [&](int, int) { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(ParallelForTest, AnExceptionOnAWorkerThreadReachesTheCallerAfterEveryRangeEnds) {
  ThreadCountGuard guard;
  cpu::set_thread_count(4);
  std::mutex lock;
  std::vector<std::pair<int, int>> finished;
  std::set<std::thread::id> ids;
  try {
    cpu::parallel_for(4, 1e9, [&](int begin, int end) {
      {
        const std::lock_guard hold(lock);
        ids.insert(std::this_thread::get_id());
      }
      if (begin == 2) throw std::runtime_error("range 2 failed");
      const std::lock_guard hold(lock);
      finished.emplace_back(begin, end);
    });
    ADD_FAILURE() << "parallel_for returned normally";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "range 2 failed");
  }
  EXPECT_EQ(ids.size(), 4u);      // the throwing range ran on a worker thread
  EXPECT_EQ(finished.size(), 3u); // and the other three were not cut short
}

TEST(ParallelForTest, ThreadCountIsRefusedBelowZeroAndZeroMeansTheHardwares) {
  ThreadCountGuard guard;
  EXPECT_THROW(cpu::set_thread_count(-1), std::invalid_argument);
  cpu::set_thread_count(5);
  EXPECT_EQ(cpu::thread_count(), 5);
  cpu::set_thread_count(0);
  EXPECT_EQ(cpu::thread_count(), int(std::max(1u, std::thread::hardware_concurrency())));
}

// Runs `kernel` (which writes `out`, starting from `initial`) with 1 thread, then with more, and
// expects the same bits each time.
void expect_the_same_bits_for_any_thread_count(
    const std::vector<float>& initial, const std::function<void(std::vector<float>&)>& kernel) {
  ThreadCountGuard guard;
  cpu::set_thread_count(1);
  std::vector<float> one_thread = initial;
  kernel(one_thread);
  ASSERT_TRUE(
      std::all_of(one_thread.begin(), one_thread.end(), [](float v) { return std::isfinite(v); }));
  for (int threads : {2, 3, 7}) {
    cpu::set_thread_count(threads);
    std::vector<float> out = initial;
    kernel(out);
    EXPECT_EQ(out, one_thread) << threads << " threads";
  }
}

// Each shape does 8 to 15 million multiply-adds a direction: enough for parallel_for to use 7
// threads (about a million each).
TEST(ParallelKernelsTest, DenseDirectionsGiveTheSameBitsForAnyThreadCount) {
  const DenseShape s{70, 400, 300};
  const auto x = test::random_uniform<float>(s.x_size(), 1),
             w = test::random_uniform<float>(s.w_size(), 2),
             b = test::random_uniform<float>(s.out, 3),
             dy = test::random_uniform<float>(s.y_size(), 4);
  expect_the_same_bits_for_any_thread_count(
      std::vector<float>(s.y_size(), std::nanf("")), [&](auto& y) {
        cpu::dense_forward(s, x.data(), w.data(), b.data(), y.data(), Activation::softplus());
      });
  expect_the_same_bits_for_any_thread_count(
      std::vector<float>(s.x_size(), std::nanf("")),
      [&](auto& dx) { cpu::dense_backward_data(s, dy.data(), w.data(), dx.data()); });
  expect_the_same_bits_for_any_thread_count(
      test::random_uniform<float>(s.w_size(), 5),
      [&](auto& dw) { cpu::dense_backward_weight(s, x.data(), dy.data(), dw.data()); });
}

TEST(ParallelKernelsTest, Conv2dDirectionsGiveTheSameBitsForAnyThreadCount) {
  const Conv2dShape s = conv2d_shape(9, 32, 14, 14, 64, 3, 3, 2, Padding::same);
  const auto x = test::random_uniform<float>(s.x_size(), 6),
             w = test::random_uniform<float>(s.w_size(), 7),
             b = test::random_uniform<float>(s.c_out, 8),
             dy = test::random_uniform<float>(s.y_size(), 9);
  expect_the_same_bits_for_any_thread_count(
      std::vector<float>(s.y_size(), std::nanf("")), [&](auto& y) {
        cpu::conv2d_forward(s, x.data(), w.data(), b.data(), y.data(),
                            Activation::leaky_relu(0.2f));
      });
  expect_the_same_bits_for_any_thread_count(
      std::vector<float>(s.x_size(), std::nanf("")),
      [&](auto& dx) { cpu::conv2d_backward_data(s, dy.data(), w.data(), dx.data()); });
  expect_the_same_bits_for_any_thread_count(
      test::random_uniform<float>(s.w_size(), 10),
      [&](auto& dw) { cpu::conv2d_backward_weight(s, x.data(), dy.data(), dw.data()); });
}

TEST(ParallelKernelsTest, ConvTranspose2dDirectionsGiveTheSameBitsForAnyThreadCount) {
  const ConvTranspose2dShape s = conv_transpose2d_shape(9, 64, 7, 7, 32, 4, 4, 2, Padding::same);
  const auto x = test::random_uniform<float>(s.x_size(), 11),
             w = test::random_uniform<float>(s.w_size(), 12),
             b = test::random_uniform<float>(s.c_out, 13),
             dy = test::random_uniform<float>(s.y_size(), 14);
  expect_the_same_bits_for_any_thread_count(
      std::vector<float>(s.y_size(), std::nanf("")), [&](auto& y) {
        cpu::conv_transpose2d_forward(s, x.data(), w.data(), b.data(), y.data(),
                                      Activation::relu());
      });
  expect_the_same_bits_for_any_thread_count(
      std::vector<float>(s.x_size(), std::nanf("")),
      [&](auto& dx) { cpu::conv_transpose2d_backward_data(s, dy.data(), w.data(), dx.data()); });
  expect_the_same_bits_for_any_thread_count(
      test::random_uniform<float>(s.w_size(), 15),
      [&](auto& dw) { cpu::conv_transpose2d_backward_weight(s, x.data(), dy.data(), dw.data()); });
}

} // namespace
} // namespace sgan
