// SganTrainer's checkpoints: one safetensors file holding both models' parameters and batchnorm
// statistics ("D.<layer>.<param>", "G.<layer>.<param>", loadable by PyTorch's safetensors as
// state-dict entries), the optimisers' moments and step counts, D's parameter average, the Philox
// counter and the labeled indices, with the run configuration and the position in the run in the
// metadata. Restoring it and running on gives the trajectory the saving run would have followed.
#include <fmt/format.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "engine/io/safetensors.h"
#include "engine/sgan/trainer.h"

namespace sgan {

namespace {

constexpr const char* checkpoint_format = "sgan-checkpoint-1";

std::vector<std::int64_t> dims(const Shape& s) {
  std::vector<std::int64_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(s[i]);
  return d;
}

TensorRecord download_record(Context& ctx, std::string name, DType dtype,
                             std::vector<std::int64_t> shape, const void* device, std::size_t bytes) {
  TensorRecord r{std::move(name), dtype, std::move(shape), std::vector<std::byte>(bytes)};
  ctx.download(r.data.data(), device, bytes);
  return r;
}

void upload_record(Context& ctx, const Safetensors& file, const std::string& name, DType dtype,
                   const std::vector<std::int64_t>& shape, void* device) {
  const TensorRecord& r = file.at(name);
  expect_record(r, dtype, shape, file.file);
  ctx.upload(device, r.data.data(), r.data.size());
}

void add_model(Context& ctx, const Model& model, std::vector<TensorRecord>& out) {
  for (const auto& p : model.parameters().all())
    out.push_back(download_record(ctx, model.name() + "." + p->name, DType::f32, dims(p->shape),
                                  p->value.data, p->shape.size() * sizeof(float)));
}

void load_model(Context& ctx, const Safetensors& file, Model& model) {
  for (const auto& p : model.parameters().all())
    upload_record(ctx, file, model.name() + "." + p->name, DType::f32, dims(p->shape), p->value.data);
}

void add_optimizer(Context& ctx, const std::string& prefix, const Optimizer& opt,
                   std::vector<TensorRecord>& out) {
  const std::int64_t n = std::int64_t(opt.first_moment().size());
  out.push_back(download_record(ctx, prefix + ".m", DType::f32, {n}, opt.first_moment().data,
                                std::size_t(n) * sizeof(float)));
  if (opt.second_moment().data)
    out.push_back(download_record(ctx, prefix + ".v", DType::f32, {n}, opt.second_moment().data,
                                  std::size_t(n) * sizeof(float)));
  const std::int64_t steps = opt.steps(ctx);
  TensorRecord s{prefix + ".step", DType::i64, {1}, std::vector<std::byte>(sizeof steps)};
  std::memcpy(s.data.data(), &steps, sizeof steps);
  out.push_back(std::move(s));
}

void load_optimizer(Context& ctx, const Safetensors& file, const std::string& prefix,
                    Optimizer& opt) {
  const std::int64_t n = std::int64_t(opt.first_moment().size());
  upload_record(ctx, file, prefix + ".m", DType::f32, {n}, opt.first_moment().data);
  if (opt.second_moment().data)
    upload_record(ctx, file, prefix + ".v", DType::f32, {n}, opt.second_moment().data);
  const TensorRecord& s = file.at(prefix + ".step");
  expect_record(s, DType::i64, {1}, file.file);
  std::int64_t steps = 0;
  std::memcpy(&steps, s.data.data(), sizeof steps);
  opt.set_steps(ctx, steps);
}

// The settings a checkpoint must share with the run that loads it (run_identity_difference).
void expect_compatible(const TrainConfig& saved, const TrainConfig& now,
                       const std::filesystem::path& file) {
  if (const auto d = run_identity_difference(saved, now))
    throw std::runtime_error(
        fmt::format("checkpoint {} was written with {} {}, but this run has {} {}", file.string(),
                    d->flag, d->first, d->flag, d->second));
}

// The settings a resumed run may change, each as "--flag saved -> now" where it differs.
std::vector<std::string> changed_settings(const TrainConfig& saved, const TrainConfig& now) {
  std::vector<std::string> changed;
  auto note = [&](const char* flag, const auto& a, const auto& b) {
    if (a != b)
      changed.push_back(fmt::format("{} {} -> {}", flag, a, b));
  };
  note("--epochs", saved.epochs, now.epochs);
  note("--lr", saved.lr, now.lr);
  note("--final-lr", saved.final_lr, now.final_lr);
  note("--decay-start-epoch", saved.decay_start_epoch, now.decay_start_epoch);
  note("--beta1", saved.beta1, now.beta1);
  note("--unsup-weight", saved.unsup_weight, now.unsup_weight);
  note("--tf32", saved.tf32, now.tf32);
  return changed;
}

}  // namespace

void SganTrainer::save_checkpoint(const std::filesystem::path& path, double best_accuracy) const {
  Safetensors file;
  add_model(ctx_, *d_, file.tensors);
  if (g_) add_model(ctx_, *g_, file.tensors);
  add_optimizer(ctx_, "optimizer.D", *d_opt_, file.tensors);
  if (g_opt_) add_optimizer(ctx_, "optimizer.G", *g_opt_, file.tensors);
  if (average_) {
    const Tensor a = average_->accumulator();
    file.tensors.push_back(download_record(ctx_, "ema.D", DType::f32, {std::int64_t(a.size())},
                                           a.data, a.size() * sizeof(float)));
  }
  file.tensors.push_back(
      download_record(ctx_, "rng.counter", DType::u64, {1}, counter_, sizeof(std::uint64_t)));
  TensorRecord labeled{"data.labeled_indices", DType::i32,
                       {std::int64_t(labeled_.indices.size())},
                       std::vector<std::byte>(labeled_.indices.size() * sizeof(std::int32_t))};
  std::memcpy(labeled.data.data(), labeled_.indices.data(), labeled.data.size());
  file.tensors.push_back(std::move(labeled));

  file.metadata["format"] = checkpoint_format;
  file.metadata["config"] = to_json(config_).dump();
  file.metadata["global_step"] = std::to_string(global_step_);
  file.metadata["epoch"] = std::to_string(epoch_);
  file.metadata["iteration"] = std::to_string(iteration_);
  file.metadata["best_accuracy"] = fmt::format("{:.17g}", best_accuracy);
  save_safetensors(path, file);
}

SganTrainer::Resumed SganTrainer::load_checkpoint(const std::filesystem::path& path) {
  const Safetensors file = load_safetensors(path);
  auto meta = [&](const char* key) -> const std::string& {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end())
      throw std::runtime_error(
          fmt::format("checkpoint {} has no '{}' in its metadata", path.string(), key));
    return it->second;
  };
  if (meta("format") != checkpoint_format)
    throw std::runtime_error(fmt::format("{} is not an sgan checkpoint (format '{}', expected '{}')",
                                         path.string(), meta("format"), checkpoint_format));
  TrainConfig saved;
  try {
    saved = config_from_json(nlohmann::json::parse(meta("config")));
  } catch (const std::exception& e) { // not JSON, a setting missing, damaged or unknown
    throw std::runtime_error(
        fmt::format("checkpoint {} has an unreadable configuration: {}", path.string(), e.what()));
  }
  expect_compatible(saved, config_, path);
  const TensorRecord& labeled = file.at("data.labeled_indices");
  expect_record(labeled, DType::i32, {std::int64_t(labeled_.indices.size())}, path);
  if (std::memcmp(labeled.data.data(), labeled_.indices.data(), labeled.data.size()) != 0)
    throw std::runtime_error(fmt::format(
        "checkpoint {} was trained on other labeled images than this run's split", path.string()));

  load_model(ctx_, file, *d_);
  if (g_) load_model(ctx_, file, *g_);
  load_optimizer(ctx_, file, "optimizer.D", *d_opt_);
  if (g_opt_) load_optimizer(ctx_, file, "optimizer.G", *g_opt_);
  if (average_) {
    const Tensor a = average_->accumulator();
    upload_record(ctx_, file, "ema.D", DType::f32, {std::int64_t(a.size())}, a.data);
  }
  upload_record(ctx_, file, "rng.counter", DType::u64, {1}, counter_);
  try {
    global_step_ = std::stoll(meta("global_step"));
    epoch_ = std::stoi(meta("epoch"));
    iteration_ = std::stoi(meta("iteration"));
    const double best = std::stod(meta("best_accuracy"));
    if (global_step_ < 0 || epoch_ < 0 || iteration_ < 0 || iteration_ >= iterations_per_epoch_)
      throw std::out_of_range("position");
    epoch_ready_ = false;
    losses_since_read_ = 0;
    ctx_.zero(loss_sums_, 3 * sizeof(float));
    return {best, changed_settings(saved, config_)};
  } catch (const std::logic_error&) {
    throw std::runtime_error(
        fmt::format("checkpoint {} has an invalid position in the run in its metadata", path.string()));
  }
}

}  // namespace sgan
