#include "engine/sgan/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "engine/core/ops.h"
#include "engine/graph/data_dependent_init.h"
#include "engine/sgan/batch_layout.h"
#include "engine/sgan/random_streams.h"

namespace sgan {

namespace {
constexpr int classes = 10;
// Different seeds for D's and G's initial weights, both derived from the run's seed.
constexpr std::uint64_t discriminator_init_salt = 0xD15C'0000'0000'0000ull;
constexpr std::uint64_t generator_init_salt = 0x6E4E'0000'0000'0000ull;

std::vector<float> scale_pixels(const std::vector<std::uint8_t>& pixels, float lo, float hi) {
  std::vector<float> out(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) out[i] = lo + (hi - lo) * (float(pixels[i]) / 255.0f);
  return out;
}

template <typename T>
T* upload_array(Context& ctx, Arena& arena, const std::vector<T>& host) {
  T* p = arena.allocate<T>(host.size());
  ctx.upload(p, host.data(), host.size() * sizeof(T));
  return p;
}
}  // namespace

SganTrainer::SganTrainer(const TrainConfig& config, Context& ctx, SemiSupervisedSet train,
                         Dataset test)
    : config_(config), traits_(recipe_traits(config)), ctx_(ctx) {
  validate(config_);
  if (train.rows * train.cols != 28 * 28 || test.rows * test.cols != 28 * 28)
    throw std::invalid_argument(fmt::format("the recipes take 28x28 images, got {}x{}", train.rows,
                                            train.cols));
  labeled_ = std::move(train.labeled);
  unlabeled_ = std::move(train.unlabeled);
  n_ = config_.batch_size;
  d_rows_ = config_.supervised_only ? n_ : 3 * n_;
  g_rows_ = std::max(n_, 64);
  logits_ = config_.fake_logit == FakeLogit::zero ? classes : classes + 1;
  iterations_per_epoch_ = sgan::iterations_per_epoch(unlabeled_.indices.size(), n_);
  test_count_ = test.count;
  arena_ = std::make_unique<Arena>(ctx_);
  Arena& arena = *arena_;

  // The Philox counter lives in backend memory: the trainer advances it on the device.
  counter_ = arena.allocate<std::uint64_t>(1);
  sample_counter_ = arena.allocate<std::uint64_t>(1);
  rng_ = {config_.seed, counter_};

  // Models. D sees at most max(3n, init batch) rows at once (the data-dependent init batch too,
  // which is at most the whole training set).
  const int init_rows = traits_.data_dependent_init ? std::min(config_.init_batch, train.count) : 0;
  const int d_max_rows = std::max(d_rows_, init_rows);
  const bool flat_input = config_.recipe == "improved";
  const Shape d_input = flat_input ? Shape{d_max_rows, 28 * 28} : Shape{d_max_rows, 1, 28, 28};
  d_ = make_discriminator(config_);
  d_->build(arena, d_input);
  d_->set_rng(&rng_);
  d_->initialize(ctx_, config_.seed ^ discriminator_init_salt);
  if (!config_.supervised_only) {
    g_ = make_generator(config_);
    g_->build(arena, Shape{g_rows_, traits_.noise_dim});
    g_->set_rng(&rng_);
    g_->initialize(ctx_, config_.seed ^ generator_init_salt);
  }

  // Data, resident on the device, scaled to the recipe's pixel range.
  const Shape image_row = flat_input ? Shape{1, 28 * 28} : Shape{1, 1, 28, 28};
  auto images_tensor = [&](const std::vector<std::uint8_t>& pixels, int count) {
    const std::vector<float> scaled = scale_pixels(pixels, traits_.pixel_lo, traits_.pixel_hi);
    Tensor t{upload_array(ctx_, arena, scaled), image_row.with_rows(count), ctx_.device()};
    return t;
  };
  train_images_ = images_tensor(train.pixels, train.count);
  test_images_ = images_tensor(test.pixels, test.count);
  test_labels_ = upload_array(ctx_, arena, std::vector<std::int32_t>(test.labels.begin(), test.labels.end()));

  const std::size_t epoch_rows = std::size_t(iterations_per_epoch_) * std::size_t(n_);
  epoch_unlabeled_ = arena.allocate<std::int32_t>(epoch_rows);
  epoch_generator_unlabeled_ = arena.allocate<std::int32_t>(epoch_rows);
  epoch_labeled_ = arena.allocate<std::int32_t>(epoch_rows);
  epoch_labels_ = arena.allocate<std::int32_t>(epoch_rows);
  batch_unlabeled_ = arena.allocate<std::int32_t>(std::size_t(n_));
  batch_generator_unlabeled_ = arena.allocate<std::int32_t>(std::size_t(n_));
  batch_labeled_ = arena.allocate<std::int32_t>(std::size_t(n_));
  // Rows other than the labeled ones carry -1: the loss kernel never reads them.
  batch_labels_ = upload_array(ctx_, arena, std::vector<std::int32_t>(std::size_t(d_rows_), -1));

  d_input_ = arena.tensor(d_input.with_rows(d_rows_));
  noise_ = arena.tensor(Shape{g_rows_, traits_.noise_dim});

  const BatchLayout d_layout = config_.supervised_only
                                   ? discriminator_layout(n_, 0, 0, 0.0f)
                                   : discriminator_layout(n_, n_, n_, config_.unsup_weight);
  const BatchLayout g_layout = generator_layout(n_);
  d_kinds_ = upload_array(ctx_, arena, d_layout.kinds);
  d_weights_ = upload_array(ctx_, arena, d_layout.weights);
  g_kinds_ = upload_array(ctx_, arena, g_layout.kinds);
  g_weights_ = upload_array(ctx_, arena, g_layout.weights);
  // Evaluation: every row labeled, weight 0 (only the correct flags are wanted).
  eval_kinds_ = upload_array(ctx_, arena, std::vector<SganRow>(std::size_t(d_max_rows), SganRow::labeled));
  eval_weights_ = upload_array(ctx_, arena, std::vector<float>(std::size_t(d_max_rows), 0.0f));
  row_loss_ = arena.allocate<float>(std::size_t(d_max_rows));
  dlogits_ = arena.tensor(Shape{d_max_rows, logits_});
  correct_ = arena.allocate<std::int32_t>(std::size_t(std::max(test_count_, 1)));
  const int features = int(d_->planned_output_shape(traits_.feature_layer).row_size());
  feature_grad_ = arena.tensor(Shape{2 * n_, features});
  fm_loss_ = arena.allocate<float>(1);
  scratch_sum_ = arena.allocate<float>(1);
  loss_sums_ = arena.allocate<float>(3);
  correct_count_ = arena.allocate<std::int32_t>(1);

  // Weight-normalised D: data-dependent init on a batch of training images (improved-gan).
  if (traits_.data_dependent_init) {
    std::vector<std::int32_t> order(std::size_t(train.count));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(config_.seed);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<std::int32_t> first(order.begin(), order.begin() + init_rows);
    std::int32_t* index = upload_array(ctx_, arena, first);
    Tensor batch = arena.tensor(d_input.with_rows(init_rows));
    ops::gather_rows<float>(ctx_, init_rows, train_images_.shape.row_size(), train_images_.data,
                            index, batch.data);
    data_dependent_init(ctx_, *d_, batch);
  }

  // Optimisers and the parameter average.
  OptimizerConfig opt;
  opt.adam = {config_.beta1, 0.999f, 1e-8f, 0.0f, traits_.adam_eps_inside_sqrt};
  opt.schedule = {config_.lr, config_.final_lr,
                  std::int64_t(config_.decay_start_epoch) * iterations_per_epoch_,
                  std::int64_t(config_.epochs) * iterations_per_epoch_};
  d_opt_ = std::make_unique<Optimizer>(arena, d_->parameters(), opt);
  if (g_) g_opt_ = std::make_unique<Optimizer>(arena, g_->parameters(), opt);
  if (config_.ema_rate > 0.0f) {
    const Tensor values = d_->parameters().values();
    average_.emplace(arena, values.shape, config_.ema_rate);
    raw_weights_ = arena.tensor(values.shape);
  }
  ctx_.synchronize();
  arena.freeze();
}

SganTrainer::~SganTrainer() = default;

void SganTrainer::prepare_epoch() {
  std::vector<std::int32_t> labels(labeled_.labels.begin(), labeled_.labels.end());
  const EpochOrder order =
      epoch_order(config_.seed, epoch_, n_, labeled_.indices, labels, unlabeled_.indices);
  ctx_.upload(epoch_labeled_, order.labeled.data(), order.labeled.size() * sizeof(std::int32_t));
  ctx_.upload(epoch_labels_, order.labeled_labels.data(),
              order.labeled_labels.size() * sizeof(std::int32_t));
  ctx_.upload(epoch_unlabeled_, order.unlabeled.data(), order.unlabeled.size() * sizeof(std::int32_t));
  ctx_.upload(epoch_generator_unlabeled_, order.generator_unlabeled.data(),
              order.generator_unlabeled.size() * sizeof(std::int32_t));
  epoch_ready_ = true;
}

void SganTrainer::step() {
  if (!epoch_ready_) prepare_epoch();
  // This iteration's indices move into fixed buffers, so the iteration itself (and its graph)
  // always reads the same addresses.
  const std::size_t offset = std::size_t(iteration_) * std::size_t(n_);
  const std::size_t bytes = std::size_t(n_) * sizeof(std::int32_t);
  ctx_.copy(batch_labeled_, epoch_labeled_ + offset, bytes);
  ctx_.copy(batch_labels_, epoch_labels_ + offset, bytes);
  ctx_.copy(batch_unlabeled_, epoch_unlabeled_ + offset, bytes);
  ctx_.copy(batch_generator_unlabeled_, epoch_generator_unlabeled_ + offset, bytes);

  if (uses_cuda_graph() && warmed_up_) {
    // The first iteration runs eagerly (cuBLAS and the kernels set themselves up), the second is
    // captured, and every iteration from then on is one graph launch.
    if (!graph_.captured()) graph_.capture(ctx_, [this] { enqueue_iteration(); });
    graph_.replay(ctx_);
  } else {
    enqueue_iteration();
    warmed_up_ = true;
  }
  ++global_step_;
  ++losses_since_read_;
  if (++iteration_ == iterations_per_epoch_) {
    iteration_ = 0;
    ++epoch_;
    epoch_ready_ = false;
  }
}

bool SganTrainer::uses_cuda_graph() const {
  return config_.cuda_graph && ctx_.backend() == Backend::cuda;
}

void SganTrainer::notify(Phase phase) const {
  if (phase_observer_ && !uses_cuda_graph()) phase_observer_(phase);
}

void SganTrainer::enqueue_iteration() {
  discriminator_step();
  notify(Phase::discriminator_step_enqueued);
  if (!config_.supervised_only) {
    advance_counter();
    generator_step();
  }
  advance_counter();
  notify(Phase::iteration_enqueued);
}

void SganTrainer::draw_noise(const std::uint64_t* counter) {
  const PhiloxStream stream{config_.seed, counter == sample_counter_ ? random_streams::sample_noise
                                                                 : random_streams::latent_noise};
  if (traits_.uniform_noise)
    ops::philox_uniform(ctx_, noise_.size(), stream, counter, 0.0f, 1.0f, noise_.data);
  else
    ops::philox_normal(ctx_, noise_.size(), stream, counter, 0.0f, 1.0f, noise_.data);
}

void SganTrainer::advance_counter() { ops::advance_counter(ctx_, counter_); }

void SganTrainer::discriminator_step() {
  const std::size_t row = train_images_.shape.row_size();
  ops::gather_rows<float>(ctx_, n_, row, train_images_.data, batch_labeled_, d_input_.data);
  if (!config_.supervised_only) {
    ops::gather_rows<float>(ctx_, n_, row, train_images_.data, batch_unlabeled_,
                            d_input_.rows(n_, n_).data);
    draw_noise(counter_);
    // D's step treats G's images as constants: no gradient flows back into G here.
    const Tensor fake = g_->forward(ctx_, noise_.rows(0, n_));
    ctx_.copy(d_input_.rows(2 * n_, n_).data, fake.data, fake.size() * sizeof(float));
  }
  const Tensor logits = d_->forward(ctx_, d_input_.rows(0, d_rows_));
  const SganLossShape shape{d_rows_, classes, config_.fake_logit == FakeLogit::zero};
  ops::sgan_softmax_xent_forward_backward(ctx_, shape, logits.data, d_kinds_, batch_labels_,
                                          d_weights_, row_loss_, dlogits_.data, nullptr);
  ops::sum(ctx_, std::size_t(n_), row_loss_, scratch_sum_);
  ops::axpy(ctx_, 1, 1.0f, scratch_sum_, loss_sums_ + 0);
  if (!config_.supervised_only) {
    ops::sum(ctx_, std::size_t(2 * n_), row_loss_ + n_, scratch_sum_);
    ops::axpy(ctx_, 1, 1.0f, scratch_sum_, loss_sums_ + 1);
  }
  d_->parameters().zero_grads(ctx_);
  d_->backward(ctx_, dlogits_.rows(0, d_rows_), {.param_grads = true, .input_grad = false});
  d_opt_->step(ctx_);
  if (average_) average_->update(ctx_, d_->parameters().values().data);
}

void SganTrainer::generator_step() {
  draw_noise(counter_);
  const Tensor fake = g_->forward(ctx_, noise_.rows(0, n_));
  const Tensor fake_rows = d_input_.rows(2 * n_, n_);
  ctx_.copy(fake_rows.data, fake.data, fake.size() * sizeof(float));
  // D is frozen here: gradients flow through it to its input, none into its parameters.
  const BackwardOptions through_d{.param_grads = false, .input_grad = true};
  Tensor d_fake;
  if (config_.g_loss == GeneratorLoss::nonsat) {
    const Tensor logits = d_->forward(ctx_, fake_rows);
    const SganLossShape shape{n_, classes, config_.fake_logit == FakeLogit::zero};
    ops::sgan_softmax_xent_forward_backward(ctx_, shape, logits.data, g_kinds_, batch_labels_,
                                            g_weights_, row_loss_, dlogits_.data, nullptr);
    ops::sum(ctx_, std::size_t(n_), row_loss_, scratch_sum_);
    ops::axpy(ctx_, 1, 1.0f, scratch_sum_, loss_sums_ + 2);
    d_fake = d_->backward(ctx_, dlogits_.rows(0, n_), through_d);
  } else {
    // Feature matching between the G step's own unlabeled batch (in the rows that held D's
    // unlabeled batch, no longer needed) and the new fake rows.
    ops::gather_rows<float>(ctx_, n_, train_images_.shape.row_size(), train_images_.data,
                            batch_generator_unlabeled_, d_input_.rows(n_, n_).data);
    d_->forward(ctx_, d_input_.rows(n_, 2 * n_));
    const Tensor features = d_->output(traits_.feature_layer);
    const int f = int(features.shape.row_size());
    ctx_.zero(feature_grad_.data, std::size_t(n_) * std::size_t(f) * sizeof(float));
    ops::feature_matching_forward_backward(ctx_, {n_, n_, f}, features.data,
                                           features.rows(n_, n_).data, fm_loss_,
                                           feature_grad_.rows(n_, n_).data);
    ops::axpy(ctx_, 1, 1.0f, fm_loss_, loss_sums_ + 2);
    const Tensor dx = d_->backward_from(ctx_, traits_.feature_layer,
                                        feature_grad_.reshaped(features.shape), through_d);
    d_fake = dx.rows(n_, n_);
  }
  g_->parameters().zero_grads(ctx_);
  g_->backward(ctx_, d_fake.reshaped(fake.shape), {.param_grads = true, .input_grad = false});
  g_opt_->step(ctx_);
}

LossReading SganTrainer::read_losses() {
  float sums[3];
  ctx_.download(sums, loss_sums_, sizeof sums);
  ctx_.zero(loss_sums_, sizeof sums);
  LossReading r;
  r.iterations = losses_since_read_;
  if (r.iterations > 0) {
    r.d_supervised = sums[0] / double(r.iterations);
    r.d_unsupervised = sums[1] / double(r.iterations);
    r.g = sums[2] / double(r.iterations);
  }
  losses_since_read_ = 0;
  return r;
}

void SganTrainer::swap_in_average() {
  const Tensor values = d_->parameters().values();
  ctx_.copy(raw_weights_.data, values.data, values.size() * sizeof(float));
  average_->write_average(ctx_, global_step_, values.data);
}

Evaluation SganTrainer::evaluate() {
  // Before the first step there is nothing to average: the raw (initial) weights are evaluated.
  const bool averaged = average_ && global_step_ > 0;
  if (averaged) swap_in_average();
  d_->set_training(false);
  const int chunk = d_->input_shape()[0];
  for (int start = 0; start < test_count_; start += chunk) {
    const int rows = std::min(chunk, test_count_ - start);
    const Tensor logits = d_->forward(ctx_, test_images_.rows(start, rows));
    const SganLossShape shape{rows, classes, config_.fake_logit == FakeLogit::zero};
    ops::sgan_softmax_xent_forward_backward(ctx_, shape, logits.data, eval_kinds_,
                                            test_labels_ + start, eval_weights_, row_loss_,
                                            dlogits_.data, correct_ + start);
  }
  ops::count(ctx_, std::size_t(test_count_), correct_, correct_count_);
  Evaluation e;
  e.total = test_count_;
  ctx_.download(&e.correct, correct_count_, sizeof e.correct);
  d_->set_training(true);
  if (averaged) {
    const Tensor values = d_->parameters().values();
    ctx_.copy(values.data, raw_weights_.data, values.size() * sizeof(float));
    ctx_.synchronize();
  }
  return e;
}

std::vector<float> SganTrainer::samples(int n) {
  if (!g_) return {};
  n = std::min(n, g_rows_);
  g_->set_training(false);
  draw_noise(sample_counter_);
  const Tensor images = g_->forward(ctx_, noise_.rows(0, n));
  std::vector<float> host(images.size());
  ctx_.download(host.data(), images.data, host.size() * sizeof(float));
  g_->set_training(true);
  return host;
}

}  // namespace sgan
