#include "engine/sgan/config.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

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
  // A float flag past FLT_MAX reads as infinity, which would train on NaNs.
  if (!(c.lr > 0.0f) || !std::isfinite(c.lr))
    fail(fmt::format("--lr must be positive and finite, got {}", c.lr));
  if (!(c.final_lr >= 0.0f) || !std::isfinite(c.final_lr))
    fail(fmt::format("--final-lr must be finite and not negative, got {}", c.final_lr));
  if (c.decay_start_epoch < 0 || c.decay_start_epoch > c.epochs)
    fail(fmt::format("--decay-start-epoch must be between 0 and --epochs, got {}",
                     c.decay_start_epoch));
  if (!(c.beta1 >= 0.0f && c.beta1 < 1.0f))
    fail(fmt::format("--beta1 must be in [0, 1), got {}", c.beta1));
  if (!(c.unsup_weight >= 0.0f) || !std::isfinite(c.unsup_weight))
    fail(fmt::format("--unsup-weight must be finite and not negative, got {}", c.unsup_weight));
  if (!(c.ema_rate >= 0.0f && c.ema_rate <= 1.0f))
    fail(fmt::format("--ema-rate must be in [0, 1], got {}", c.ema_rate));
  if (c.cpu_threads < 0 || c.cpu_threads > 1024)
    fail(fmt::format("--cpu-threads must be between 0 (every hardware thread) and 1024, got {}",
                     c.cpu_threads));
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
          {"cpu_threads", c.cpu_threads},
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

namespace {

// The setting `key` of a configuration read back, as T, or an error naming the setting. nlohmann's
// get<T> would cast a fraction or an out-of-range number to an integer, or a double past FLT_MAX
// to a float, with undefined behaviour.
template <typename T> T setting(const nlohmann::json& j, const char* key) {
  const nlohmann::json& value = j.at(key);
  auto refuse = [&](const char* wanted) -> T {
    throw std::invalid_argument(
        fmt::format("setting \"{}\" is {}, not {}", key, value.dump(), wanted));
  };
  if constexpr (std::is_same_v<T, bool>) {
    return value.is_boolean() ? value.get<bool>() : refuse("true or false");
  } else if constexpr (std::is_same_v<T, std::string>) {
    return value.is_string() ? value.get<std::string>() : refuse("a string");
  } else if constexpr (std::is_integral_v<T>) {
    const bool fits = value.is_number_unsigned()  ? std::in_range<T>(value.get<std::uint64_t>())
                      : value.is_number_integer() ? std::in_range<T>(value.get<std::int64_t>())
                                                  : false;
    return fits ? value.get<T>() : refuse("an integer in range");
  } else {
    static_assert(std::is_same_v<T, float>);
    const bool fits = value.is_number() && std::isfinite(value.get<double>()) &&
                      std::abs(value.get<double>()) <= std::numeric_limits<float>::max();
    return fits ? value.get<float>() : refuse("a finite float");
  }
}

} // namespace

TrainConfig config_from_json(const nlohmann::json& j) {
  TrainConfig c = recipe_defaults(setting<std::string>(j, "recipe"));
  c.labels = setting<int>(j, "labels");
  c.epochs = setting<int>(j, "epochs");
  c.steps = setting<std::int64_t>(j, "steps");
  c.batch_size = setting<int>(j, "batch_size");
  c.lr = setting<float>(j, "lr");
  c.final_lr = setting<float>(j, "final_lr");
  c.decay_start_epoch = setting<int>(j, "decay_start_epoch");
  c.beta1 = setting<float>(j, "beta1");
  c.unsup_weight = setting<float>(j, "unsup_weight");
  c.fake_logit = parse_fake_logit(setting<std::string>(j, "fake_logit"));
  c.g_loss = parse_generator_loss(setting<std::string>(j, "g_loss"));
  c.supervised_only = setting<bool>(j, "supervised_only");
  c.ema_rate = setting<float>(j, "ema_rate");
  c.init_batch = setting<int>(j, "init_batch");
  c.seed = setting<std::uint64_t>(j, "seed");
  c.device = setting<std::string>(j, "device");
  c.cuda_graph = setting<bool>(j, "cuda_graph");
  // A configuration from before --tf32 computed in FP32.
  c.tf32 = j.contains("tf32") && setting<bool>(j, "tf32");
  // A configuration from before --cpu-threads ran on one thread: any count gives its bits.
  c.cpu_threads = j.contains("cpu_threads") ? setting<int>(j, "cpu_threads") : 0;
  c.data_dir = setting<std::string>(j, "data_dir");
  c.out_dir = setting<std::string>(j, "out_dir");
  c.resume = setting<std::string>(j, "resume");
  c.eval_every = setting<std::int64_t>(j, "eval_every");
  c.sample_every = setting<std::int64_t>(j, "sample_every");
  c.checkpoint_every = setting<std::int64_t>(j, "checkpoint_every");
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
