#pragma once
// Reading IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic number (two zero bytes,
// a data-type code, the number of dimensions), one big-endian uint32 per dimension, then the data,
// row-major. Gzip-compressed files (.gz, recognised by their content, not their name) read the
// same.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace sgan {

// An IDX file's contents: the dimensions, outermost first, and the bytes, row-major.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> bytes;
};

// The IDX data-type code of unsigned bytes, the only type we read.
inline constexpr std::uint8_t kIdxUnsignedByte = 0x08;

// Reads the IDX file at `path`, raw or gzip-compressed, which must hold unsigned bytes in
// `expected_rank` dimensions (so its magic number is 0x0000080N for N = expected_rank). Every
// problem throws std::runtime_error with one sentence that starts with the path and names the
// problem: no such file, a magic number that is not IDX, a data type other than unsigned bytes,
// the wrong number of dimensions, a header or data shorter than declared (expected vs got bytes),
// bytes after the declared data, corrupt gzip data.
IdxArray read_idx(const std::filesystem::path& path, int expected_rank);

} // namespace sgan
