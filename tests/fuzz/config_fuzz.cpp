// libFuzzer target: config_from_json on any JSON returns or throws nlohmann's exception or
// std::invalid_argument naming the setting, never reads a value its type cannot hold (UBSan).
// Run by tests/fuzz/run.sh.
#include "engine/sgan/config.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  try {
    (void)sgan::config_from_json(json);
  } catch (const nlohmann::json::exception&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
