#pragma once
// sgan_train's command line: every flag, its help text, and how it overrides the recipe defaults.
#include <string>
#include <vector>

#include "engine/sgan/config.h"

namespace sgan {

struct ParsedFlags {
  TrainConfig config;
  int exit_code = -1;  // >= 0: exit now with this code (after --help, or a bad flag)
  std::string message; // what to print in that case
};

ParsedFlags parse_train_flags(const std::vector<std::string>& args);

}  // namespace sgan
