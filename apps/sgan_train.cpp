// sgan_train: the product's main job. Parses flags and hands the run to the engine.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/train_flags.h"
#include "engine/sgan/run.h"

namespace {
std::atomic<bool> stop_requested{false};
// Ctrl-C: the run saves a checkpoint at the end of the current iteration and exits; a second
// Ctrl-C ends the process at once.
extern "C" void on_interrupt(int) {
  if (stop_requested.exchange(true)) std::_Exit(sgan::exit_interrupted);
}
}  // namespace

int main(int argc, char** argv) {
  const sgan::ParsedFlags flags = sgan::parse_train_flags(std::vector<std::string>(argv + 1, argv + argc));
  if (flags.exit_code >= 0) {
    std::fputs(flags.message.c_str(), flags.exit_code == 0 ? stdout : stderr);
    return flags.exit_code;
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  return sgan::run_training(flags.config, &stop_requested);
}
