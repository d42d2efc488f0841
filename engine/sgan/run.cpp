#include "engine/sgan/run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/data/labeled_split.h"
#include "engine/data/mnist.h"
#include "engine/io/atomic_file.h"
#include "engine/report/image_grid.h"
#include "engine/report/metrics_log.h"
#include "engine/report/progress.h"
#include "engine/sgan/trainer.h"
#include "kernels/cpu/parallel.h"

namespace sgan {

namespace {

namespace fs = std::filesystem;

class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void write_json(const fs::path& path, const nlohmann::json& j) {
  write_file_atomically(path, [&](std::ostream& out) { out << j.dump(2) << '\n'; });
}

// What a run writes that a new run would overwrite or append to (the sample grids are replaced
// by name and say nothing on their own).
constexpr const char* run_files[] = {
    "config.json",  "labeled_indices.json",         "metrics.jsonl",
    "summary.json", "checkpoints/last.safetensors", "checkpoints/best.safetensors"};

// A new run (no --resume) in a directory that holds another would overwrite that run's record of
// its labeled images and configuration at once and its checkpoints at its first evaluation, and
// would mix its curve into the old metrics.jsonl; so it is refused, saying how to go on. A resumed
// run continues the run it finds there.
void refuse_to_replace_a_run(const fs::path& out) {
  std::vector<std::string> found;
  for (const char* name : run_files) {
    std::error_code ec;
    if (fs::exists(out / name, ec)) found.push_back(name);
  }
  if (found.empty()) return;
  const fs::path last = out / "checkpoints" / "last.safetensors";
  std::error_code ec;
  const std::string resume = fs::exists(last, ec)
                                 ? fmt::format("continue it with --resume {}, or ", last.string())
                                 : std::string("it has no checkpoint to resume; ");
  throw std::invalid_argument(fmt::format(
      "the output directory {} already holds a run ({}); {}start a new run in another --out (or "
      "after deleting that directory)",
      out.string(), fmt::join(found, ", "), resume));
}

// A resumed run adds to the record it finds in `out`: one of another run (another labeled split,
// other shapes) is refused before anything is written there.
void refuse_another_runs_record(const fs::path& out, const TrainConfig& config) {
  const fs::path path = out / "config.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  TrainConfig there;
  try {
    std::ifstream f(path);
    there = config_from_json(nlohmann::json::parse(f));
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format(
        "{} is unreadable ({}), so the output directory may hold another run; resume into the "
        "checkpoint's own run directory or a new --out",
        path.string(), e.what()));
  }
  if (const auto d = run_identity_difference(there, config))
    throw std::invalid_argument(fmt::format(
        "the output directory {} holds another run ({} {} there, {} {} here); resume into the "
        "checkpoint's own run directory or a new --out",
        out.string(), d->flag, d->first, d->flag, d->second));
}

// --resume names a checkpoint file; given a run's directory instead, this says which file to give.
void refuse_a_directory_to_resume(const fs::path& resume) {
  std::error_code ec;
  if (!fs::is_directory(resume, ec)) return;
  const fs::path last = resume / "checkpoints" / "last.safetensors";
  throw std::invalid_argument(
      fs::exists(last, ec)
          ? fmt::format("--resume takes a checkpoint file, and {} is a directory: to continue its "
                        "run, --resume {}",
                        resume.string(), last.string())
          : fmt::format("--resume takes a checkpoint file, and {} is a directory",
                        resume.string()));
}

// The output directory exists and is writable, or this says why not.
void prepare_out_dir(const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out / "checkpoints", ec);
  if (!ec) fs::create_directories(out / "samples", ec);
  if (ec)
    throw std::invalid_argument(
        fmt::format("cannot create the output directory {}: {}", out.string(), ec.message()));
  const fs::path probe = out / ".write-test";
  std::ofstream f(probe);
  if (!f || !(f << "ok") || (f.close(), !f))
    throw std::invalid_argument(fmt::format("the output directory {} is not writable", out.string()));
  fs::remove(probe, ec);
}

Backend choose_backend(const TrainConfig& config, std::FILE* log) {
  const Backend wanted = parse_backend(config.device);
  std::string reason;
  if (backend_available(wanted, &reason)) return wanted;
  if (wanted == Backend::cpu) return wanted;
  fmt::print(log, "sgan: the {} device is not usable ({}); training on the CPU instead, which is "
             "much slower.\n", config.device, reason);
  return Backend::cpu;
}

std::string percent(double accuracy) { return fmt::format("{:.2f}%", 100.0 * accuracy); }

struct Timing {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

}  // namespace

int run_training(TrainConfig config, const std::atomic<bool>* stop, std::FILE* log) {
  try {
    if (config.out_dir.empty())
      config.out_dir = fmt::format("runs/{}{}-{}-s{}", config.recipe,
                                   config.supervised_only ? "-supervised" : "", config.labels,
                                   config.seed);
    validate(config);
    if (config.resume.empty())
      refuse_to_replace_a_run(config.out_dir);
    else {
      refuse_a_directory_to_resume(config.resume);
      refuse_another_runs_record(config.out_dir, config);
    }
    prepare_out_dir(config.out_dir);
  } catch (const std::invalid_argument& e) {
    fmt::print(log, "sgan: {}\n", e.what());
    return exit_usage;
  }
  const fs::path out = config.out_dir;
  try {
    const Backend backend = choose_backend(config, log);
    config.device = std::string(backend_name(backend));
    if (config.tf32 && backend != Backend::cuda) {
      fmt::print(log, "sgan: --tf32 has no effect on the {}: computing in FP32.\n",
                 backend_name(backend));
      config.tf32 = false;
    }
    Context ctx(backend);
    ctx.set_tf32_convolutions(config.tf32);
    cpu::set_thread_count(config.cpu_threads);

    Dataset train = load_mnist_split(config.data_dir, "train");
    Dataset test = load_mnist_split(config.data_dir, "t10k");
    SemiSupervisedSet split = make_semi_supervised_set(std::move(train), config.labels, config.seed);

    const std::string threads =
        backend == Backend::cpu ? fmt::format(", {} threads", cpu::thread_count()) : "";
    fmt::print(log, "sgan: training on {} ({} backend{})\n", ctx.device_name(),
               backend_name(backend), threads);
    fmt::print(log, "sgan: configuration {}\n", to_json(config).dump());
    fmt::print(log, "sgan: {} labeled images ({} per class), {} unlabeled, {} test\n",
               split.labeled.indices.size(), split.labeled.indices.size() / 10,
               split.unlabeled.indices.size(), test.count);

    Timing timing;
    SganTrainer trainer(config, ctx, std::move(split), std::move(test));
    double best_accuracy = 0.0;
    if (!config.resume.empty()) {
      const SganTrainer::Resumed resumed = trainer.load_checkpoint(config.resume);
      best_accuracy = resumed.best_accuracy;
      fmt::print(log, "sgan: resumed from {} at step {} (epoch {}, iteration {})\n", config.resume,
                 trainer.global_step(), trainer.epoch() + 1, trainer.iteration_in_epoch());
      if (!resumed.changed_settings.empty())
        fmt::print(log, "sgan: note: changed since the checkpoint, so this run leaves the saved "
                        "run's trajectory: {}\n",
                   fmt::join(resumed.changed_settings, ", "));
    }
    // Written once the checkpoint, if any, has been accepted: a refused resume leaves the saved
    // run's record as it was.
    write_labeled_set_json(out / "labeled_indices.json", trainer.labeled(), config.seed);
    write_json(out / "config.json", to_json(config));
    const std::int64_t per_epoch = trainer.iterations_per_epoch();
    std::int64_t total = std::int64_t(config.epochs) * per_epoch;
    if (config.steps > 0) total = std::min(total, config.steps);
    const std::int64_t eval_every = config.eval_every > 0 ? config.eval_every : per_epoch;
    const std::int64_t sample_every = config.sample_every > 0 ? config.sample_every : per_epoch;
    const std::int64_t checkpoint_every =
        config.checkpoint_every > 0 ? config.checkpoint_every : eval_every;
    constexpr std::int64_t read_every = 50;  // iterations between reads of the loss accumulators

    MetricsLog metrics(out / "metrics.jsonl");
    Progress progress(total, log);
    const fs::path last = out / "checkpoints" / "last.safetensors";
    const fs::path best = out / "checkpoints" / "best.safetensors";
    LossReading losses;
    Evaluation evaluation;
    bool evaluated = false;

    auto read_and_check = [&] {
      losses = trainer.read_losses();
      for (double v : {losses.d_supervised, losses.d_unsupervised, losses.g})
        if (!std::isfinite(v))
          throw TrainingDiverged(fmt::format(
              "the losses became non-finite (D supervised {}, D unsupervised {}, G {}) by step {}",
              losses.d_supervised, losses.d_unsupervised, losses.g, trainer.global_step()));
    };
    auto fields = [&] {
      std::vector<ProgressField> f{{"epoch", std::to_string(trainer.epoch() + 1)},
                                   {"D sup", fmt::format("{:.4f}", losses.d_supervised)}};
      if (!config.supervised_only) {
        f.push_back({"D unsup", fmt::format("{:.4f}", losses.d_unsupervised)});
        f.push_back({"G", fmt::format("{:.4f}", losses.g)});
      }
      if (evaluated) f.push_back({"test acc", percent(evaluation.accuracy())});
      return f;
    };

    // summary.json: where the run ended ("finished" or "interrupted") and its test accuracy.
    auto write_summary = [&](const char* status) {
      nlohmann::json summary = {{"status", status},
                                {"recipe", config.recipe},
                                {"labels", config.labels},
                                {"seed", config.seed},
                                {"supervised_only", config.supervised_only},
                                {"device", ctx.device_name()},
                                {"backend", backend_name(backend)},
                                {"steps", trainer.global_step()},
                                {"epochs", double(trainer.global_step()) / double(per_epoch)},
                                {"best_test_accuracy", best_accuracy},
                                {"wall_seconds", timing.seconds()}};
      if (evaluated) {
        summary["final_test_accuracy"] = evaluation.accuracy();
        summary["final_test_errors"] = evaluation.total - evaluation.correct;
      }
      write_json(out / "summary.json", summary);
    };

    while (trainer.global_step() < total) {
      if (stop && stop->load()) {
        progress.finish();
        trainer.save_checkpoint(last, best_accuracy);
        write_summary("interrupted");
        fmt::print(log, "sgan: interrupted at step {}; checkpoint saved to {} (resume with "
                   "--resume {})\n", trainer.global_step(), last.string(), last.string());
        return exit_interrupted;
      }
      trainer.step();
      const std::int64_t step = trainer.global_step();
      const bool eval_now = step % eval_every == 0 || step == total;
      if (step % read_every == 0 || eval_now) {
        read_and_check();
        progress.update(step, fields());
      } else {
        progress.update(step);
      }
      if (eval_now) {
        evaluation = trainer.evaluate();
        evaluated = true;
        const bool improved = evaluation.accuracy() > best_accuracy;
        best_accuracy = std::max(best_accuracy, evaluation.accuracy());
        nlohmann::json record = {{"epoch", double(step) / double(per_epoch)},
                                 {"step", step},
                                 {"d_loss_supervised", losses.d_supervised},
                                 {"test_accuracy", evaluation.accuracy()},
                                 {"test_errors", evaluation.total - evaluation.correct},
                                 {"seconds", timing.seconds()}};
        if (!config.supervised_only) {
          record["d_loss_unsupervised"] = losses.d_unsupervised;
          record["g_loss"] = losses.g;
        }
        metrics.append(record);
        progress.update(step, fields());
        if (step % checkpoint_every == 0 || step == total) {
          trainer.save_checkpoint(last, best_accuracy);
          if (improved) trainer.save_checkpoint(best, best_accuracy);
        }
      }
      if (!config.supervised_only && (step % sample_every == 0 || step == total)) {
        const std::vector<float> images = trainer.samples(64);
        const int count = int(images.size() / (28 * 28));
        const int epoch_number = int((step + per_epoch - 1) / per_epoch);
        write_image_grid_png(out / "samples" / fmt::format("epoch_{:03d}.png", epoch_number),
                             images.data(), count, 28, 28, 8, (count + 7) / 8,
                             trainer.traits().pixel_lo, trainer.traits().pixel_hi);
      }
    }
    progress.finish();
    const double seconds = timing.seconds();
    write_summary("finished");
    fmt::print(log, "sgan: done: {} steps in {:.1f} s; test accuracy {} ({} errors of {}); "
               "results in {}\n", trainer.global_step(), seconds, percent(evaluation.accuracy()),
               evaluation.total - evaluation.correct, evaluation.total, out.string());
    return exit_ok;
  } catch (const TrainingDiverged& e) {
    fmt::print(log, "\nsgan: training stopped: {}. The last good checkpoint, if any, is {}.\n",
               e.what(), (out / "checkpoints" / "last.safetensors").string());
    return exit_failed;
  } catch (const std::invalid_argument& e) {
    fmt::print(log, "\nsgan: {}\n", e.what());
    return exit_usage;
  } catch (const std::exception& e) {
    fmt::print(log, "\nsgan: error: {}\n", e.what());
    return exit_failed;
  }
}

}  // namespace sgan
