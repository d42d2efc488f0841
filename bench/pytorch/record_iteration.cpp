// sgan_record_iteration: runs the first training iteration of a recipe through our trainer and
// writes everything needed to replay it elsewhere, so that bench/pytorch/sgan_torch.py can run
// the same iteration in PyTorch and compare (the second check of our losses and gradients):
//
//   OUT/before.safetensors   the trainer's checkpoint before the iteration (both models after
//                            initialisation, the Philox counter)
//   OUT/inputs.safetensors   the iteration's images as stored pixels (D step: labeled rows, their
//                            labels, unlabeled rows; G step: its own unlabeled rows)
//   OUT/after.safetensors    the checkpoint after the iteration (D and G after one Adam step each)
//   OUT/iteration.json       the configuration, pixel range, latent distribution, Philox streams
//                            and the losses the trainer measured
//
// The latent vectors and D's noise and dropout masks are not written: they are Philox draws the
// replay regenerates from the seed, the streams and the counter.
//
//   sgan_record_iteration --recipe improved --out DIR [--device cpu|cuda|cudnn] [--batch-size N]
//                         [--seed S] [--data MNIST_DIR]
//
// Without --data the images are uniform random pixels (1000 training images). Exit codes: 0 done,
// 1 failure, 2 bad flags, 77 the device is not usable here (ctest reads it as a skip).
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
#include <string>
#include <vector>

namespace sgan {
namespace {

constexpr int exit_device_unusable = 77;

struct Options {
  std::string recipe = "improved";
  std::filesystem::path out;
  std::string device = "cpu";
  int batch_size = 0; // 0: the recipe's
  std::uint64_t seed = 1;
  std::filesystem::path data;
};

// The pixels of `indices`' images, image after image.
TensorRecord pixel_rows(std::string name, const SemiSupervisedSet& set,
                        const std::vector<std::int32_t>& indices) {
  const std::size_t row = std::size_t(set.rows) * std::size_t(set.cols);
  TensorRecord r{std::move(name),
                 DType::u8,
                 {std::int64_t(indices.size()), std::int64_t(row)},
                 std::vector<std::byte>(indices.size() * row)};
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::memcpy(r.data.data() + i * row, set.pixels.data() + std::size_t(indices[i]) * row, row);
  return r;
}

TensorRecord int32_record(std::string name, const std::vector<std::int32_t>& values) {
  TensorRecord r{std::move(name),
                 DType::i32,
                 {std::int64_t(values.size())},
                 std::vector<std::byte>(values.size() * sizeof(std::int32_t))};
  std::memcpy(r.data.data(), values.data(), r.data.size());
  return r;
}

// The first iteration's batches, as the trainer draws them: the first n entries of epoch 0.
Safetensors first_iteration_inputs(const TrainConfig& config, const SemiSupervisedSet& set) {
  const int n = config.batch_size;
  const std::vector<std::int32_t> labels(set.labeled.labels.begin(), set.labeled.labels.end());
  const EpochOrder order =
      epoch_order(config.seed, 0, n, set.labeled.indices, labels, set.unlabeled.indices);
  auto first = [n](const std::vector<std::int32_t>& v) {
    return std::vector<std::int32_t>(v.begin(), v.begin() + n);
  };
  Safetensors inputs;
  inputs.tensors.push_back(pixel_rows("labeled_pixels", set, first(order.labeled)));
  inputs.tensors.push_back(int32_record("labels", first(order.labeled_labels)));
  inputs.tensors.push_back(pixel_rows("unlabeled_pixels", set, first(order.unlabeled)));
  inputs.tensors.push_back(
      pixel_rows("generator_unlabeled_pixels", set, first(order.generator_unlabeled)));
  return inputs;
}

nlohmann::json describe(const SganTrainer& trainer, const LossReading& losses,
                        const std::string& device) {
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
      {"losses",
       {{"d_supervised", losses.d_supervised},
        {"d_unsupervised", losses.d_unsupervised},
        {"g", losses.g}}},
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

  Dataset train =
      o.data.empty() ? bench::random_images(1000, 1) : load_mnist_split(o.data, "train");
  Dataset test = o.data.empty() ? bench::random_images(100, 2) : load_mnist_split(o.data, "t10k");
  config.init_batch = std::min(config.init_batch, train.count);
  SemiSupervisedSet set = make_semi_supervised_set(std::move(train), config.labels, config.seed);
  const Safetensors inputs = first_iteration_inputs(config, set);

  Context ctx(backend);
  SganTrainer trainer(config, ctx, std::move(set), std::move(test));
  std::filesystem::create_directories(o.out);
  trainer.save_checkpoint(o.out / "before.safetensors", 0.0);
  save_safetensors(o.out / "inputs.safetensors", inputs);
  trainer.step();
  const LossReading losses = trainer.read_losses();
  trainer.save_checkpoint(o.out / "after.safetensors", 0.0);
  const std::string description = describe(trainer, losses, o.device).dump(1) + "\n";
  write_file_atomically(o.out / "iteration.json", [&](std::ostream& f) { f << description; });
  std::printf("recorded the first %s iteration on %s (batch %d) in %s: D supervised %.6g, "
              "D unsupervised %.6g, G %.6g\n",
              o.recipe.c_str(), o.device.c_str(), config.batch_size, o.out.string().c_str(),
              losses.d_supervised, losses.d_unsupervised, losses.g);
  return 0;
}

} // namespace
} // namespace sgan

int main(int argc, char** argv) {
  sgan::Options o;
  CLI::App app{"Runs the first training iteration of a recipe and writes its inputs, the models "
               "before and after, and its losses, for bench/pytorch/sgan_torch.py check."};
  app.add_option("--recipe", o.recipe, "improved or article")
      ->check(CLI::IsMember({"improved", "article"}));
  app.add_option("--out", o.out, "directory to write into")->required();
  app.add_option("--device", o.device, "cpu, cuda or cudnn")
      ->check(CLI::IsMember({"cpu", "cuda", "cudnn"}));
  app.add_option("--batch-size", o.batch_size, "rows of each kind (default: the recipe's)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--seed", o.seed, "the run's seed");
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
