#include "apps/train_flags.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <optional>

#include "engine/core/context.h"
#include "engine/sgan/run.h"

namespace sgan {

ParsedFlags parse_train_flags(const std::vector<std::string>& args) {
  CLI::App app{
      "Train a semi-supervised GAN on MNIST: a classifier from a few labeled digits plus the "
      "unlabeled rest.\nWrites config.json, labeled_indices.json, metrics.jsonl, summary.json, "
      "samples/epoch_NNN.png and checkpoints/{last,best}.safetensors to --out.",
      "sgan_train"};
  std::string recipe = "improved";
  std::optional<int> labels, epochs, batch_size, decay_start_epoch, init_batch, cpu_threads;
  std::optional<std::int64_t> steps, eval_every, sample_every, checkpoint_every;
  std::optional<float> lr, final_lr, beta1, unsup_weight, ema_rate;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> device, data, out, resume, fake_logit, g_loss;
  bool supervised_only = false, no_cuda_graph = false, tf32 = false;

  app.add_option("--recipe", recipe,
                 "improved: Salimans et al. 2016 MLP with feature matching (the best at 100 "
                 "labels); article: the seed article's conv D and DCGAN G")
      ->capture_default_str();
  app.add_option("--labels", labels, "labeled training images, a multiple of 10 (default 100)");
  app.add_option("--epochs", epochs, "epochs (improved: 300, article: 50)");
  app.add_option("--steps", steps, "stop after this many iterations (default: all epochs)");
  app.add_option("--batch-size", batch_size,
                 "rows of each kind per iteration: labeled, unlabeled, generated (improved: 100, "
                 "article: 64)");
  app.add_option("--lr", lr, "Adam learning rate of D and G (improved: 3e-3, article: 2e-4)");
  app.add_option("--final-lr", final_lr, "learning rate reached at the last epoch (default: --lr)");
  app.add_option("--decay-start-epoch", decay_start_epoch,
                 "epoch after which the learning rate decays linearly to --final-lr");
  app.add_option("--beta1", beta1, "Adam beta1 (default 0.5)");
  app.add_option("--unsup-weight", unsup_weight,
                 "weight of the unsupervised terms of D's loss (improved: 0.5, article: 1)");
  app.add_option("--fake-logit", fake_logit,
                 "explicit: D has K+1 logits; zero: K logits and the fake logit fixed at 0 "
                 "(improved: zero, article: explicit)");
  app.add_option("--g-loss", g_loss,
                 "nonsat: non-saturating -log D_fake; feature-matching: match D's penultimate "
                 "features (improved: feature-matching, article: nonsat)");
  app.add_flag("--supervised-only", supervised_only,
               "train the same D on the labeled images alone (the baseline)");
  app.add_option("--ema-rate", ema_rate,
                 "evaluate a bias-corrected exponential moving average of D's weights with this rate "
                 "per step; 0 evaluates the raw weights (improved: 1e-4, article: 0)");
  app.add_option("--init-batch", init_batch,
                 "images for the weight-norm data-dependent initialisation (default 500)");
  // CLI11 reads an unsigned integer with strtoull, which wraps "-1" to 2^64 - 1 and saturates
  // past it, so the seed's text is checked first.
  app.add_option("--seed", seed, "seed of the labeled split, the initial weights and all noise")
      ->check(CLI::Validator(
          [](const std::string& text) {
            std::uint64_t value = 0;
            const auto [end, error] =
                std::from_chars(text.data(), text.data() + text.size(), value);
            return error == std::errc() && end == text.data() + text.size()
                       ? std::string()
                       : fmt::format("must be a whole number from 0 to {}, got '{}'",
                                     std::numeric_limits<std::uint64_t>::max(), text);
          },
          "UINT64"));
  app.add_option("--device", device,
                 "cuda (default), cpu, or cudnn (vendor kernels, for comparison); without a "
                 "usable GPU the run says so and uses the CPU");
  app.add_flag("--no-cuda-graph", no_cuda_graph,
               "launch kernels one by one instead of replaying one CUDA graph per iteration");
  app.add_flag("--tf32", tf32,
               "run the convolutions on TF32 tensor cores (--device cuda, compute capability "
               "8.0+): faster, with ~1e-3 relative error instead of FP32's ~1e-7");
  app.add_option("--cpu-threads", cpu_threads,
                 "threads of the cpu backend's products (default 0: every hardware thread); the "
                 "results are the same bits for any count");
  app.add_option("--data", data, "directory with the four MNIST IDX files (default data/mnist)");
  app.add_option("--out", out,
                 "output directory (default runs/<recipe>-<labels>-s<seed>); a new run refuses one "
                 "that holds a run");
  app.add_option("--resume", resume,
                 "continue the run saved in this checkpoint (into --out, which may hold that run)");
  app.add_option("--eval-every", eval_every,
                 "iterations between test-set evaluations (default: once per epoch)");
  app.add_option("--sample-every", sample_every,
                 "iterations between sample grids (default: once per epoch)");
  app.add_option("--checkpoint-every", checkpoint_every,
                 "iterations between checkpoints (default: at every evaluation)");

  ParsedFlags parsed;
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
    parsed.config = recipe_defaults(recipe);
    TrainConfig& c = parsed.config;
    if (labels) c.labels = *labels;
    if (epochs) c.epochs = *epochs;
    if (steps) c.steps = *steps;
    if (batch_size) c.batch_size = *batch_size;
    if (lr) c.lr = c.final_lr = *lr;
    if (final_lr) c.final_lr = *final_lr;
    if (decay_start_epoch) c.decay_start_epoch = *decay_start_epoch;
    if (beta1) c.beta1 = *beta1;
    if (unsup_weight) c.unsup_weight = *unsup_weight;
    if (fake_logit) c.fake_logit = parse_fake_logit(*fake_logit);
    if (g_loss) c.g_loss = parse_generator_loss(*g_loss);
    c.supervised_only = supervised_only;
    if (ema_rate) c.ema_rate = *ema_rate;
    if (init_batch) c.init_batch = *init_batch;
    if (seed) c.seed = *seed;
    if (device) {
      parse_backend(*device);
      c.device = *device;
    }
    c.cuda_graph = !no_cuda_graph;
    c.tf32 = tf32;
    if (cpu_threads) c.cpu_threads = *cpu_threads;
    if (data) c.data_dir = *data;
    if (out) c.out_dir = *out;
    if (resume) c.resume = *resume;
    if (eval_every) c.eval_every = *eval_every;
    if (sample_every) c.sample_every = *sample_every;
    if (checkpoint_every) c.checkpoint_every = *checkpoint_every;
    validate(c);
  } catch (const CLI::CallForHelp&) {
    parsed.exit_code = exit_ok;
    parsed.message = app.help();
  } catch (const CLI::ParseError& e) {
    parsed.exit_code = exit_usage;
    parsed.message = fmt::format("sgan_train: {} (see --help)\n", e.what());
  } catch (const std::invalid_argument& e) {
    parsed.exit_code = exit_usage;
    parsed.message = fmt::format("sgan_train: {}\n", e.what());
  }
  return parsed;
}

}  // namespace sgan
