// metrics.jsonl: each record is one line of JSON with the fields given, reopening appends, a line
// cut short by a killed run is ended before the next record, and scripts/plot_metrics.py --check
// (run with python3 where there is one) accepts what the log writes and rejects a malformed line.
#include "engine/report/metrics_log.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace sgan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// tests/engine/metrics_log_test.cpp -> the repository root.
const fs::path repository_root = fs::path(__FILE__).parent_path().parent_path().parent_path();

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string contents_of(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json evaluation(int epoch, int step, double d_loss, double g_loss, double test_accuracy,
                double seconds) {
  return {{"epoch", epoch},
          {"step", step},
          {"d_loss", d_loss},
          {"g_loss", g_loss},
          {"test_accuracy", test_accuracy},
          {"seconds", seconds}};
}

class MetricsLogTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sgan_metrics_log_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "metrics.jsonl";
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct Outcome {
    int status;
    std::string output;
  };
  // Runs plot_metrics.py --check on `metrics`; skips the test where python3 is missing.
  Outcome run_check(const fs::path& metrics) {
    const fs::path output = dir_ / "check.txt";
    const std::string command =
        "python3 '" + (repository_root / "scripts/plot_metrics.py").string() + "' --check '" +
        metrics.string() + "' > '" + output.string() + "' 2>&1";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, contents_of(output)};
  }
  bool have_python() { return std::system("python3 -c 'import json' > /dev/null 2>&1") == 0; }

  fs::path dir_, path_;
};

TEST_F(MetricsLogTest, EachRecordIsOneLineOfJsonWithItsFields) {
  {
    MetricsLog log(path_);
    log.append(evaluation(1, 600, 0.5125, 1.25, 0.9012, 12.5));
    log.append(evaluation(2, 1200, 0.375, 1.5, 0.9525, 25.0));
  }
  const std::vector<std::string> lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 2u);
  const json first = json::parse(lines[0]);
  EXPECT_EQ(first["epoch"], 1);
  EXPECT_EQ(first["step"], 600);
  EXPECT_EQ(first["d_loss"], 0.5125);
  EXPECT_EQ(first["g_loss"], 1.25);
  EXPECT_EQ(first["test_accuracy"], 0.9012);
  EXPECT_EQ(first["seconds"], 12.5);
  EXPECT_EQ(json::parse(lines[1])["step"], 1200);
  EXPECT_EQ(contents_of(path_).back(), '\n');
}

TEST_F(MetricsLogTest, EachRecordIsInTheFileBeforeAppendReturns) {
  MetricsLog log(path_);
  log.append(evaluation(1, 600, 0.5, 1.0, 0.9, 1.0));
  EXPECT_EQ(lines_of(path_).size(), 1u);
  log.append(evaluation(2, 1200, 0.5, 1.0, 0.9, 2.0));
  EXPECT_EQ(lines_of(path_).size(), 2u);
}

TEST_F(MetricsLogTest, ReopeningAppendsAfterEarlierLines) {
  MetricsLog(path_).append(evaluation(1, 600, 0.5, 1.0, 0.9, 1.0));
  MetricsLog(path_).append(evaluation(2, 1200, 0.4, 1.1, 0.95, 2.0));
  const std::vector<std::string> lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[0])["epoch"], 1);
  EXPECT_EQ(json::parse(lines[1])["epoch"], 2);
}

TEST_F(MetricsLogTest, ALineCutShortIsEndedBeforeTheNextRecord) {
  std::ofstream(path_) << R"({"epoch":1,"step":600}
{"epoch":2,"st)";
  MetricsLog(path_).append(evaluation(3, 1800, 0.5, 1.0, 0.9, 3.0));
  const std::vector<std::string> lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], R"({"epoch":2,"st)");
  EXPECT_EQ(json::parse(lines[2])["epoch"], 3);
}

TEST_F(MetricsLogTest, NonFiniteNumbersAreWrittenAsNull) {
  MetricsLog(path_).append(
      evaluation(1, 600, std::numeric_limits<double>::quiet_NaN(), 1.0, 0.9, 1.0));
  EXPECT_TRUE(json::parse(lines_of(path_).at(0))["d_loss"].is_null());
}

TEST_F(MetricsLogTest, RejectsARecordThatIsNotAnObject) {
  MetricsLog log(path_);
  EXPECT_THROW(log.append(json::array({1, 2})), std::invalid_argument);
  EXPECT_TRUE(lines_of(path_).empty());
}

TEST_F(MetricsLogTest, UnopenablePathGivesAnErrorNamingIt) {
  const fs::path path = dir_ / "missing-directory" / "metrics.jsonl";
  try {
    MetricsLog log(path);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST_F(MetricsLogTest, PlotScriptCheckAcceptsTheLogAndSummarisesIt) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  {
    MetricsLog log(path_);
    log.append(evaluation(1, 600, 0.5, 1.2, 0.9012, 10.0));
    log.append(evaluation(2, 1200, 0.45, 1.1, 0.9634, 20.0));
    log.append(evaluation(3, 1800, std::numeric_limits<double>::infinity(), 1.0, 0.9521, 30.0));
  }
  const Outcome outcome = run_check(path_);
  EXPECT_EQ(outcome.status, 0) << outcome.output;
  EXPECT_NE(outcome.output.find("3 evaluations, epochs 1-3, steps 600-1800"), std::string::npos)
      << outcome.output;
  EXPECT_NE(outcome.output.find("losses: d_loss, g_loss"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("last 95.21% (epoch 3), best 96.34% (epoch 2)"), std::string::npos)
      << outcome.output;
}

TEST_F(MetricsLogTest, PlotScriptCheckRejectsAMalformedLine) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  MetricsLog(path_).append(evaluation(1, 600, 0.5, 1.2, 0.9, 10.0));
  std::ofstream(path_, std::ios::app) << "{\"epoch\": 2, \"step\": \n";
  const Outcome outcome = run_check(path_);
  EXPECT_EQ(outcome.status, 1) << outcome.output;
  EXPECT_NE(outcome.output.find("line 2: not JSON"), std::string::npos) << outcome.output;
}

TEST_F(MetricsLogTest, PlotScriptCheckRejectsAnEmptyFile) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  MetricsLog log(path_);
  const Outcome outcome = run_check(path_);
  EXPECT_EQ(outcome.status, 1) << outcome.output;
  EXPECT_NE(outcome.output.find("holds no records"), std::string::npos) << outcome.output;
}

TEST_F(MetricsLogTest, PlotScriptCheckRejectsARecordWithoutItsStep) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  MetricsLog(path_).append({{"epoch", 1}, {"test_accuracy", 0.9}});
  const Outcome outcome = run_check(path_);
  EXPECT_EQ(outcome.status, 1) << outcome.output;
  EXPECT_NE(outcome.output.find("line 1: the record has no \"step\""), std::string::npos)
      << outcome.output;
}

} // namespace
} // namespace sgan
