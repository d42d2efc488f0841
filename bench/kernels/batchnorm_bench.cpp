// Batch normalisation: our kernels, in the variant the dispatch picks by the values per channel
// (kernels/cuda/batchnorm_variants.h), against cuDNN's spatial batchnorm, train forward (batch
// statistics, running-average update), eval forward and backward. Forward includes the layer's
// activation (cuDNN applies it in a second pass).
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/batchnorm.h"

namespace sgan::bench {
namespace {

struct BatchNormCase {
  const char* op; // "batchnorm2d" over [n, c, h, w], "batchnorm1d" over [n, c]
  const char* name;
  int rows_per_batch; // 1: every batchnorm is a G layer
  int channels, spatial;
  BatchNormHyper hyper;
  Activation epilogue;
};

// Every batchnorm of both recipes (improved G's bn2 is bn1's shape). Add a row to time another.
const BatchNormCase batchnorm_cases[] = {
    {"batchnorm2d", "article.G.bn1", 1, 128, 7 * 7, {0.01f, 1e-3f}, Activation::identity()},
    {"batchnorm2d", "article.G.bn2", 1, 128, 14 * 14, {0.01f, 1e-3f}, Activation::identity()},
    {"batchnorm2d", "article.G.bn3", 1, 64, 28 * 28, {0.01f, 1e-3f}, Activation::identity()},
    {"batchnorm1d", "improved.G.bn1", 1, 500, 1, {0.1f, 1e-4f}, Activation::softplus()},
};

// Per-channel statistics and scales: positive where they are variances or scales.
DeviceArray<float> channel_scale(const BatchNormShape& s, std::uint64_t seed) {
  return random_array(std::size_t(s.c), seed, 0.5f, 1.5f);
}
DeviceArray<float> channel_shift(const BatchNormShape& s, std::uint64_t seed) {
  return random_array(std::size_t(s.c), seed);
}

void register_shape(Gpu& gpu, const BatchNormCase& c, const BatchNormShape& s) {
  const BatchNormHyper hyper = c.hyper;
  const Activation epilogue = c.epilogue;
  const double size = double(s.size()), channels = s.c;
  // Reads x twice (a channel's statistics need all of its values before its first output, and
  // past the L2 cache the second read comes from memory again), writes y; per channel reads gamma
  // and beta, reads and writes the running mean and variance, writes the saved mean and inverse
  // deviation. With x counted once, no batchnorm could pass 2/3 of the copy bandwidth.
  register_case(case_name(c.op, "train_fwd", c.name, s.n), gpu,
                [s, hyper, epilogue, size, channels](benchmark::State& state, Gpu& g) {
                  const auto x = random_array(s.size(), 1);
                  const auto gamma = channel_scale(s, 2), beta = channel_shift(s, 3);
                  const auto running_mean = channel_shift(s, 4), running_var = channel_scale(s, 5);
                  const DeviceArray<float> y(s.size()), saved_mean(std::size_t(s.c)),
                      saved_invstd(std::size_t(s.c));
                  time_case(state, g, Work::floats(3 * size + 8 * channels),
                            [&] {
                              cuda::batchnorm_forward_train(
                                  s, hyper, x.get(), gamma.get(), beta.get(), y.get(),
                                  running_mean.get(), running_var.get(), saved_mean.get(),
                                  saved_invstd.get(), epilogue, g.stream());
                            },
                            {"cudnn", [&] {
                               cudnn::batchnorm_forward_train(
                                   s, hyper, x.get(), gamma.get(), beta.get(), y.get(),
                                   running_mean.get(), running_var.get(), saved_mean.get(),
                                   saved_invstd.get(), epilogue, g.vendor());
                             }});
                });
  // Reads x, writes y; per channel reads gamma, beta, the running mean and variance.
  register_case(case_name(c.op, "eval_fwd", c.name, s.n), gpu,
                [s, hyper, epilogue, size, channels](benchmark::State& state, Gpu& g) {
                  const auto x = random_array(s.size(), 1);
                  const auto gamma = channel_scale(s, 2), beta = channel_shift(s, 3);
                  const auto running_mean = channel_shift(s, 4), running_var = channel_scale(s, 5);
                  const DeviceArray<float> y(s.size());
                  time_case(state, g, Work::floats(2 * size + 4 * channels),
                            [&] {
                              cuda::batchnorm_forward_eval(
                                  s, hyper, x.get(), gamma.get(), beta.get(), running_mean.get(),
                                  running_var.get(), y.get(), epilogue, g.stream());
                            },
                            {"cudnn", [&] {
                               cudnn::batchnorm_forward_eval(
                                   s, hyper, x.get(), gamma.get(), beta.get(), running_mean.get(),
                                   running_var.get(), y.get(), epilogue, g.vendor());
                             }});
                });
  // Reads x and dy twice (the sums first, as in the forward), writes dx; per channel reads gamma
  // and the saved statistics, reads and writes dgamma and dbeta.
  register_case(
      case_name(c.op, "bwd", c.name, s.n), gpu,
      [s, size, channels](benchmark::State& state, Gpu& g) {
        const auto x = random_array(s.size(), 1), dy = random_array(s.size(), 6);
        const auto gamma = channel_scale(s, 2), saved_mean = channel_shift(s, 7),
                   saved_invstd = channel_scale(s, 8);
        const DeviceArray<float> dx(s.size()), dgamma(std::size_t(s.c)), dbeta(std::size_t(s.c));
        time_case(state, g, Work::floats(5 * size + 7 * channels),
                  [&] {
                    cuda::batchnorm_backward(s, x.get(), dy.get(), gamma.get(), saved_mean.get(),
                                             saved_invstd.get(), dx.get(), dgamma.get(),
                                             dbeta.get(), g.stream());
                  },
                  {"cudnn", [&] {
                     cudnn::batchnorm_backward(s, x.get(), dy.get(), gamma.get(), saved_mean.get(),
                                               saved_invstd.get(), dx.get(), dgamma.get(),
                                               dbeta.get(), g.vendor());
                   }});
      });
}

} // namespace

// Both kinds at a size past the L2 cache (cases.h's large_elements): article G's bn3 and improved
// G's bn1 with as many rows as that takes.
const BatchNormCase large_batchnorm_cases[] = {
    {"batchnorm2d", "large", 1, 64, 28 * 28, {0.01f, 1e-3f}, Activation::identity()},
    {"batchnorm1d", "large", 1, 500, 1, {0.1f, 1e-4f}, Activation::softplus()},
};

void register_batchnorm_cases(Gpu& gpu) {
  for (const BatchNormCase& c : batchnorm_cases)
    for (const int batch : recipe_batches)
      register_shape(gpu, c, BatchNormShape{c.rows_per_batch * batch, c.channels, c.spatial});
  for (const BatchNormCase& c : large_batchnorm_cases)
    register_shape(
        gpu, c, BatchNormShape{large_elements / (c.channels * c.spatial), c.channels, c.spatial});
}

} // namespace sgan::bench
#endif
