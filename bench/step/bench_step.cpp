// sgan_bench_step: one whole SGAN training iteration (D step on the concatenated batch, then the
// G step), both recipes, on our CUDA backend with and without CUDA-graph replay and on the cudnn
// backend. Each case reports its median iteration time and iterations per second, and the
// uncaptured cases the split between the D step and the G step, all from CUDA events.
//
//   sgan_bench_step [--smoke] [Google Benchmark flags, e.g. --benchmark_out=step.json]
//
// The data are random MNIST-shaped images: an iteration's cost does not depend on their content.
// Without a usable GPU, --smoke (and a plain run) runs two iterations of each recipe on the CPU
// backend, says that nothing was timed on a GPU, and exits 0.
#include "bench/benchmark_args.h"
#include "bench/random_images.h"
#include "engine/core/context.h"
#include "engine/data/labeled_split.h"
#include "engine/data/mnist.h"
#include "engine/sgan/config.h"
#include "engine/sgan/trainer.h"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <string>
#include <vector>

#if defined(SGAN_WITH_CUDA)
#include "kernels/cuda/check.h"

#include <cuda_runtime.h>
#endif

namespace sgan {
namespace {

constexpr const char* usage =
    "sgan_bench_step: one whole SGAN training iteration (the D step on the concatenated batch,\n"
    "then the G step), both recipes at batch 64, 100 and 256, on our CUDA backend with and\n"
    "without CUDA-graph replay and on the cudnn backend: the median iteration time, iterations\n"
    "per second, and the D/G split of the uncaptured cases, from CUDA events.\n"
    "\n"
    "Usage: sgan_bench_step [--smoke] [Google Benchmark flags, e.g. --benchmark_out=step.json]\n"
    "\n"
    "  --smoke   two iterations of each recipe: a check that the path runs, not a measurement\n"
    "\n"
    "Without a usable GPU it runs the smoke iterations on the CPU backend, says that nothing was\n"
    "timed on a GPU, and exits 0; 2 on an unknown flag.\n";

struct StepCase {
  std::string recipe;
  int batch_size;
  Backend backend;
  bool cuda_graph;
  int train_images; // the synthetic training set
  int iterations;   // timed iterations (after the warm-up)
};

std::string engine_name(const StepCase& c) {
  if (c.backend == Backend::cuda) return c.cuda_graph ? "sgan-cuda-graph" : "sgan-cuda";
  return std::string("sgan-") + std::string(backend_name(c.backend));
}

std::unique_ptr<SganTrainer> make_trainer(const StepCase& c, Context& ctx) {
  TrainConfig config = recipe_defaults(c.recipe);
  config.batch_size = c.batch_size;
  config.device = std::string(backend_name(c.backend));
  config.cuda_graph = c.cuda_graph;
  config.init_batch = std::min(config.init_batch, c.train_images);
  SemiSupervisedSet train =
      make_semi_supervised_set(bench::random_images(c.train_images, 1), config.labels, config.seed);
  return std::make_unique<SganTrainer>(config, ctx, std::move(train),
                                       bench::random_images(1000, 2));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

#if defined(SGAN_WITH_CUDA)
// CUDA events recorded at the start of an iteration and at each phase boundary.
class PhaseEvents {
public:
  PhaseEvents() {
    for (cudaEvent_t* e : {&start_, &discriminator_, &end_}) CUDA_CHECK(cudaEventCreate(e));
  }
  ~PhaseEvents() {
    for (cudaEvent_t e : {start_, discriminator_, end_}) cudaEventDestroy(e);
  }
  PhaseEvents(const PhaseEvents&) = delete;
  PhaseEvents& operator=(const PhaseEvents&) = delete;

  void start(cudaStream_t s) { CUDA_CHECK(cudaEventRecord(start_, s)); }
  void mark(SganTrainer::Phase phase, cudaStream_t s) {
    CUDA_CHECK(cudaEventRecord(
        phase == SganTrainer::Phase::discriminator_step_enqueued ? discriminator_ : end_, s));
  }
  void end(cudaStream_t s) { CUDA_CHECK(cudaEventRecord(end_, s)); }
  float total_ms() const { return elapsed(start_, end_); }
  float discriminator_ms() const { return elapsed(start_, discriminator_); }

private:
  static float elapsed(cudaEvent_t a, cudaEvent_t b) {
    CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return ms;
  }
  cudaEvent_t start_ = nullptr, discriminator_ = nullptr, end_ = nullptr;
};

// Times c.iterations iterations one by one with CUDA events, after a warm-up that includes the
// graph capture. The uncaptured cases also time the D step apart (the rest is the G step).
void time_on_gpu(benchmark::State& state, const StepCase& c) {
  Context ctx(c.backend);
  auto trainer = make_trainer(c, ctx);
  for (int i = 0; i < 10; ++i) trainer->step();
  ctx.synchronize();

  PhaseEvents events;
  const bool phases = !c.cuda_graph || c.backend != Backend::cuda;
  if (phases)
    trainer->set_phase_observer([&](SganTrainer::Phase p) { events.mark(p, ctx.stream()); });
  std::vector<double> total, discriminator;
  for (auto _ : state) {
    events.start(ctx.stream());
    trainer->step();
    if (!phases) events.end(ctx.stream());
    total.push_back(events.total_ms());
    if (phases) discriminator.push_back(events.discriminator_ms());
    state.SetIterationTime(total.back() * 1e-3);
  }
  const double ms = median(total);
  state.counters["median_ms"] = ms;
  state.counters["it_per_s"] = 1e3 / ms;
  if (phases) {
    const double d_ms = median(discriminator);
    state.counters["d_step_ms"] = d_ms;
    state.counters["g_step_ms"] = ms - d_ms;
  }
  // What one replay runs: each node costs a launch gap on top of its work, so these say how much
  // of median_ms the node count alone can explain (bench/TUNING.md).
  if (trainer->uses_cuda_graph()) {
    const CudaGraphNodes nodes = trainer->cuda_graph().nodes();
    state.counters["graph_nodes"] = double(nodes.total);
    state.counters["graph_kernels"] = double(nodes.kernels);
  }
  state.SetLabel(engine_name(c));
}
#endif

// The CPU smoke run: the same iteration code end to end, timed by the host clock only so that the
// case does something; these numbers are not benchmark results.
void run_on_cpu(benchmark::State& state, const StepCase& c) {
  Context ctx(c.backend);
  auto trainer = make_trainer(c, ctx);
  for (auto _ : state) trainer->step();
  state.SetLabel(engine_name(c) + " (smoke, not a GPU timing)");
}

void register_case(const StepCase& c) {
  const std::string name = fmt::format("step/{}/n{}/{}", c.recipe, c.batch_size, engine_name(c));
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [c](benchmark::State& state) {
#if defined(SGAN_WITH_CUDA)
    if (c.backend != Backend::cpu) return time_on_gpu(state, c);
#endif
    run_on_cpu(state, c);
  });
  b->Iterations(c.iterations)->Unit(benchmark::kMillisecond);
  if (c.backend != Backend::cpu) b->UseManualTime();
}

// Whether the GPU backends can run here; `reason` says why not.
bool gpu_usable(std::string* reason) { return backend_available(Backend::cuda, reason); }

} // namespace
} // namespace sgan

int main(int argc, char** argv) {
  using namespace sgan;
  bool smoke = false;
  if (!sgan::bench::initialize_benchmark(argc, argv, usage, &smoke)) return 2;

  std::string reason;
  if (!gpu_usable(&reason)) {
    std::printf("sgan_bench_step: no usable GPU (%s): running the CPU smoke mode; nothing is "
                "timed on a GPU\n",
                reason.c_str());
    for (const char* recipe : {"improved", "article"})
      register_case({recipe, 8, Backend::cpu, false, 600, 2});
  } else {
    std::string cudnn_reason;
    const bool cudnn = backend_available(Backend::cudnn, &cudnn_reason);
    if (!cudnn) std::printf("sgan_bench_step: cudnn backend left out: %s\n", cudnn_reason.c_str());
    const std::vector<int> batches = smoke ? std::vector<int>{64} : std::vector<int>{64, 100, 256};
    const int iterations = smoke ? 3 : 200;
    for (const char* recipe : {"improved", "article"})
      for (int n : batches) {
        register_case({recipe, n, Backend::cuda, true, 60000, iterations});
        register_case({recipe, n, Backend::cuda, false, 60000, iterations});
        if (cudnn) register_case({recipe, n, Backend::cudnn, false, 60000, iterations});
      }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
