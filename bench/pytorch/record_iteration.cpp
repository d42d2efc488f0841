// sgan_record_iteration: runs the first K training iterations of a recipe through our trainer
// and writes everything needed to replay them elsewhere, so that bench/pytorch/sgan_torch.py can
// run the same iterations in PyTorch and compare (the second check of our losses and gradients):
//
//   OUT/before.safetensors   the trainer's checkpoint before the first iteration (both models
//                            after initialisation, the Philox counter)
//   OUT/inputs.safetensors   each iteration's images as stored pixels, stacked [K, n, 784]: the D
//                            step's labeled rows, their labels [K, n] and unlabeled rows; the G
//                            step's own unlabeled rows; the test images with their labels
//   OUT/after.safetensors    the checkpoint after K iterations (both models, Adam's moments and
//                            steps, D's parameter average)
//   OUT/iteration.json       the configuration, pixel range, latent distribution, Philox streams,
//                            each iteration's losses as the trainer measured them, and the
//                            trainer's evaluation after the last iteration (correct test images)
//
// The latent vectors and D's noise and dropout masks are not written: they are Philox draws the
// replay regenerates from the seed, the streams and the counter.
//
//   sgan_record_iteration --recipe improved --out DIR [--iterations K] [--device cpu|cuda|cudnn]
//                         [--batch-size N] [--seed S] [--fake-logit explicit|zero]
//                         [--g-loss nonsat|feature-matching] [--supervised-only]
//                         [--data MNIST_DIR]
//
// Without --data the images are uniform random pixels (1000 training, 1000 test). The K iterations
// lie in the first epoch. Exit codes: 0 done, 1 failure, 2 bad flags, 77 the device is not usable
// here (ctest reads it as a skip).
#include "bench/random_images.h"
#include "engine/core/context.h"
#include "engine/data/labeled_split.h"
#include "engine/data/mnist.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/sgan/config.h"
#include "engine/sgan/epoch_order.h"
#include "engine/sgan/random_streams.h"
#include "engine/sgan/trainer.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

constexpr int exit_device_unusable = 77;

struct Options {
  std::string recipe = "improved";
  std::filesystem::path out;
  std::string device = "cpu";
  int iterations = 1;
  int batch_size = 0; // 0: the recipe's
  std::uint64_t seed = 1;
  std::filesystem::path data;
  bool supervised_only = false;
  std::string fake_logit, g_loss; // empty: the recipe's
};

// The pixels of `indices`' images, image after image, as `iterations` batches of equal size.
TensorRecord pixel_rows(std::string name, const SemiSupervisedSet& set,
                        const std::vector<std::int32_t>& indices, int iterations) {
  const std::size_t row = std::size_t(set.rows) * std::size_t(set.cols);
  TensorRecord r{std::move(name),
                 DType::u8,
                 {iterations, std::int64_t(indices.size()) / iterations, std::int64_t(row)},
                 std::vector<std::byte>(indices.size() * row)};
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::memcpy(r.data.data() + i * row, set.pixels.data() + std::size_t(indices[i]) * row, row);
  return r;
}

TensorRecord int32_record(std::string name, std::vector<std::int64_t> shape,
                          const std::vector<std::int32_t>& values) {
  TensorRecord r{std::move(name), DType::i32, std::move(shape),
                 std::vector<std::byte>(values.size() * sizeof(std::int32_t))};
  std::memcpy(r.data.data(), values.data(), r.data.size());
  return r;
}

// The batches of the first `iterations` iterations, as the trainer draws them: the first
// iterations * n entries of epoch 0's order.
Safetensors first_iterations_inputs(const TrainConfig& config, const SemiSupervisedSet& set,
                                    int iterations) {
  const int n = config.batch_size;
  const std::vector<std::int32_t> labels(set.labeled.labels.begin(), set.labeled.labels.end());
  const EpochOrder order =
      epoch_order(config.seed, 0, n, set.labeled.indices, labels, set.unlabeled.indices);
  auto first = [rows =
                    std::size_t(iterations) * std::size_t(n)](const std::vector<std::int32_t>& v) {
    return std::vector<std::int32_t>(v.begin(), v.begin() + long(rows));
  };
  Safetensors inputs;
  inputs.tensors.push_back(pixel_rows("labeled_pixels", set, first(order.labeled), iterations));
  inputs.tensors.push_back(int32_record("labels", {iterations, n}, first(order.labeled_labels)));
  inputs.tensors.push_back(pixel_rows("unlabeled_pixels", set, first(order.unlabeled), iterations));
  inputs.tensors.push_back(
      pixel_rows("generator_unlabeled_pixels", set, first(order.generator_unlabeled), iterations));
  return inputs;
}

// The test set as the evaluation reads it: every image's pixels and label.
void add_test_set(Safetensors& inputs, const Dataset& test) {
  const std::int64_t row = std::int64_t(test.rows) * test.cols;
  TensorRecord pixels{
      "test_pixels", DType::u8, {test.count, row}, std::vector<std::byte>(test.pixels.size())};
  std::memcpy(pixels.data.data(), test.pixels.data(), test.pixels.size());
  inputs.tensors.push_back(std::move(pixels));
  inputs.tensors.push_back(
      int32_record("test_labels", {test.count},
                   std::vector<std::int32_t>(test.labels.begin(), test.labels.end())));
}

nlohmann::json describe(const SganTrainer& trainer, const std::vector<LossReading>& losses,
                        const Evaluation& evaluation, const std::string& device) {
  nlohmann::json per_iteration = nlohmann::json::array();
  for (const LossReading& l : losses)
    per_iteration.push_back(
        {{"d_supervised", l.d_supervised}, {"d_unsupervised", l.d_unsupervised}, {"g", l.g}});
  const RecipeTraits& t = trainer.traits();
  return {
      {"config", to_json(trainer.config())},
      {"device", device},
      {"iterations_per_epoch", trainer.iterations_per_epoch()},
      {"pixel_range", {t.pixel_lo, t.pixel_hi}},
      {"latent", {{"dim", t.noise_dim}, {"distribution", t.uniform_noise ? "uniform" : "normal"}}},
      {"adam_eps_inside_sqrt", t.adam_eps_inside_sqrt},
      {"feature_layer", t.feature_layer},
      {"streams",
       {{"latent_noise", random_streams::latent_noise},
        {"discriminator_layers", random_streams::discriminator_layers},
        {"generator_layers", random_streams::generator_layers}}},
      {"ema_rate", trainer.config().ema_rate},
      {"iterations", losses.size()},
      {"losses", per_iteration},
      {"evaluation", {{"correct", evaluation.correct}, {"total", evaluation.total}}},
  };
}

int record(const Options& o) {
  const Backend backend = parse_backend(o.device);
  std::string reason;
  if (!backend_available(backend, &reason)) {
    std::fprintf(stderr, "sgan_record_iteration: device %s is not usable here: %s\n",
                 o.device.c_str(), reason.c_str());
    return exit_device_unusable;
  }
  TrainConfig config = recipe_defaults(o.recipe);
  config.device = o.device;
  config.seed = o.seed;
  if (o.batch_size > 0) config.batch_size = o.batch_size;
  config.supervised_only = o.supervised_only;
  if (!o.fake_logit.empty()) config.fake_logit = parse_fake_logit(o.fake_logit);
  if (!o.g_loss.empty()) config.g_loss = parse_generator_loss(o.g_loss);

  Dataset train =
      o.data.empty() ? bench::random_images(1000, 1) : load_mnist_split(o.data, "train");
  Dataset test = o.data.empty() ? bench::random_images(1000, 2) : load_mnist_split(o.data, "t10k");
  config.init_batch = std::min(config.init_batch, train.count);
  SemiSupervisedSet set = make_semi_supervised_set(std::move(train), config.labels, config.seed);
  const int per_epoch = iterations_per_epoch(set.unlabeled.indices.size(), config.batch_size);
  if (o.iterations > per_epoch)
    throw std::invalid_argument(fmt::format(
        "--iterations {} passes the first epoch's {} iterations", o.iterations, per_epoch));
  Safetensors inputs = first_iterations_inputs(config, set, o.iterations);
  add_test_set(inputs, test);

  Context ctx(backend);
  SganTrainer trainer(config, ctx, std::move(set), std::move(test));
  std::filesystem::create_directories(o.out);
  trainer.save_checkpoint(o.out / "before.safetensors", 0.0);
  save_safetensors(o.out / "inputs.safetensors", inputs);
  std::vector<LossReading> losses;
  for (int i = 0; i < o.iterations; ++i) {
    trainer.step();
    losses.push_back(trainer.read_losses());
  }
  trainer.save_checkpoint(o.out / "after.safetensors", 0.0);
  const Evaluation evaluation = trainer.evaluate();
  const std::string description = describe(trainer, losses, evaluation, o.device).dump(1) + "\n";
  write_file_atomically(o.out / "iteration.json", [&](std::ostream& f) { f << description; });
  const LossReading& last = losses.back();
  std::printf("recorded %d %s iteration(s) on %s (batch %d) in %s; the last: D supervised %.6g, "
              "D unsupervised %.6g, G %.6g; then %d of %d test images correct\n",
              o.iterations, o.recipe.c_str(), o.device.c_str(), config.batch_size,
              o.out.string().c_str(), last.d_supervised, last.d_unsupervised, last.g,
              evaluation.correct, evaluation.total);
  return 0;
}

} // namespace
} // namespace sgan

int main(int argc, char** argv) {
  sgan::Options o;
  CLI::App app{"Runs the first training iterations of a recipe and writes their inputs, the "
               "models before and after, and the losses, for bench/pytorch/sgan_torch.py check."};
  app.add_option("--recipe", o.recipe, "improved or article")
      ->check(CLI::IsMember({"improved", "article"}));
  app.add_option("--out", o.out, "directory to write into")->required();
  app.add_option("--iterations", o.iterations, "how many iterations (within the first epoch)")
      ->check(CLI::PositiveNumber);
  app.add_option("--device", o.device, "cpu, cuda or cudnn")
      ->check(CLI::IsMember({"cpu", "cuda", "cudnn"}));
  app.add_option("--batch-size", o.batch_size, "rows of each kind (default: the recipe's)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--seed", o.seed, "the run's seed");
  app.add_option("--fake-logit", o.fake_logit, "explicit or zero (default: the recipe's)")
      ->check(CLI::IsMember({"explicit", "zero"}));
  app.add_option("--g-loss", o.g_loss, "nonsat or feature-matching (default: the recipe's)")
      ->check(CLI::IsMember({"nonsat", "feature-matching"}));
  app.add_flag("--supervised-only", o.supervised_only,
               "the baseline: D on the labeled images alone");
  app.add_option("--data", o.data, "an MNIST directory (default: random images)")
      ->check(CLI::ExistingDirectory);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return sgan::record(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sgan_record_iteration: %s\n", e.what());
    return 1;
  }
}
