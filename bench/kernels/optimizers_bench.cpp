// The fused Adam update and the parameter moving average, each one launch over a model's flat
// parameter buffer; no vendor twin. Their size is the model's, not the batch's.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/optimizers.h"

#include <cstddef>
#include <vector>

namespace sgan::bench {
namespace {

struct ParameterBufferCase {
  const char* name;
  std::size_t parameters; // trainable values of the model (engine/sgan/recipes.cpp)
};

// Each model's trainable parameters, layer by layer: weights + biases; batchnorm gamma + beta
// (beta only where the scale is fixed); weight-normalised layers v + bias, + g where trained.
constexpr std::size_t article_d_parameters =
    (64 * 9 + 64) + (128 * 64 * 9 + 128) + (128 * 7 * 7 * 11 + 11);
constexpr std::size_t article_g_parameters = (100 * 6272 + 6272) + 2 * 128 +
                                             (128 * 128 * 16 + 128) + 2 * 128 +
                                             (128 * 64 * 16 + 64) + 2 * 64 + (64 * 49 + 1);
constexpr std::size_t improved_d_parameters = (784 * 1000 + 1000) + (1000 * 500 + 500) +
                                              (500 * 250 + 250) + 2 * (250 * 250 + 250) +
                                              (250 * 10 + 10 + 10);
constexpr std::size_t improved_g_parameters =
    (100 * 500) + 500 + (500 * 500) + 500 + (500 * 784 + 784 + 784);

// Adam updates every model; the parameter average is kept by the improved recipe, for D. Add a
// row to time another size.
// The "large" rows are past the L2 cache (cases.h's large_elements).
const ParameterBufferCase adam_cases[] = {
    {"article.D", article_d_parameters},    {"article.G", article_g_parameters},
    {"improved.D", improved_d_parameters},  {"improved.G", improved_g_parameters},
    {"large", std::size_t(large_elements)},
};
const ParameterBufferCase ema_cases[] = {
    {"improved.D", improved_d_parameters},
    {"large", std::size_t(large_elements)},
};

// Reads parameters, gradients and both moments; writes parameters and both moments.
void register_adam(Gpu& gpu, const ParameterBufferCase& c) {
  const std::size_t n = c.parameters;
  register_case(case_name("adam", "update", c.name), gpu, [n](benchmark::State& state, Gpu& g) {
    const AdamHyper hyper{0.5f, 0.999f, 1e-8f, 0.0f};
    const DeviceArray<AdamStepScalars> scalars(
        std::vector<AdamStepScalars>{adam_step_scalars(hyper, 2e-4f, 1)});
    const auto params = random_array(n, 1), grads = random_array(n, 2, -1e-2f, 1e-2f);
    const DeviceArray<float> m(n), v(n);
    time_case(state, g, Work::floats(7.0 * double(n)), [&] {
      cuda::adam_update(hyper, n, scalars.get(), params.get(), grads.get(), m.get(), v.get(),
                        g.stream());
    });
  });
}

// Reads the parameters and the average, writes the average.
void register_ema(Gpu& gpu, const ParameterBufferCase& c) {
  const std::size_t n = c.parameters;
  register_case(case_name("ema", "update", c.name), gpu, [n](benchmark::State& state, Gpu& g) {
    const auto params = random_array(n, 1);
    const DeviceArray<float> average(n);
    time_case(state, g, Work::floats(3.0 * double(n)),
              [&] { cuda::ema_update(n, 1e-4f, params.get(), average.get(), g.stream()); });
  });
}

} // namespace

void register_optimizer_cases(Gpu& gpu) {
  for (const ParameterBufferCase& c : adam_cases) register_adam(gpu, c);
  for (const ParameterBufferCase& c : ema_cases) register_ema(gpu, c);
}

} // namespace sgan::bench
#endif
