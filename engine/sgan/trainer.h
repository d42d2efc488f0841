#pragma once
// The semi-supervised GAN trainer (SGAN.md): the alternating D step / G step, one concatenated D
// forward per D step, everything resident on the device, no host synchronisation inside an
// iteration (losses accumulate on the device and are read at log points), optional CUDA-graph
// replay of the whole iteration, per-epoch test evaluation, sample grids, metrics and checkpoints.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/arena.h"
#include "engine/core/context.h"
#include "engine/core/cuda_graph.h"
#include "engine/data/labeled_split.h"
#include "engine/data/mnist.h"
#include "engine/graph/model.h"
#include "engine/sgan/config.h"
#include "engine/sgan/epoch_order.h"
#include "engine/sgan/recipes.h"
#include "engine/train/optimizer.h"
#include "engine/train/parameter_average.h"
#include "kernels/sgan_loss.h"

namespace sgan {

// Losses of the iterations since the last read, averaged per iteration.
struct LossReading {
  double d_supervised = 0, d_unsupervised = 0, g = 0;
  std::int64_t iterations = 0;
};

struct Evaluation {
  int correct = 0, total = 0;
  double accuracy() const { return total ? double(correct) / total : 0.0; }
};

class SganTrainer {
 public:
  // `train` is the split training set (unlabeled labels already gone), `test` the test set.
  SganTrainer(const TrainConfig& config, Context& ctx, SemiSupervisedSet train, Dataset test);
  ~SganTrainer();

  // Runs one iteration (D step, then G step unless supervised-only) on the next batches.
  void step();

  // The boundaries of an iteration, for a per-phase time split (sgan_bench_step records a CUDA
  // event at each). The observer is called on the host as each phase has been enqueued, only
  // when the iteration is enqueued op by op: a replayed CUDA graph has no boundaries to report.
  enum class Phase { discriminator_step_enqueued, iteration_enqueued };
  void set_phase_observer(std::function<void(Phase)> observer) { phase_observer_ = std::move(observer); }
  LossReading read_losses();  // synchronises; resets the accumulators
  Evaluation evaluate();      // the full test set, eval mode, EMA weights where configured
  // n images of G in eval mode from fixed noise, on the host, in [pixel_lo, pixel_hi].
  std::vector<float> samples(int n);

  void save_checkpoint(const std::filesystem::path& path, double best_accuracy) const;
  // Restores everything a checkpoint holds. Settings that fix shapes, the split or the meaning of
  // saved numbers must match (else std::runtime_error naming the flag); the others may change on
  // resume (e.g. more --epochs), which leaves the saved run's trajectory: they are listed.
  struct Resumed {
    double best_accuracy = 0.0;
    std::vector<std::string> changed_settings;  // e.g. "--lr 0.003 -> 0.001"
  };
  Resumed load_checkpoint(const std::filesystem::path& path);

  std::int64_t global_step() const { return global_step_; }
  int epoch() const { return epoch_; }
  int iteration_in_epoch() const { return iteration_; }
  int iterations_per_epoch() const { return iterations_per_epoch_; }
  const TrainConfig& config() const { return config_; }
  const RecipeTraits& traits() const { return traits_; }
  Model& discriminator() { return *d_; }
  Model& generator() { return *g_; }
  const LabeledSet& labeled() const { return labeled_; }
  // Whether iterations replay one captured CUDA graph (config cuda_graph on the cuda backend),
  // and that graph: captured() from the second step on.
  bool uses_cuda_graph() const;
  const CudaGraph& cuda_graph() const { return graph_; }

 private:
  void prepare_epoch();
  void enqueue_iteration();
  void discriminator_step();
  void generator_step();
  void draw_noise(const std::uint64_t* counter);
  void advance_counter();
  void swap_in_average();  // D's weights := the average; the raw ones kept in raw_weights_
  void notify(Phase phase) const;

  TrainConfig config_;
  RecipeTraits traits_;
  Context& ctx_;
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<Model> d_, g_;
  std::unique_ptr<Optimizer> d_opt_, g_opt_;

  LabeledSet labeled_;
  UnlabeledSet unlabeled_;
  int n_ = 0;          // rows of each kind per iteration
  int d_rows_ = 0;     // rows of D's concatenated batch
  int g_rows_ = 0;     // rows G is built for (>= 64 for the sample grid)
  int logits_ = 0;     // logits per row
  int iterations_per_epoch_ = 0;
  int test_count_ = 0;

  // Device-resident data and batch buffers (all from the arena).
  Tensor train_images_, test_images_;
  std::int32_t* test_labels_ = nullptr;
  std::int32_t* epoch_unlabeled_ = nullptr;  // iterations * n indices of this epoch
  std::int32_t* epoch_generator_unlabeled_ = nullptr;  // the G step's, another permutation
  std::int32_t* epoch_labeled_ = nullptr;
  std::int32_t* epoch_labels_ = nullptr;
  std::int32_t* batch_unlabeled_ = nullptr;  // this iteration's n indices
  std::int32_t* batch_generator_unlabeled_ = nullptr;
  std::int32_t* batch_labeled_ = nullptr;
  std::int32_t* batch_labels_ = nullptr;     // d_rows_ labels; only the labeled rows are set
  Tensor d_input_, noise_;
  SganRow* d_kinds_ = nullptr;
  float* d_weights_ = nullptr;
  SganRow* g_kinds_ = nullptr;
  float* g_weights_ = nullptr;
  SganRow* eval_kinds_ = nullptr;
  float* eval_weights_ = nullptr;
  float* row_loss_ = nullptr;
  Tensor dlogits_;
  std::int32_t* correct_ = nullptr;  // test_count_ flags
  Tensor feature_grad_;              // 2n rows of D's feature layer
  float* fm_loss_ = nullptr;
  float* scratch_sum_ = nullptr;
  float* loss_sums_ = nullptr;       // [d_supervised, d_unsupervised, g]
  std::int32_t* correct_count_ = nullptr;
  std::optional<ParameterAverage> average_;  // of D's parameters, where the recipe evaluates it
  Tensor raw_weights_;
  std::uint64_t* counter_ = nullptr;        // advanced twice per iteration
  std::uint64_t* sample_counter_ = nullptr; // fixed at 0: the same sample noise every time
  RngState rng_;

  std::int64_t global_step_ = 0;
  std::int64_t losses_since_read_ = 0;
  int epoch_ = 0, iteration_ = 0;
  bool epoch_ready_ = false;
  CudaGraph graph_;
  bool warmed_up_ = false;
  std::function<void(Phase)> phase_observer_;
};

}  // namespace sgan
