// libFuzzer target: read_idx on arbitrary bytes (raw or gzip), the first byte choosing the rank
// expected, returns or throws std::runtime_error (its promise). Run by tests/fuzz/run.sh.
#include "engine/data/idx.h"

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string path = "/tmp/sgan-fuzz-" + std::to_string(::getpid()) + ".idx";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    (void)sgan::read_idx(path, 1 + data[0] % 4);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
