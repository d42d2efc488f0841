// Dropout (forward and backward, the mask regenerated from Philox) and additive Gaussian noise;
// no vendor twin.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/dropout.h"

#include <cstdint>

namespace sgan::bench {
namespace {

struct DropoutCase {
  const char* name;
  int rows_per_batch; // 3: both are D layers
  int row_size;
  float rate; // the share dropped: keep_prob = 1 - rate
};

struct NoiseCase {
  const char* name;
  int rows_per_batch; // 3: every noise layer is in D
  int row_size;
  float sigma;
};

// Every dropout and noise layer of both recipes (improved D's noise4 and noise5 are noise3's
// size). Add a row to time another.
const DropoutCase dropout_cases[] = {
    {"article.D.drop1", 3, 64 * 14 * 14, 0.3f},
    {"article.D.drop2", 3, 128 * 7 * 7, 0.3f},
};
const NoiseCase noise_cases[] = {
    {"improved.D.noise0", 3, 28 * 28, 0.3f},
    {"improved.D.noise1", 3, 1000, 0.5f},
    {"improved.D.noise2", 3, 500, 0.5f},
    {"improved.D.noise3", 3, 250, 0.5f},
};

constexpr PhiloxStream philox{1, 1000};

// Each direction reads its input and writes its output (the Philox counter is one word).
void register_dropout(Gpu& gpu, const DropoutCase& c, int rows) {
  const std::size_t n = std::size_t(rows) * std::size_t(c.row_size);
  const float keep_prob = 1.0f - c.rate;
  register_case(case_name("dropout", "fwd", c.name, rows), gpu,
                [n, keep_prob](benchmark::State& state, Gpu& g) {
                  const auto x = random_array(n, 1);
                  const DeviceArray<float> y(n);
                  const DeviceArray<std::uint64_t> counter(1);
                  time_case(state, g, Work::floats(2.0 * double(n)), [&] {
                    cuda::dropout_forward(n, keep_prob, philox, counter.get(), x.get(), y.get(),
                                          g.stream());
                  });
                });
  register_case(case_name("dropout", "bwd", c.name, rows), gpu,
                [n, keep_prob](benchmark::State& state, Gpu& g) {
                  const auto dy = random_array(n, 2);
                  const DeviceArray<float> dx(n);
                  const DeviceArray<std::uint64_t> counter(1);
                  time_case(state, g, Work::floats(2.0 * double(n)), [&] {
                    cuda::dropout_backward(n, keep_prob, philox, counter.get(), dy.get(), dx.get(),
                                           g.stream());
                  });
                });
}

void register_noise(Gpu& gpu, const NoiseCase& c, int rows) {
  const std::size_t n = std::size_t(rows) * std::size_t(c.row_size);
  const float sigma = c.sigma;
  register_case(case_name("gaussian_noise", "fwd", c.name, rows), gpu,
                [n, sigma](benchmark::State& state, Gpu& g) {
                  const auto x = random_array(n, 1);
                  const DeviceArray<float> y(n);
                  const DeviceArray<std::uint64_t> counter(1);
                  time_case(state, g, Work::floats(2.0 * double(n)), [&] {
                    cuda::gaussian_noise_forward(n, sigma, philox, counter.get(), x.get(), y.get(),
                                                 g.stream());
                  });
                });
}

} // namespace

void register_dropout_cases(Gpu& gpu) {
  for (const DropoutCase& c : dropout_cases)
    for (const int batch : recipe_batches) register_dropout(gpu, c, c.rows_per_batch * batch);
  for (const NoiseCase& c : noise_cases)
    for (const int batch : recipe_batches) register_noise(gpu, c, c.rows_per_batch * batch);
}

} // namespace sgan::bench
#endif
