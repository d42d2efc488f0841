// Deterministic fixed-order reductions: the sums of per-row losses in D's step, the batch mean of
// a feature layer, and the count of correct test-set predictions; no vendor twin.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/reduce.h"

#include <cstdint>

namespace sgan::bench {
namespace {

struct SumCase {
  const char* name;
  int rows_per_batch;
};

struct ColumnMeanCase {
  const char* name;
  int rows_per_batch;
  int cols;
};

// The trainer sums D's labeled row losses (n) and its unlabeled + fake row losses (2n), and
// counts correct predictions over the 10,000 test images. Add a row to time another size.
const SumCase sum_cases[] = {
    {"D.labeled_loss", 1},
    {"D.unlabeled_fake_loss", 2},
};
const ColumnMeanCase column_mean_cases[] = {
    {"improved.D.fc5", 1, 250},
};
constexpr int test_images = 10000;

// Each reads its input once and writes its output.
void register_sum(Gpu& gpu, const SumCase& c, int rows) {
  const std::size_t n = std::size_t(rows);
  register_case(case_name("sum", "fwd", c.name, rows), gpu, [n](benchmark::State& state, Gpu& g) {
    const auto x = random_array(n, 1);
    const DeviceArray<float> out(1);
    time_case(state, g, Work::floats(double(n) + 1.0),
              [&] { cuda::sum(n, x.get(), out.get(), g.stream()); });
  });
}

void register_column_mean(Gpu& gpu, const ColumnMeanCase& c, int rows) {
  const int cols = c.cols;
  register_case(case_name("column_mean", "fwd", c.name, rows), gpu,
                [rows, cols](benchmark::State& state, Gpu& g) {
                  const auto x = random_array(std::size_t(rows) * std::size_t(cols), 1);
                  const DeviceArray<float> out(static_cast<std::size_t>(cols));
                  time_case(state, g, Work::floats(double(rows) * cols + cols),
                            [&] { cuda::column_mean(rows, cols, x.get(), out.get(), g.stream()); });
                });
}

void register_count(Gpu& gpu) {
  register_case(case_name("count", "fwd", "test.correct"), gpu,
                [](benchmark::State& state, Gpu& g) {
                  const auto flags = random_indices(test_images, 1, 2);
                  const DeviceArray<std::int32_t> out(1);
                  time_case(state, g, Work::memory(4.0 * (test_images + 1)),
                            [&] { cuda::count(test_images, flags.get(), out.get(), g.stream()); });
                });
}

} // namespace

void register_reduce_cases(Gpu& gpu) {
  for (const SumCase& c : sum_cases)
    for (const int batch : recipe_batches) register_sum(gpu, c, c.rows_per_batch * batch);
  for (const ColumnMeanCase& c : column_mean_cases)
    for (const int batch : recipe_batches) register_column_mean(gpu, c, c.rows_per_batch * batch);
  register_count(gpu);
}

} // namespace sgan::bench
#endif
