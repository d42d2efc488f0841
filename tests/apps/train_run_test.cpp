// End-to-end runs of the trainer on a small synthetic MNIST-shaped data set: every output file
// written with valid contents, resume bitwise, the supervised baseline learns, bad output
// directories and diverging runs fail cleanly. On the cpu backend, and in the emulated build
// (tests/emulation/) on the cuda backend, CUDA graphs included, run on the CPU.
#include "engine/io/safetensors.h"
#include "engine/sgan/run.h"
#include "tests/apps/synthetic_mnist.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <stb_image.h>
#include <string>

namespace sgan {
namespace {

namespace fs = std::filesystem;

#if defined(SGAN_CUDA_EMULATION)
constexpr const char* device = "cuda";
#else
constexpr const char* device = "cpu";
#endif

class TrainRun : public ::testing::Test {
protected:
  void SetUp() override { test::write_synthetic_mnist(dir_.path() / "data", 400, 100); }

  // The improved recipe, shrunk: batch 8, a 40-image init batch.
  TrainConfig tiny(const std::string& out, std::int64_t steps) const {
    TrainConfig c = recipe_defaults("improved");
    c.labels = 20;
    c.batch_size = 8;
    c.init_batch = 40;
    c.steps = steps;
    c.eval_every = 10;
    c.sample_every = 10;
    c.device = device;
    c.data_dir = (dir_.path() / "data").string();
    c.out_dir = (dir_.path() / out).string();
    return c;
  }

  // A finished run of the tiny configuration with `labels` labeled images, 10 steps.
  TrainConfig finished_run(const std::string& out, int labels) {
    TrainConfig c = tiny(out, 10);
    c.labels = labels;
    EXPECT_EQ(run(c), exit_ok) << log_;
    return c;
  }

  int run(const TrainConfig& c) {
    std::FILE* log = std::tmpfile();
    const int code = run_training(c, nullptr, log);
    std::rewind(log);
    char buffer[4096];
    log_.clear();
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, log)) log_.append(buffer, n);
    std::fclose(log);
    return code;
  }

  test::TempDir dir_{"sgan-train-run"};
  std::string log_;
};

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

std::string file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The bytes of each file of a run's record in `out` that exists, by name.
std::map<std::string, std::string> run_record(const fs::path& out) {
  std::map<std::string, std::string> record;
  for (const char* name : {"config.json", "labeled_indices.json", "metrics.jsonl", "summary.json",
                           "checkpoints/last.safetensors", "checkpoints/best.safetensors"})
    if (fs::exists(out / name)) record[name] = file_bytes(out / name);
  return record;
}

void expect_record_unchanged(const fs::path& out,
                             const std::map<std::string, std::string>& before) {
  for (const auto& [name, bytes] : before)
    EXPECT_TRUE(file_bytes(out / name) == bytes) << name << " changed";
}

TEST_F(TrainRun, TinyRunWritesEveryOutputWithValidContents) {
  const TrainConfig c = tiny("run", 30);
  ASSERT_EQ(run(c), exit_ok) << log_;
  const fs::path out = c.out_dir;

  EXPECT_EQ(read_json(out / "config.json").at("recipe"), "improved");
  const nlohmann::json labeled = read_json(out / "labeled_indices.json");
  EXPECT_EQ(labeled.at("indices").size(), 20u);

  std::ifstream metrics(out / "metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) {
    const nlohmann::json m = nlohmann::json::parse(line);
    for (const char* key : {"epoch", "step", "d_loss_supervised", "d_loss_unsupervised", "g_loss",
                            "test_accuracy", "seconds"})
      EXPECT_TRUE(m.contains(key)) << key << " missing in " << line;
    EXPECT_EQ(m.at("step").get<int>(), 10 * (lines + 1));
    ++lines;
  }
  EXPECT_EQ(lines, 3);

  int samples = 0;
  for (const auto& entry : fs::directory_iterator(out / "samples")) {
    int w = 0, h = 0, channels = 0;
    unsigned char* png = stbi_load(entry.path().c_str(), &w, &h, &channels, 0);
    ASSERT_NE(png, nullptr) << entry.path() << " does not decode";
    EXPECT_EQ(channels, 1);
    EXPECT_GT(w, 8 * 28);
    EXPECT_GT(h, 8 * 28);
    stbi_image_free(png);
    ++samples;
  }
  EXPECT_GE(samples, 1);

  const Safetensors last = load_safetensors(out / "checkpoints" / "last.safetensors");
  EXPECT_EQ(last.metadata.at("global_step"), "30");
  for (const char* name :
       {"D.fc1.weight_v", "D.logits.weight_g", "G.bn1.running_mean", "optimizer.D.m",
        "optimizer.G.v", "ema.D", "rng.counter", "data.labeled_indices"})
    EXPECT_NE(last.find(name), nullptr) << name;
  EXPECT_TRUE(fs::exists(out / "checkpoints" / "best.safetensors"));

  const nlohmann::json summary = read_json(out / "summary.json");
  EXPECT_EQ(summary.at("steps"), 30);
  EXPECT_GE(summary.at("final_test_accuracy").get<double>(), 0.0);
}

TEST_F(TrainRun, ResumedRunEqualsStraightRunBitwise) {
  TrainConfig straight = tiny("straight", 20);
  ASSERT_EQ(run(straight), exit_ok) << log_;
  TrainConfig first = tiny("resumed", 10);
  ASSERT_EQ(run(first), exit_ok) << log_;
  TrainConfig second = tiny("resumed", 20);
  second.resume = (fs::path(first.out_dir) / "checkpoints" / "last.safetensors").string();
  // A copy: the resumed run overwrites last.safetensors while it goes.
  const fs::path copy = dir_.path() / "step10.safetensors";
  fs::copy_file(second.resume, copy);
  second.resume = copy.string();
  ASSERT_EQ(run(second), exit_ok) << log_;

  const Safetensors a =
      load_safetensors(fs::path(straight.out_dir) / "checkpoints" / "last.safetensors");
  const Safetensors b =
      load_safetensors(fs::path(second.out_dir) / "checkpoints" / "last.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
    EXPECT_TRUE(a.tensors[i].data == b.tensors[i].data) << a.tensors[i].name << " differs";
  }
}

// A resume the checkpoint refuses (another run's checkpoint, into a directory whose record matches
// the command line) leaves that directory's record byte for byte.
TEST_F(TrainRun, RefusedResumeLeavesTheRecordAsItWas) {
  const TrainConfig source = finished_run("refused-source", 20);
  const TrainConfig target = finished_run("refused-target", 30);
  const fs::path out = target.out_dir;
  const auto before = run_record(out);

  TrainConfig resumed = target;
  resumed.steps = 20;
  resumed.resume = (fs::path(source.out_dir) / "checkpoints" / "last.safetensors").string();
  EXPECT_EQ(run(resumed), exit_failed);
  EXPECT_NE(log_.find("--labels 20, but this run has --labels 30"), std::string::npos) << log_;
  expect_record_unchanged(out, before);
}

// Resuming one run into the directory of another (here: another labeled split) would mix the two
// records: refused before anything is written.
TEST_F(TrainRun, ResumeIntoAnotherRunsDirectoryIsRefusedAndLeavesItAsItWas) {
  const TrainConfig first = finished_run("resume-source", 20);
  const TrainConfig other = finished_run("other-run", 30);
  const fs::path out = other.out_dir;
  const auto before = run_record(out);

  TrainConfig resumed = tiny("other-run", 20); // 20 labels
  resumed.resume = (fs::path(first.out_dir) / "checkpoints" / "last.safetensors").string();
  EXPECT_EQ(run(resumed), exit_usage);
  EXPECT_NE(log_.find("holds another run (--labels 30 there, --labels 20 here)"),
            std::string::npos)
      << log_;
  expect_record_unchanged(out, before);
}

// A checkpoint whose saved configuration is damaged is refused naming the setting, not read as
// some other run's (a fraction cast to an integer) nor blamed on this run's flags.
TEST_F(TrainRun, CheckpointWithADamagedConfigurationIsRefusedNamingTheSetting) {
  const TrainConfig first = finished_run("damaged-source", 20);
  const Safetensors saved =
      load_safetensors(fs::path(first.out_dir) / "checkpoints" / "last.safetensors");
  struct Damage {
    const char* key;
    nlohmann::json value;
    const char* problem;
  };
  const Damage damages[] = {{"labels", 20.5, "setting \"labels\" is 20.5"},
                            {"fake_logit", "sideways", "got 'sideways'"}};
  for (const auto& [key, value, problem] : damages) {
    SCOPED_TRACE(key);
    Safetensors damaged = saved;
    nlohmann::json config = nlohmann::json::parse(damaged.metadata.at("config"));
    config[key] = value;
    damaged.metadata["config"] = config.dump();
    const fs::path path = dir_.path() / "damaged.safetensors";
    save_safetensors(path, damaged);

    TrainConfig resumed = tiny(std::string("damaged-resume-") + key, 20);
    resumed.resume = path.string();
    EXPECT_EQ(run(resumed), exit_failed) << log_;
    EXPECT_NE(log_.find("has an unreadable configuration"), std::string::npos) << log_;
    EXPECT_NE(log_.find(problem), std::string::npos) << log_;
  }
}

// The run's directory given to --resume instead of its checkpoint: the message names the file.
TEST_F(TrainRun, ResumeFromARunsDirectorySaysWhichCheckpointToGive) {
  const TrainConfig first = finished_run("directory-source", 20);
  TrainConfig resumed = tiny("directory-resume", 20);
  resumed.resume = first.out_dir;
  EXPECT_EQ(run(resumed), exit_usage);
  const std::string last = (fs::path(first.out_dir) / "checkpoints" / "last.safetensors").string();
  EXPECT_NE(log_.find("is a directory: to continue its run, --resume " + last), std::string::npos)
      << log_;
  EXPECT_FALSE(fs::exists(resumed.out_dir));
}

TEST_F(TrainRun, ResumeWithAChangedLearningRateSaysItLeavesTheTrajectory) {
  TrainConfig first = tiny("lr-first", 10);
  ASSERT_EQ(run(first), exit_ok) << log_;
  TrainConfig second = tiny("lr-second", 20);
  second.lr = 1e-3f;
  second.resume = (fs::path(first.out_dir) / "checkpoints" / "last.safetensors").string();
  ASSERT_EQ(run(second), exit_ok) << log_;
  EXPECT_NE(log_.find("leaves the saved run's trajectory: --lr 0.003 -> 0.001"), std::string::npos)
      << log_;
}

// Ctrl-C sets the stop flag: the run saves a checkpoint, records where it stopped and exits 130;
// resuming from that checkpoint finishes the run.
TEST_F(TrainRun, InterruptSavesACheckpointAndASummaryAndCanBeResumed) {
  TrainConfig c = tiny("interrupted", 10);
  std::atomic<bool> stop{true};
  std::FILE* log = std::tmpfile();
  EXPECT_EQ(run_training(c, &stop, log), exit_interrupted);
  std::fclose(log);
  const fs::path out = c.out_dir;
  const Safetensors saved = load_safetensors(out / "checkpoints" / "last.safetensors");
  EXPECT_EQ(saved.metadata.at("global_step"), "0");
  const nlohmann::json summary = read_json(out / "summary.json");
  EXPECT_EQ(summary.at("status"), "interrupted");
  EXPECT_EQ(summary.at("steps"), 0);

  TrainConfig resumed = tiny("interrupted-resumed", 10);
  resumed.resume = (out / "checkpoints" / "last.safetensors").string();
  ASSERT_EQ(run(resumed), exit_ok) << log_;
  const nlohmann::json finished = read_json(fs::path(resumed.out_dir) / "summary.json");
  EXPECT_EQ(finished.at("status"), "finished");
  EXPECT_EQ(finished.at("steps"), 10);
}

TEST_F(TrainRun, SupervisedOnlyBaselineLearnsWellAboveChance) {
  TrainConfig c = tiny("supervised", 150);
  c.supervised_only = true;
  c.labels = 50;
  c.batch_size = 10;
  c.eval_every = 150;
  ASSERT_EQ(run(c), exit_ok) << log_;
  const double accuracy = read_json(fs::path(c.out_dir) / "summary.json").at("final_test_accuracy");
  // Chance is 10%; the synthetic classes are separable, so a working classifier is far above it.
  EXPECT_GT(accuracy, 0.6) << log_;
}

TEST_F(TrainRun, ArticleRecipeRunsAndSavesItsModels) {
  TrainConfig c = recipe_defaults("article");
  c.labels = 20;
  c.batch_size = 4;
  c.steps = 2;
  c.eval_every = 2;
  c.device = device;
  c.data_dir = (dir_.path() / "data").string();
  c.out_dir = (dir_.path() / "article").string();
  ASSERT_EQ(run(c), exit_ok) << log_;
  const Safetensors last =
      load_safetensors(fs::path(c.out_dir) / "checkpoints" / "last.safetensors");
  EXPECT_EQ(last.at("D.conv1.weight").shape, (std::vector<std::int64_t>{64, 1, 3, 3}));
  EXPECT_EQ(last.at("G.deconv1.weight").shape, (std::vector<std::int64_t>{128, 128, 4, 4}));
  EXPECT_EQ(last.at("D.logits.weight").shape, (std::vector<std::int64_t>{11, 6272}));
}

// Starting a new run where one is saved would overwrite its record and checkpoints: refused,
// naming the checkpoint to resume, and the saved run is left byte for byte as it was.
TEST_F(TrainRun, NewRunInADirectoryThatHoldsARunIsRefusedAndLeavesItAsItWas) {
  const TrainConfig first = tiny("taken", 10);
  ASSERT_EQ(run(first), exit_ok) << log_;
  const fs::path out = first.out_dir;
  const auto before = run_record(out);
  ASSERT_EQ(before.size(), 6u) << "a finished run writes every file of its record";

  TrainConfig second = tiny("taken", 20);
  second.seed = first.seed + 1;
  EXPECT_EQ(run(second), exit_usage);
  EXPECT_NE(log_.find("already holds a run"), std::string::npos) << log_;
  EXPECT_NE(log_.find("--resume " + (out / "checkpoints" / "last.safetensors").string()),
            std::string::npos)
      << log_;
  expect_record_unchanged(out, before);
}

TEST_F(TrainRun, NewRunBesideAnUnfinishedRecordWithoutCheckpointIsRefusedSayingSo) {
  const TrainConfig c = tiny("record-only", 1);
  fs::create_directories(c.out_dir);
  std::ofstream(fs::path(c.out_dir) / "config.json") << "{}\n";
  EXPECT_EQ(run(c), exit_usage);
  EXPECT_NE(log_.find("config.json"), std::string::npos) << log_;
  EXPECT_NE(log_.find("no checkpoint to resume"), std::string::npos) << log_;
}

TEST_F(TrainRun, NewRunInAnEmptyExistingDirectoryRuns) {
  const TrainConfig c = tiny("made-by-hand", 1);
  fs::create_directories(c.out_dir);
  ASSERT_EQ(run(c), exit_ok) << log_;
  EXPECT_TRUE(fs::exists(fs::path(c.out_dir) / "checkpoints" / "last.safetensors"));
}

TEST_F(TrainRun, UnwritableOutputDirectoryIsAUsageError) {
  TrainConfig c = tiny("unused", 5);
  c.out_dir = "/proc/sgan-cannot-write-here";
  EXPECT_EQ(run(c), exit_usage);
  EXPECT_NE(log_.find("/proc/sgan-cannot-write-here"), std::string::npos) << log_;
}

TEST_F(TrainRun, MissingDataIsAClearError) {
  TrainConfig c = tiny("nodata", 5);
  c.data_dir = (dir_.path() / "nowhere").string();
  EXPECT_EQ(run(c), exit_failed);
  EXPECT_NE(log_.find("nowhere"), std::string::npos) << log_;
}

TEST_F(TrainRun, DivergingRunStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint) {
  TrainConfig c = tiny("diverge", 40);
  c.eval_every = 5;
  ASSERT_EQ(run(c), exit_ok) << log_;
  const fs::path last = fs::path(c.out_dir) / "checkpoints" / "last.safetensors";

  // Go on in the same directory with an absurd learning rate: the weights overflow within a few
  // steps. The run must stop with a message, and last.safetensors must still hold finite numbers.
  TrainConfig bad = c;
  bad.steps = 200;
  bad.lr = bad.final_lr = 1e30f;
  const fs::path copy = dir_.path() / "good.safetensors";
  fs::copy_file(last, copy);
  bad.resume = copy.string();
  EXPECT_EQ(run(bad), exit_failed);
  EXPECT_NE(log_.find("non-finite"), std::string::npos) << log_;
  const Safetensors kept = load_safetensors(last);
  for (const TensorRecord& r : kept.tensors) {
    if (r.dtype != DType::f32) continue;
    const float* v = reinterpret_cast<const float*>(r.data.data());
    for (std::size_t i = 0; i < r.data.size() / sizeof(float); ++i)
      ASSERT_TRUE(std::isfinite(v[i])) << r.name << "[" << i << "] in the kept checkpoint";
  }
}

} // namespace
} // namespace sgan
