#pragma once
// Safetensors files (https://github.com/huggingface/safetensors), the format of our checkpoints,
// readable by PyTorch's `safetensors` package as they are:
//   8 bytes      N, the header size, a little-endian u64 (a multiple of 8 here: we pad with spaces)
//   N bytes      UTF-8 JSON: {"__metadata__": {"key": "value", ...},
//                             "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin,
//                             end]}, ...}
//   the rest     the tensors' bytes, little-endian and row-major; offsets count from the end of the
//                header, and the tensors tile this buffer exactly: no gaps, overlaps or trailing
//                bytes.
// A shape of [] is a scalar (one element); a shape with a zero dimension holds no bytes.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sgan {

enum class DType { f32, f64, i32, i64, u8, u32, u64 };

std::size_t dtype_size(DType dtype);      // bytes per element
std::string_view dtype_name(DType dtype); // the safetensors name: "F32", "F64", "I32", ...

struct TensorRecord {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data; // exactly (product of shape) * dtype_size(dtype) bytes
};

struct Safetensors {
  std::vector<TensorRecord> tensors;           // in file order
  std::map<std::string, std::string> metadata; // the "__metadata__" object
  std::filesystem::path file;                  // where it was loaded from; named in errors

  const TensorRecord* find(std::string_view name) const; // null if absent
  const TensorRecord& at(std::string_view name) const;   // throws naming the tensor and the file
};

// Writes `contents` atomically (write_file_atomically). The data are laid out by descending element
// size, as the reference writer does, so that after the 8-byte-aligned header every tensor is
// aligned for its dtype (PyTorch refuses to view misaligned bytes as a wider type); tensors of one
// element size keep their order in `contents`. Throws std::invalid_argument for contents that
// cannot be written (duplicate or reserved names, data of the wrong size, negative dimensions).
void save_safetensors(const std::filesystem::path& path, const Safetensors& contents);

// Reads and validates a whole file; throws std::runtime_error with one sentence naming the file
// and the problem (truncated, not JSON, bad dtype, shape or offsets, trailing bytes, ...).
Safetensors load_safetensors(const std::filesystem::path& path);

// Checks a record against what a model expects; throws std::runtime_error saying what differs,
// e.g. "tensor 'D.conv1.weight' in ckpt.safetensors has shape [64,1,3,3], expected [64,1,4,4]".
void expect_record(const TensorRecord& record, DType dtype, const std::vector<std::int64_t>& shape,
                   const std::filesystem::path& file);

} // namespace sgan
