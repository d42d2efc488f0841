#include "engine/sgan/config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace sgan {

TrainConfig recipe_defaults(const std::string& recipe) {
  TrainConfig c;
  if (recipe == "improved") {
    // Salimans et al. 2016 / openai/improved-gan train_mnist_feature_matching.py (REFERENCES.md).
    c.recipe = recipe;
    c.epochs = 300;
    c.batch_size = 100;
    c.lr = c.final_lr = 3e-3f;
    c.beta1 = 0.5f;
    c.unsup_weight = 0.5f;
    c.fake_logit = FakeLogit::zero;
    c.g_loss = GeneratorLoss::feature_matching;
    c.ema_rate = 1e-4f;
    return c;
  }
  if (recipe == "article") {
    // The seed article's conv D and DCGAN G, with SGAN.md's corrected losses.
    c.recipe = recipe;
    c.epochs = 50;
    c.batch_size = 64;
    c.lr = c.final_lr = 2e-4f;
    c.beta1 = 0.5f;
    c.unsup_weight = 1.0f;
    c.fake_logit = FakeLogit::explicit_logit;
    c.g_loss = GeneratorLoss::nonsat;
    c.ema_rate = 0.0f;
    return c;
  }
  throw std::invalid_argument(
      fmt::format("unknown recipe '{}': choose 'improved' or 'article'", recipe));
}

void validate(const TrainConfig& c) {
  auto fail = [](const std::string& m) { throw std::invalid_argument(m); };
  if (c.recipe != "improved" && c.recipe != "article")
    fail(fmt::format("--recipe must be 'improved' or 'article', got '{}'", c.recipe));
  if (c.labels <= 0) fail(fmt::format("--labels must be positive, got {}", c.labels));
  if (c.labels % 10 != 0)
    fail(fmt::format("--labels must be a multiple of 10 (the same number per class), got {}",
                     c.labels));
  if (c.labels > 60000)
    fail(fmt::format("--labels cannot exceed the 60000 training images, got {}", c.labels));
  if (c.epochs <= 0) fail(fmt::format("--epochs must be positive, got {}", c.epochs));
  if (c.steps < 0) fail(fmt::format("--steps must be zero (no limit) or positive, got {}", c.steps));
  if (c.batch_size <= 0 || c.batch_size > 4096)
    fail(fmt::format("--batch-size must be between 1 and 4096, got {}", c.batch_size));
  if (!(c.lr > 0.0f)) fail(fmt::format("--lr must be positive, got {}", c.lr));
  if (!(c.final_lr >= 0.0f)) fail(fmt::format("--final-lr must not be negative, got {}", c.final_lr));
  if (c.decay_start_epoch < 0 || c.decay_start_epoch > c.epochs)
    fail(fmt::format("--decay-start-epoch must be between 0 and --epochs, got {}",
                     c.decay_start_epoch));
  if (!(c.beta1 >= 0.0f && c.beta1 < 1.0f))
    fail(fmt::format("--beta1 must be in [0, 1), got {}", c.beta1));
  if (!(c.unsup_weight >= 0.0f))
    fail(fmt::format("--unsup-weight must not be negative, got {}", c.unsup_weight));
  if (!(c.ema_rate >= 0.0f && c.ema_rate <= 1.0f))
    fail(fmt::format("--ema-rate must be in [0, 1], got {}", c.ema_rate));
  if (c.init_batch <= 0) fail(fmt::format("--init-batch must be positive, got {}", c.init_batch));
  if (c.eval_every < 0 || c.sample_every < 0 || c.checkpoint_every < 0)
    fail("--eval-every, --sample-every and --checkpoint-every must not be negative");
  if (c.data_dir.empty()) fail("--data must name a directory");
  if (c.tf32 && c.device != "cuda")
    fail(fmt::format("--tf32 needs --device cuda (only our CUDA kernels have a TF32 path), got "
                     "--device {}",
                     c.device));
}

// A float as the double nearest its shortest decimal form (3e-3f becomes 0.003, not
// 0.003000000026077032): readable in config.json, and converting back to float gives the same
// float, so a configuration read from JSON compares equal to the one written.
namespace {
double shortest_decimal(float f) { return std::stod(fmt::format("{}", f)); }
}  // namespace

nlohmann::json to_json(const TrainConfig& c) {
  return {{"recipe", c.recipe},
          {"labels", c.labels},
          {"epochs", c.epochs},
          {"steps", c.steps},
          {"batch_size", c.batch_size},
          {"lr", shortest_decimal(c.lr)},
          {"final_lr", shortest_decimal(c.final_lr)},
          {"decay_start_epoch", c.decay_start_epoch},
          {"beta1", shortest_decimal(c.beta1)},
          {"unsup_weight", shortest_decimal(c.unsup_weight)},
          {"fake_logit", fake_logit_name(c.fake_logit)},
          {"g_loss", generator_loss_name(c.g_loss)},
          {"supervised_only", c.supervised_only},
          {"ema_rate", shortest_decimal(c.ema_rate)},
          {"init_batch", c.init_batch},
          {"seed", c.seed},
          {"device", c.device},
          {"cuda_graph", c.cuda_graph},
          {"tf32", c.tf32},
          {"data_dir", c.data_dir},
          {"out_dir", c.out_dir},
          {"resume", c.resume},
          {"eval_every", c.eval_every},
          {"sample_every", c.sample_every},
          {"checkpoint_every", c.checkpoint_every}};
}

std::optional<SettingDifference> run_identity_difference(const TrainConfig& a,
                                                         const TrainConfig& b) {
  std::optional<SettingDifference> difference;
  auto check = [&](const char* flag, const auto& x, const auto& y) {
    if (!difference && x != y)
      difference = SettingDifference{flag, nlohmann::json(x).dump(), nlohmann::json(y).dump()};
  };
  check("--recipe", a.recipe, b.recipe);
  check("--labels", a.labels, b.labels);
  check("--batch-size", a.batch_size, b.batch_size);
  check("--seed", a.seed, b.seed);
  check("--fake-logit", std::string(fake_logit_name(a.fake_logit)),
        std::string(fake_logit_name(b.fake_logit)));
  check("--g-loss", std::string(generator_loss_name(a.g_loss)),
        std::string(generator_loss_name(b.g_loss)));
  check("--supervised-only", a.supervised_only, b.supervised_only);
  check("--ema-rate", a.ema_rate, b.ema_rate);
  return difference;
}

TrainConfig config_from_json(const nlohmann::json& j) {
  TrainConfig c = recipe_defaults(j.at("recipe").get<std::string>());
  c.labels = j.at("labels");
  c.epochs = j.at("epochs");
  c.steps = j.at("steps");
  c.batch_size = j.at("batch_size");
  c.lr = j.at("lr");
  c.final_lr = j.at("final_lr");
  c.decay_start_epoch = j.at("decay_start_epoch");
  c.beta1 = j.at("beta1");
  c.unsup_weight = j.at("unsup_weight");
  c.fake_logit = parse_fake_logit(j.at("fake_logit"));
  c.g_loss = parse_generator_loss(j.at("g_loss"));
  c.supervised_only = j.at("supervised_only");
  c.ema_rate = j.at("ema_rate");
  c.init_batch = j.at("init_batch");
  c.seed = j.at("seed");
  c.device = j.at("device");
  c.cuda_graph = j.at("cuda_graph");
  c.tf32 = j.value("tf32", false); // configurations from before --tf32 computed in FP32
  c.data_dir = j.at("data_dir");
  c.out_dir = j.at("out_dir");
  c.resume = j.at("resume");
  c.eval_every = j.at("eval_every");
  c.sample_every = j.at("sample_every");
  c.checkpoint_every = j.at("checkpoint_every");
  return c;
}

const char* fake_logit_name(FakeLogit f) { return f == FakeLogit::zero ? "zero" : "explicit"; }
const char* generator_loss_name(GeneratorLoss g) {
  return g == GeneratorLoss::nonsat ? "nonsat" : "feature-matching";
}
FakeLogit parse_fake_logit(const std::string& s) {
  if (s == "zero") return FakeLogit::zero;
  if (s == "explicit") return FakeLogit::explicit_logit;
  throw std::invalid_argument(fmt::format("--fake-logit must be 'explicit' or 'zero', got '{}'", s));
}
GeneratorLoss parse_generator_loss(const std::string& s) {
  if (s == "nonsat") return GeneratorLoss::nonsat;
  if (s == "feature-matching") return GeneratorLoss::feature_matching;
  throw std::invalid_argument(
      fmt::format("--g-loss must be 'nonsat' or 'feature-matching', got '{}'", s));
}

}  // namespace sgan
