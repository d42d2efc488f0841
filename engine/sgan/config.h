#pragma once
// Everything that defines a training run. A recipe fills in its defaults (SGAN.md "Recipes",
// REFERENCES.md), flags override them, validate() rejects impossible combinations with one clear
// sentence, and the whole thing is echoed, written to config.json and stored in every checkpoint.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace sgan {

enum class FakeLogit { explicit_logit, zero };        // K+1 logits, or K with l_K fixed at 0
enum class GeneratorLoss { nonsat, feature_matching };

struct TrainConfig {
  std::string recipe = "improved";  // "article" or "improved"
  int labels = 100;                 // labeled training images, a multiple of 10
  int epochs = 300;
  std::int64_t steps = 0;           // stop after this many iterations (0: run all epochs)
  int batch_size = 100;             // rows of each kind (labeled, unlabeled, fake) per iteration
  float lr = 3e-3f;
  float final_lr = 3e-3f;           // linear decay from lr to final_lr over decay_epochs..epochs
  int decay_start_epoch = 0;
  float beta1 = 0.5f;
  float unsup_weight = 0.5f;
  FakeLogit fake_logit = FakeLogit::zero;
  GeneratorLoss g_loss = GeneratorLoss::feature_matching;
  bool supervised_only = false;
  float ema_rate = 1e-4f;           // bias-corrected EMA of D for evaluation; 0: the raw weights
  int init_batch = 500;             // images for weight-norm data-dependent init (improved)
  std::uint64_t seed = 1;
  std::string device = "cuda";      // cpu, cuda or cudnn
  bool cuda_graph = true;           // capture the iteration as one CUDA graph (cuda backend)
  bool tf32 = false;                // convolutions on TF32 tensor cores (cuda backend), ~1e-3
  int cpu_threads = 0;              // threads of the cpu backend's products (0: all); any count
                                    // gives the same bits (kernels/cpu/parallel.h)
  std::string data_dir = "data/mnist";
  std::string out_dir;              // default runs/<recipe>-<labels>-s<seed>
  std::string resume;               // checkpoint to continue from
  std::int64_t eval_every = 0;      // iterations between test evaluations (0: once per epoch)
  std::int64_t sample_every = 0;    // iterations between sample grids (0: once per epoch)
  std::int64_t checkpoint_every = 0;  // iterations between checkpoints (0: at each evaluation)
};

// The defaults of a named recipe; throws std::invalid_argument for an unknown name.
TrainConfig recipe_defaults(const std::string& recipe);
// Throws std::invalid_argument with one sentence naming the offending flag.
void validate(const TrainConfig& config);

// A setting on which two configurations differ, with each one's value as JSON text.
struct SettingDifference {
  std::string flag;  // e.g. "--labels"
  std::string first, second;
};
// The first setting that makes `a` and `b` configurations of different runs: those fixing the
// shapes, the labeled split and the meaning of every number a checkpoint saves (the rest, such as
// the learning rate, a resumed run may change). None where they describe the same run.
std::optional<SettingDifference> run_identity_difference(const TrainConfig& a,
                                                         const TrainConfig& b);

nlohmann::json to_json(const TrainConfig& config);
TrainConfig config_from_json(const nlohmann::json& j);

const char* fake_logit_name(FakeLogit f);
const char* generator_loss_name(GeneratorLoss g);
FakeLogit parse_fake_logit(const std::string& s);
GeneratorLoss parse_generator_loss(const std::string& s);

}  // namespace sgan
