// The SGAN trainer on the GPU backends, on tiny runs of both recipes over a synthetic MNIST-shaped
// data set: the cuda and cudnn backends against the cpu backend iteration by iteration, CUDA-graph
// replay against op-by-op launches bitwise, and a resumed run against a straight one bitwise.
//
// Why the GPU is compared one iteration at a time. The CPU kernels accumulate in double and round
// once, the GPU sums in float in other orders, so every op differs by ~1e-6 relative (Philox draws
// the same noise and dropout masks on both). GAN training amplifies such differences: the CPU
// backend against itself with 1e-6 relative noise added to the weights after every iteration
// (standing in for the GPU's rounding) gives improved-recipe losses 8% apart by iteration 4 and
// weights whose 20-iteration change differs by 70%, so a tolerance loose enough for a free run
// would pass a broken GPU too. Instead each of the 20 iterations starts the GPU trainer from the
// CPU trainer's state of the iteration before (its checkpoint: weights, batchnorm statistics, Adam
// moments and step counts, the parameter average, the Philox counter, the position in the epoch),
// runs one iteration on both, and compares what it produced.
//
// Tolerances, from the same experiment at 1e-6 and 1e-5 noise (the larger standing in for a GPU
// ten times noisier than expected), as the worst over the 20 iterations of both recipes:
// * D's losses come from one forward pass of the common starting state: measured <= 7e-6
//   relative, held to 1e-4 (the forward tolerance of backend_parity_test).
// * G's loss comes after D's update of the same iteration (below): measured <= 9e-4, held to 1e-2.
// * The gradients of each model's flat buffer, relative L2: measured <= 5e-3 (D) and 2e-2 (G),
//   held to 5e-2. These are the precise check: smooth functions of the state, except where a
//   ReLU kink is crossed (the measured maxima are such events); G's also pass through D's updated
//   weights and batchnorm over 8 rows, which subtracts batch sums of similar size.
// * The change an iteration makes to each checkpoint tensor, relative L2 of the GPU's change
//   against the CPU's: Adam divides by sqrt(v), so on its first step (and wherever v stays tiny)
//   a weight moves by +-lr with the sign of a gradient that may be zero up to rounding: a sign
//   flip there is a 2 lr difference. Measured <= 4e-2 for D's weights (held to 0.1) and up to
//   0.22 for G's on the first iteration (about 1% of its elements flipped; held to 0.5, i.e. at
//   most ~6% flipped). Adam's moments and D's parameter average are smooth in the gradients and
//   weights: measured <= 2.3e-2, held to 0.1. Batchnorm running statistics: <= 2e-4, held to 1e-2.
//   A tensor an iteration leaves unchanged on the CPU (a frozen scale) must be bitwise unchanged;
//   integer tensors (step counts, Philox counter, labeled indices) must be equal.
// With the CPU backend standing in for the GPU, the test passes under 1e-5 noise (both recipes)
// and fails under 1e-4 (the improved recipe, at iteration 3). A GPU bug (a wrong index, a missing
// term, a race, a stale buffer) garbles gradients and updates by O(1), far above all of these.
#include "engine/core/context.h"
#include "engine/data/labeled_split.h"
#include "engine/data/mnist.h"
#include "engine/io/safetensors.h"
#include "engine/sgan/config.h"
#include "engine/sgan/trainer.h"
#include "tests/apps/synthetic_mnist.h"
#include "tests/engine/gradient_check.h"
#include "tests/support/gpu.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <gtest/gtest.h>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sgan {
namespace {

namespace fs = std::filesystem;

constexpr double d_loss_tolerance = 1e-4;
constexpr double g_loss_tolerance = 1e-2;
constexpr double gradient_tolerance = 5e-2;
constexpr double d_change_tolerance = 0.1;
constexpr double g_change_tolerance = 0.5;
constexpr double moment_change_tolerance = 0.1;
constexpr double running_statistics_change_tolerance = 1e-2;
// Initial weights are drawn on the host (bitwise the same); the improved D's data-dependent init
// runs on the device, a forward pass: backend_parity_test's forward tolerance.
constexpr double initial_state_tolerance = 1e-4;

constexpr int iterations = 20;
// 20 labeled and 60 unlabeled images: 7 iterations per epoch at batch 8 (improved) and 15 at
// batch 4 (article), so the 20 iterations cross epoch boundaries and a resume at 10 is mid-epoch.
constexpr int train_images = 80, test_images = 20;

TrainConfig tiny(const std::string& recipe, Backend backend, const fs::path& data) {
  TrainConfig c = recipe_defaults(recipe);
  c.labels = 20;
  c.batch_size = recipe == "improved" ? 8 : 4;
  c.init_batch = 40;
  // Three epochs with the learning rate decaying over the last two: the device-side schedule
  // changes within the 20 iterations (and within captured graphs).
  c.epochs = 3;
  c.decay_start_epoch = 1;
  c.final_lr = 0.3f * c.lr;
  c.device = std::string(backend_name(backend));
  c.data_dir = data.string();
  return c;
}

// A trainer on its own context, fed as run_training feeds it.
class Run {
public:
  Run(Backend backend, const TrainConfig& config)
      : ctx_(backend), trainer_(config, ctx_,
                                make_semi_supervised_set(load_mnist_split(config.data_dir, "train"),
                                                         config.labels, config.seed),
                                load_mnist_split(config.data_dir, "t10k")) {}

  SganTrainer& trainer() { return trainer_; }
  // The gradients of the latest iteration: D's from its step, G's from its step (G's step
  // backpropagates through D without touching D's gradients).
  std::vector<float> d_grads() {
    return test::to_host(ctx_, trainer_.discriminator().parameters().grads());
  }
  std::vector<float> g_grads() {
    return test::to_host(ctx_, trainer_.generator().parameters().grads());
  }
  Safetensors checkpoint(const fs::path& path) {
    trainer_.save_checkpoint(path, 0.0);
    return load_safetensors(path);
  }

private:
  Context ctx_;
  SganTrainer trainer_;
};

std::vector<float> floats(const TensorRecord& r) {
  std::vector<float> v(r.data.size() / sizeof(float));
  std::memcpy(v.data(), r.data.data(), r.data.size());
  return v;
}

// ||gpu - cpu|| / ||cpu - before||: the GPU's error relative to the change the CPU made. Where the
// CPU changed nothing, anything but bitwise equality is an infinite error; so is a non-finite
// value.
double relative_change_error(const std::vector<float>& before, const std::vector<float>& cpu,
                             const std::vector<float>& gpu) {
  double error = 0, change = 0;
  bool identical = true;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    if (!std::isfinite(gpu[i])) return std::numeric_limits<double>::infinity();
    identical = identical && std::memcmp(&gpu[i], &cpu[i], sizeof(float)) == 0;
    const double e = double(gpu[i]) - double(cpu[i]), c = double(cpu[i]) - double(before[i]);
    error += e * e;
    change += c * c;
  }
  if (change == 0) return identical ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(error / change);
}

double change_tolerance(std::string_view name) {
  if (name.find(".running_") != std::string_view::npos) return running_statistics_change_tolerance;
  if (name.starts_with("optimizer.") || name == "ema.D") return moment_change_tolerance;
  if (name.starts_with("G.")) return g_change_tolerance;
  return d_change_tolerance;
}

void expect_same_position(const Safetensors& cpu, const Safetensors& gpu) {
  for (const char* key : {"global_step", "epoch", "iteration"})
    EXPECT_EQ(gpu.metadata.at(key), cpu.metadata.at(key)) << key;
}

// Every tensor of `cpu` is in `gpu` with the same type and shape; returns false (with a failure)
// where not.
bool same_layout(const TensorRecord& cpu, const TensorRecord* gpu) {
  if (!gpu) {
    ADD_FAILURE() << cpu.name << " is missing from the GPU checkpoint";
    return false;
  }
  if (gpu->dtype != cpu.dtype || gpu->shape != cpu.shape) {
    ADD_FAILURE() << cpu.name << " has another type or shape in the GPU checkpoint";
    return false;
  }
  return true;
}

// The freshly built trainers: float tensors within initial_state_tolerance relative L2 (equal
// where the CPU's is all zeros), integer tensors equal.
void expect_same_initial_state(const Safetensors& cpu, const Safetensors& gpu) {
  ASSERT_EQ(gpu.tensors.size(), cpu.tensors.size());
  for (const TensorRecord& c : cpu.tensors) {
    const TensorRecord* g = gpu.find(c.name);
    if (!same_layout(c, g)) continue;
    if (c.dtype != DType::f32) {
      EXPECT_TRUE(g->data == c.data) << c.name << " differs in the initial state";
      continue;
    }
    const std::vector<float> zeros(c.data.size() / sizeof(float), 0.0f);
    EXPECT_LE(relative_change_error(zeros, floats(c), floats(*g)), initial_state_tolerance)
        << c.name << " in the initial state (relative L2 against the CPU's)";
  }
  expect_same_position(cpu, gpu);
}

// The state after one iteration from the common state `before`.
void expect_same_iteration(const Safetensors& before, const Safetensors& cpu,
                           const Safetensors& gpu, int iteration) {
  ASSERT_EQ(gpu.tensors.size(), cpu.tensors.size());
  for (const TensorRecord& c : cpu.tensors) {
    const TensorRecord* g = gpu.find(c.name);
    if (!same_layout(c, g)) continue;
    if (c.dtype != DType::f32) {
      EXPECT_TRUE(g->data == c.data) << c.name << " after iteration " << iteration;
      continue;
    }
    EXPECT_LE(relative_change_error(floats(before.at(c.name)), floats(c), floats(*g)),
              change_tolerance(c.name))
        << c.name << " after iteration " << iteration
        << " (relative L2 of the GPU's change against the CPU's)";
  }
  expect_same_position(cpu, gpu);
}

void expect_loss_close(double cpu, double gpu, double tolerance, const char* what, int iteration) {
  EXPECT_TRUE(std::isfinite(gpu)) << what << " at iteration " << iteration;
  EXPECT_LE(std::abs(gpu - cpu), tolerance * std::abs(cpu))
      << what << " at iteration " << iteration << ": cpu " << cpu << ", gpu " << gpu;
}

void expect_gradients_close(const std::vector<float>& cpu, const std::vector<float>& gpu,
                            const char* what, int iteration) {
  ASSERT_EQ(gpu.size(), cpu.size());
  const test::ErrorStats e =
      test::error_stats(std::span<const float>(cpu), std::span<const float>(gpu));
  EXPECT_EQ(e.non_finite, 0u) << what << " at iteration " << iteration;
  EXPECT_LE(e.rel_l2, gradient_tolerance)
      << what << " at iteration " << iteration << " (relative L2; worst element " << e.worst_index
      << ": cpu " << cpu[e.worst_index] << ", gpu " << gpu[e.worst_index] << ")";
}

void expect_matches_cpu_iteration_by_iteration(const std::string& recipe, Backend backend) {
  const test::TempDir dir("sgan-trainer-parity");
  const fs::path data = dir.path() / "data";
  test::write_synthetic_mnist(data, train_images, test_images);
  Run cpu(Backend::cpu, tiny(recipe, Backend::cpu, data));
  Run gpu(backend, tiny(recipe, backend, data));
  const fs::path cpu_file = dir.path() / "cpu.safetensors",
                 gpu_file = dir.path() / "gpu.safetensors";

  Safetensors before = cpu.checkpoint(cpu_file);
  expect_same_initial_state(before, gpu.checkpoint(gpu_file));
  for (int i = 1; i <= iterations && !::testing::Test::HasFailure(); ++i) {
    gpu.trainer().load_checkpoint(cpu_file); // the CPU's state before iteration i
    cpu.trainer().step();
    gpu.trainer().step();

    const LossReading c = cpu.trainer().read_losses(), g = gpu.trainer().read_losses();
    ASSERT_EQ(c.iterations, 1);
    ASSERT_EQ(g.iterations, 1);
    expect_loss_close(c.d_supervised, g.d_supervised, d_loss_tolerance, "D's supervised loss", i);
    expect_loss_close(c.d_unsupervised, g.d_unsupervised, d_loss_tolerance, "D's unsupervised loss",
                      i);
    expect_loss_close(c.g, g.g, g_loss_tolerance, "G's loss", i);
    expect_gradients_close(cpu.d_grads(), gpu.d_grads(), "D's gradients", i);
    expect_gradients_close(cpu.g_grads(), gpu.g_grads(), "G's gradients", i);

    Safetensors after = cpu.checkpoint(cpu_file);
    expect_same_iteration(before, after, gpu.checkpoint(gpu_file), i);
    before = std::move(after);
  }
}

// What a run on the cuda backend produced: the losses of every iteration, the final checkpoint
// and the gradients of the last iteration.
struct Trajectory {
  std::vector<LossReading> losses;
  Safetensors state;
  std::vector<float> d_grads, g_grads;
};

// `count` iterations of `config` on the cuda backend, from `resume` if not empty; the final
// checkpoint is written to `save`. One run at a time: cuBLAS promises bitwise-reproducible
// results only while a single stream is active.
Trajectory run_on_cuda(const TrainConfig& config, int count, const fs::path& resume,
                       const fs::path& save) {
  Run run(Backend::cuda, config);
  if (!resume.empty()) run.trainer().load_checkpoint(resume);
  Trajectory t;
  for (int i = 0; i < count; ++i) {
    run.trainer().step();
    t.losses.push_back(run.trainer().read_losses());
  }
  t.state = run.checkpoint(save);
  t.d_grads = run.d_grads();
  t.g_grads = run.g_grads();
  return t;
}

void expect_bitwise_equal_losses(const LossReading& a, const LossReading& b, int iteration) {
  EXPECT_EQ(a.d_supervised, b.d_supervised) << "D's supervised loss at iteration " << iteration;
  EXPECT_EQ(a.d_unsupervised, b.d_unsupervised)
      << "D's unsupervised loss at iteration " << iteration;
  EXPECT_EQ(a.g, b.g) << "G's loss at iteration " << iteration;
}

void expect_bitwise_equal_states(const Safetensors& a, const Safetensors& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const TensorRecord& r : a.tensors) {
    const TensorRecord* other = b.find(r.name);
    ASSERT_NE(other, nullptr) << r.name;
    EXPECT_TRUE(other->data == r.data) << r.name << " differs";
  }
  expect_same_position(a, b);
}

void expect_graph_replay_equals_op_by_op(const std::string& recipe) {
  const test::TempDir dir("sgan-trainer-graph");
  const fs::path data = dir.path() / "data";
  test::write_synthetic_mnist(data, train_images, test_images);
  TrainConfig config = tiny(recipe, Backend::cuda, data);
  config.cuda_graph = true;
  const Trajectory graph = run_on_cuda(config, iterations, {}, dir.path() / "graph.safetensors");
  config.cuda_graph = false;
  const Trajectory eager = run_on_cuda(config, iterations, {}, dir.path() / "eager.safetensors");

  for (int i = 0; i < iterations; ++i)
    expect_bitwise_equal_losses(eager.losses[std::size_t(i)], graph.losses[std::size_t(i)], i + 1);
  expect_bitwise_equal_states(eager.state, graph.state);
  EXPECT_TRUE(graph.d_grads == eager.d_grads) << "D's gradients of the last iteration";
  EXPECT_TRUE(graph.g_grads == eager.g_grads) << "G's gradients of the last iteration";
}

void expect_resumed_run_equals_straight_run(const std::string& recipe) {
  const test::TempDir dir("sgan-trainer-resume");
  const fs::path data = dir.path() / "data";
  test::write_synthetic_mnist(data, train_images, test_images);
  const TrainConfig config = tiny(recipe, Backend::cuda, data);
  const int first = iterations / 2;
  const Trajectory straight =
      run_on_cuda(config, iterations, {}, dir.path() / "straight.safetensors");
  const fs::path halfway = dir.path() / "halfway.safetensors";
  run_on_cuda(config, first, {}, halfway);
  const Trajectory resumed =
      run_on_cuda(config, iterations - first, halfway, dir.path() / "resumed.safetensors");

  for (int i = first; i < iterations; ++i)
    expect_bitwise_equal_losses(straight.losses[std::size_t(i)],
                                resumed.losses[std::size_t(i - first)], i + 1);
  expect_bitwise_equal_states(straight.state, resumed.state);
  EXPECT_TRUE(straight.d_grads == resumed.d_grads) << "D's gradients of the last iteration";
  EXPECT_TRUE(straight.g_grads == resumed.g_grads) << "G's gradients of the last iteration";
}

TEST(TrainerParityTest, ImprovedRecipeOnCudaMatchesCpuIterationByIteration) {
  SGAN_REQUIRE_GPU();
  expect_matches_cpu_iteration_by_iteration("improved", Backend::cuda);
}

TEST(TrainerParityTest, ArticleRecipeOnCudaMatchesCpuIterationByIteration) {
  SGAN_REQUIRE_GPU();
  expect_matches_cpu_iteration_by_iteration("article", Backend::cuda);
}

TEST(TrainerParityTest, ImprovedRecipeOnCudnnMatchesCpuIterationByIteration) {
  SGAN_REQUIRE_GPU();
  std::string reason;
  if (!backend_available(Backend::cudnn, &reason)) GTEST_SKIP() << reason;
  expect_matches_cpu_iteration_by_iteration("improved", Backend::cudnn);
}

TEST(TrainerParityTest, ArticleRecipeOnCudnnMatchesCpuIterationByIteration) {
  SGAN_REQUIRE_GPU();
  std::string reason;
  if (!backend_available(Backend::cudnn, &reason)) GTEST_SKIP() << reason;
  expect_matches_cpu_iteration_by_iteration("article", Backend::cudnn);
}

TEST(TrainerParityTest, ImprovedRecipeCudaGraphReplayEqualsOpByOpBitwise) {
  SGAN_REQUIRE_GPU();
  expect_graph_replay_equals_op_by_op("improved");
}

TEST(TrainerParityTest, ArticleRecipeCudaGraphReplayEqualsOpByOpBitwise) {
  SGAN_REQUIRE_GPU();
  expect_graph_replay_equals_op_by_op("article");
}

TEST(TrainerParityTest, ImprovedRecipeResumedRunEqualsStraightRunBitwiseOnCuda) {
  SGAN_REQUIRE_GPU();
  expect_resumed_run_equals_straight_run("improved");
}

TEST(TrainerParityTest, ArticleRecipeResumedRunEqualsStraightRunBitwiseOnCuda) {
  SGAN_REQUIRE_GPU();
  expect_resumed_run_equals_straight_run("article");
}

} // namespace
} // namespace sgan
