#include "apps/train_flags.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <limits>

#include <nlohmann/json.hpp>

#include "engine/sgan/config.h"
#include "engine/sgan/run.h"

namespace sgan {
namespace {

ParsedFlags parse(std::vector<std::string> args) { return parse_train_flags(args); }

TEST(TrainFlags, RecipeDefaultsThenOverrides) {
  const ParsedFlags a = parse({"--recipe", "article"});
  ASSERT_LT(a.exit_code, 0) << a.message;
  EXPECT_EQ(a.config.batch_size, 64);
  EXPECT_FLOAT_EQ(a.config.lr, 2e-4f);
  EXPECT_EQ(a.config.fake_logit, FakeLogit::explicit_logit);
  EXPECT_EQ(a.config.g_loss, GeneratorLoss::nonsat);

  const ParsedFlags b = parse({"--labels", "1000", "--lr", "1e-3", "--fake-logit", "explicit",
                               "--g-loss", "nonsat", "--seed", "7", "--device", "cpu"});
  ASSERT_LT(b.exit_code, 0) << b.message;
  EXPECT_EQ(b.config.recipe, "improved");
  EXPECT_EQ(b.config.labels, 1000);
  EXPECT_FLOAT_EQ(b.config.lr, 1e-3f);
  EXPECT_FLOAT_EQ(b.config.final_lr, 1e-3f);
  EXPECT_EQ(b.config.fake_logit, FakeLogit::explicit_logit);
  EXPECT_EQ(b.config.seed, 7u);
  EXPECT_EQ(b.config.device, "cpu");
  EXPECT_FALSE(b.config.tf32);

  const ParsedFlags c = parse({"--tf32"});
  ASSERT_LT(c.exit_code, 0) << c.message;
  EXPECT_TRUE(c.config.tf32);
  EXPECT_EQ(c.config.device, "cuda");
}

TEST(TrainFlags, EverySeedUpToTheLargestIsAccepted) {
  for (const std::uint64_t seed : {std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()}) {
    const ParsedFlags p = parse({"--seed", std::to_string(seed)});
    ASSERT_LT(p.exit_code, 0) << p.message;
    EXPECT_EQ(p.config.seed, seed);
  }
}

// config.json and the checkpoints carry the configuration as JSON: floats are written in their
// shortest decimal form and read back as the very same floats (resume compares them exactly).
TEST(TrainConfigJson, FloatsAreShortDecimalsAndRoundTripExactly) {
  TrainConfig c = recipe_defaults("improved");
  c.lr = 3e-3f;
  c.beta1 = 0.9f;
  c.ema_rate = 1e-4f;
  c.unsup_weight = 0.7f;
  const nlohmann::json j = to_json(c);
  EXPECT_EQ(j.at("lr").dump(), "0.003");
  EXPECT_EQ(j.at("ema_rate").dump(), "0.0001");
  const TrainConfig back = config_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.lr, c.lr);
  EXPECT_EQ(back.final_lr, c.final_lr);
  EXPECT_EQ(back.beta1, c.beta1);
  EXPECT_EQ(back.ema_rate, c.ema_rate);
  EXPECT_EQ(back.unsup_weight, c.unsup_weight);
}

// The precision is part of the record; a configuration written before --tf32 existed was FP32.
TEST(TrainConfigJson, Tf32RoundTripsAndDefaultsToFp32) {
  TrainConfig c = recipe_defaults("article");
  c.tf32 = true;
  nlohmann::json j = to_json(c);
  EXPECT_EQ(j.at("tf32"), true);
  EXPECT_TRUE(config_from_json(nlohmann::json::parse(j.dump())).tf32);
  j.erase("tf32");
  EXPECT_FALSE(config_from_json(j).tf32);
}

// The thread count changes no result, so it is recorded but not required: a configuration from
// before --cpu-threads used every hardware thread (0).
TEST(TrainConfigJson, CpuThreadsComeFromTheFlagRoundTripAndDefaultToAll) {
  const ParsedFlags p = parse({"--cpu-threads", "3"});
  ASSERT_LT(p.exit_code, 0) << p.message;
  EXPECT_EQ(p.config.cpu_threads, 3);
  EXPECT_EQ(parse({}).config.cpu_threads, 0);
  nlohmann::json j = to_json(p.config);
  EXPECT_EQ(j.at("cpu_threads"), 3);
  EXPECT_EQ(config_from_json(nlohmann::json::parse(j.dump())).cpu_threads, 3);
  j.erase("cpu_threads");
  EXPECT_EQ(config_from_json(j).cpu_threads, 0);
}

// A damaged record is refused naming the setting, never cast (a fraction or an out-of-range
// number would become some other integer or float).
TEST(TrainConfigJson, DamagedSettingsAreRefusedNamingTheSetting) {
  struct Damage {
    const char* key;
    nlohmann::json value;
    const char* problem;
  };
  const Damage damages[] = {
      {"labels", 10.5, "setting \"labels\" is 10.5, not an integer in range"},
      {"labels", 1e300, "setting \"labels\" is 1e+300"},
      {"labels", std::int64_t{1} << 40, "setting \"labels\" is 1099511627776"},
      {"steps", "7", "setting \"steps\" is \"7\", not an integer in range"},
      {"seed", -1, "setting \"seed\" is -1"},
      {"lr", 1e39, "setting \"lr\" is 1e+39, not a finite float"},
      {"supervised_only", 1, "setting \"supervised_only\" is 1, not true or false"},
      {"device", 0, "setting \"device\" is 0, not a string"},
      {"cpu_threads", 2.5, "setting \"cpu_threads\" is 2.5, not an integer in range"},
      {"recipe", "sideways", "unknown recipe 'sideways'"},
      {"g_loss", "sideways", "got 'sideways'"},
  };
  const nlohmann::json good = to_json(recipe_defaults("article"));
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.key);
    nlohmann::json j = good;
    j[d.key] = d.value;
    std::string message = "(read without an error)";
    try {
      config_from_json(j);
    } catch (const std::exception& e) {
      message = e.what();
    }
    EXPECT_NE(message.find(d.problem), std::string::npos) << message;
  }
  nlohmann::json largest = good;
  largest["seed"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(config_from_json(largest).seed, std::numeric_limits<std::uint64_t>::max());
}

TEST(TrainFlags, HelpExplainsEveryFlagAndExitsZero) {
  const ParsedFlags p = parse({"--help"});
  EXPECT_EQ(p.exit_code, exit_ok);
  for (const char* flag : {"--recipe", "--labels", "--epochs", "--steps", "--batch-size", "--lr",
                           "--seed", "--device", "--data", "--out", "--resume", "--eval-every",
                           "--sample-every", "--fake-logit", "--g-loss", "--unsup-weight",
                           "--supervised-only", "--tf32"})
    EXPECT_NE(p.message.find(flag), std::string::npos) << flag;
}

struct BadFlags {
  std::vector<std::string> args;
  const char* message_part;
};

// Names each case in test listings (ctest) by its flags.
void PrintTo(const BadFlags& bad, std::ostream* os) {
  *os << fmt::format("{}", fmt::join(bad.args, " "));
}

class TrainFlagsRejects : public ::testing::TestWithParam<BadFlags> {};

TEST_P(TrainFlagsRejects, WithExitCodeTwoAndAMessageNamingTheProblem) {
  const ParsedFlags p = parse(GetParam().args);
  EXPECT_EQ(p.exit_code, exit_usage);
  EXPECT_NE(p.message.find(GetParam().message_part), std::string::npos) << p.message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TrainFlagsRejects,
    ::testing::Values(BadFlags{{"--labels", "-10"}, "--labels must be positive"},
                      BadFlags{{"--labels", "0"}, "--labels must be positive"},
                      BadFlags{{"--labels", "105"}, "multiple of 10"},
                      BadFlags{{"--labels", "60010"}, "cannot exceed"},
                      BadFlags{{"--recipe", "dcgan"}, "unknown recipe 'dcgan'"},
                      BadFlags{{"--device", "tpu"}, "unknown device 'tpu'"},
                      BadFlags{{"--fake-logit", "maybe"}, "--fake-logit"},
                      BadFlags{{"--g-loss", "wgan"}, "--g-loss"},
                      BadFlags{{"--batch-size", "0"}, "--batch-size"},
                      BadFlags{{"--lr", "-1"}, "--lr must be positive"},
                      BadFlags{{"--lr", "1e50"}, "--lr must be positive and finite, got inf"},
                      BadFlags{{"--lr", "inf"}, "--lr must be positive and finite"},
                      BadFlags{{"--final-lr", "1e50"}, "--final-lr must be finite"},
                      BadFlags{{"--unsup-weight", "inf"}, "--unsup-weight must be finite"},
                      BadFlags{{"--seed", "-1"},
                               "--seed: must be a whole number from 0 to "
                               "18446744073709551615, got '-1'"},
                      BadFlags{{"--seed", "18446744073709551616"}, "got '18446744073709551616'"},
                      BadFlags{{"--epochs", "0"}, "--epochs"},
                      BadFlags{{"--labels", "ten"}, "--labels"},
                      BadFlags{{"--no-such-flag"}, "no-such-flag"},
                      BadFlags{{"--tf32", "--device", "cpu"}, "--tf32 needs --device cuda"},
                      BadFlags{{"--tf32", "--device", "cudnn"}, "--tf32 needs --device cuda"},
                      BadFlags{{"--cpu-threads", "-1"}, "--cpu-threads must be between 0"},
                      BadFlags{{"--cpu-threads", "1025"}, "and 1024, got 1025"}));

}  // namespace
}  // namespace sgan
