// libFuzzer target: load_safetensors on arbitrary bytes either throws std::runtime_error (its
// promise) or loads a file that saves and reloads to the same contents. Run by tests/fuzz/run.sh.
#include "engine/io/safetensors.h"

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = "/tmp/sgan-fuzz-" + std::to_string(::getpid()) + ".safetensors";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), size);
  sgan::Safetensors loaded;
  try {
    loaded = sgan::load_safetensors(path);
  } catch (const std::runtime_error&) {
    return 0;
  }
  sgan::save_safetensors(path, loaded);
  const sgan::Safetensors again = sgan::load_safetensors(path);
  if (again.metadata != loaded.metadata || again.tensors.size() != loaded.tensors.size())
    __builtin_trap();
  for (const sgan::TensorRecord& t : loaded.tensors) {
    const sgan::TensorRecord* u = again.find(t.name);
    if (!u || u->dtype != t.dtype || u->shape != t.shape || u->data != t.data) __builtin_trap();
  }
  return 0;
}
