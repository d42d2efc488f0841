// The two small models of tests/engine/small_models.h on the cuda and cudnn backends against the
// CPU backend: same seed, same inputs, same RngState (the counter in each backend's own memory),
// so the same weights, dropout masks and noise. Forward outputs, input gradients, the flat
// parameter gradients and the batchnorm running statistics must agree. The MLP is first given
// its data-dependent init on each backend (with its noise on), so the init is compared too.
//
// Tolerances. The CPU kernels accumulate in double and round once; the GPU sums in float in
// another order (cuBLAS, our reductions, cuDNN's algorithms), ~1e-6 relative per layer for these
// short sums, and Philox normals differ by a few ulps between host and device libm. Forward
// values and the state are held to 1e-4 relative L2. Gradients to 1e-3: batchnorm's backward
// subtracts batch sums of similar size (m dy - sum dy - xhat sum dy xhat), which can magnify the
// forward's relative error by ~100. A wrong term or index is O(1) either way.
#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/graph/data_dependent_init.h"
#include "engine/graph/model.h"
#include "tests/engine/gradient_check.h"
#include "tests/engine/small_models.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <cstdint>
#include <functional>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan {
namespace {

constexpr double forward_tolerance = 1e-4;
constexpr double gradient_tolerance = 1e-3;

// The planned batch and the (smaller, odd) batch run through it.
constexpr int planned_rows = 9;
constexpr int rows = 7;

struct Results {
  std::vector<float> init_values, y, dx, grads, state;
};

// Builds the model on `backend`, optionally gives it the data-dependent init on `init_batch`,
// and runs one training-mode forward and backward pass of `x` with output gradient `dy`.
Results run(Backend backend, const std::function<void(Model&)>& add, const Shape& input,
            const std::vector<float>& x, const std::vector<float>& dy,
            const std::vector<float>* init_batch) {
  Context ctx(backend);
  Arena arena(ctx, std::size_t(4) << 20);
  Model model("parity", 100);
  add(model);
  model.build(arena, input.with_rows(planned_rows));
  model.initialize(ctx, 77);
  const std::uint64_t counter_value = 5;
  auto* counter = arena.allocate<std::uint64_t>(1);
  ctx.upload(counter, &counter_value, sizeof(counter_value));
  const RngState rng{31337, counter};
  model.set_rng(&rng);
  model.set_training(true);

  Results out;
  if (init_batch) {
    const Tensor batch = arena.tensor(input.with_rows(int(init_batch->size() / input.row_size())));
    test::from_host(ctx, batch, *init_batch);
    data_dependent_init(ctx, model, batch);
    out.init_values = test::to_host(ctx, model.parameters().values());
  }
  const Tensor x_dev = arena.tensor(input.with_rows(rows));
  test::from_host(ctx, x_dev, x);
  model.parameters().zero_grads(ctx);
  const Tensor y = model.forward(ctx, x_dev);
  const Tensor dy_dev = arena.tensor(y.shape);
  test::from_host(ctx, dy_dev, dy);
  const Tensor dx = model.backward(ctx, dy_dev);
  out.y = test::to_host(ctx, y);
  out.dx = test::to_host(ctx, dx);
  out.grads = test::to_host(ctx, model.parameters().grads());
  out.state = test::to_host(ctx, model.parameters().state());
  return out;
}

void expect_parity(Backend backend, const std::function<void(Model&)>& add, const Shape& input,
                   int output_row_size, bool with_init) {
  std::string reason;
  if (!backend_available(backend, &reason)) GTEST_SKIP() << reason;
  const std::vector<float> x = test::random_uniform<float>(rows * input.row_size(), 1);
  const std::vector<float> dy = test::random_uniform<float>(std::size_t(rows) * output_row_size, 2);
  const std::vector<float> init_batch =
      test::random_uniform<float>(20 * input.row_size(), 3, 0.0, 1.0);
  const std::vector<float>* init = with_init ? &init_batch : nullptr;

  const Results cpu = run(Backend::cpu, add, input, x, dy, init);
  const Results gpu = run(backend, add, input, x, dy, init);
  EXPECT_TRUE(test::close(cpu.init_values, gpu.init_values, forward_tolerance, forward_tolerance))
      << "parameters after the data-dependent init";
  EXPECT_TRUE(test::close(cpu.y, gpu.y, forward_tolerance, forward_tolerance)) << "output";
  EXPECT_TRUE(test::close(cpu.state, gpu.state, forward_tolerance, forward_tolerance))
      << "running statistics";
  EXPECT_TRUE(test::close(cpu.dx, gpu.dx, gradient_tolerance, gradient_tolerance))
      << "input gradient";
  EXPECT_TRUE(test::close(cpu.grads, gpu.grads, gradient_tolerance, gradient_tolerance))
      << "parameter gradients";
}

TEST(BackendParityTest, ConvModelOnCudaMatchesCpu) {
  SGAN_REQUIRE_GPU();
  expect_parity(Backend::cuda, test::add_conv_model, test::conv_model_input(1), 5, false);
}

TEST(BackendParityTest, ConvModelOnCudnnMatchesCpu) {
  SGAN_REQUIRE_GPU();
  expect_parity(Backend::cudnn, test::add_conv_model, test::conv_model_input(1), 5, false);
}

TEST(BackendParityTest, MlpWithDataDependentInitOnCudaMatchesCpu) {
  SGAN_REQUIRE_GPU();
  expect_parity(Backend::cuda, test::add_mlp, test::mlp_input(1), 3, true);
}

TEST(BackendParityTest, MlpWithDataDependentInitOnCudnnMatchesCpu) {
  SGAN_REQUIRE_GPU();
  expect_parity(Backend::cudnn, test::add_mlp, test::mlp_input(1), 3, true);
}

} // namespace
} // namespace sgan
