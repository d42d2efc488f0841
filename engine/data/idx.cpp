#include "engine/data/idx.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <zlib.h>

namespace sgan {
namespace {

template <typename... Args>
[[noreturn]] void fail(const std::filesystem::path& path, fmt::format_string<Args...> problem,
                       Args&&... args) {
  throw std::runtime_error(
      fmt::format("{}: {}", path.string(), fmt::format(problem, std::forward<Args>(args)...)));
}

std::string_view idx_type_name(std::uint8_t code) {
  switch (code) {
  case 0x08:
    return "unsigned byte";
  case 0x09:
    return "signed byte";
  case 0x0B:
    return "int16";
  case 0x0C:
    return "int32";
  case 0x0D:
    return "float32";
  case 0x0E:
    return "float64";
  default:
    return "not an IDX type";
  }
}

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}

struct GzClose {
  void operator()(gzFile_s* file) const { gzclose(file); }
};

// The bytes of a file, decompressed where it is gzip: zlib recognises gzip by its magic bytes
// (1f 8b) and reads any other file as it is.
class ByteSource {
public:
  explicit ByteSource(const std::filesystem::path& path) : path_(path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) fail(path, "no such file");
    if (std::filesystem::is_directory(status)) fail(path, "is a directory, not an IDX file");
    errno = 0;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) fail(path, "cannot open the file ({})", errno ? std::strerror(errno) : "zlib");
    gzbuffer(file_.get(), 1 << 20);
  }

  // Reads up to `count` bytes into `dst` and returns how many it read: fewer only where the data
  // ends. A gzip stream that is corrupt or cut short throws.
  std::size_t read(std::uint8_t* dst, std::size_t count) {
    std::size_t total = 0;
    while (total < count) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(count - total, 1u << 30));
      const int got = gzread(file_.get(), dst + total, chunk);
      check_stream();
      if (got <= 0) break;
      total += static_cast<std::size_t>(got);
    }
    return total;
  }

private:
  void check_stream() {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    if (code == Z_OK) return;
    if (code == Z_ERRNO) fail(path_, "read error ({})", std::strerror(errno));
    if (code == Z_BUF_ERROR) fail(path_, "corrupt gzip data: the compressed stream is cut short");
    fail(path_, "corrupt gzip data ({})", message);
  }

  std::filesystem::path path_;
  std::unique_ptr<gzFile_s, GzClose> file_;
};

std::uint64_t data_size(const std::filesystem::path& path, const std::vector<std::uint32_t>& dims) {
  std::uint64_t size = 1;
  for (const std::uint32_t dim : dims) {
    if (dim != 0 && size > std::numeric_limits<std::size_t>::max() / dim)
      fail(path, "the dimensions {} declare more data than memory can hold", fmt::join(dims, "x"));
    size *= dim;
  }
  return size;
}

// Bytes left in `source` (there should be none).
std::uint64_t count_remaining(ByteSource& source) {
  std::array<std::uint8_t, 1 << 16> scratch;
  std::uint64_t count = 0;
  while (const std::size_t got = source.read(scratch.data(), scratch.size())) count += got;
  return count;
}

} // namespace

IdxArray read_idx(const std::filesystem::path& path, int expected_rank) {
  if (expected_rank < 1 || expected_rank > 255)
    throw std::invalid_argument(fmt::format("IDX rank must be 1 to 255, got {}", expected_rank));
  const std::uint32_t expected_magic =
      kIdxUnsignedByte << 8 | static_cast<std::uint32_t>(expected_rank);
  ByteSource source(path);

  std::array<std::uint8_t, 4> magic;
  if (const std::size_t got = source.read(magic.data(), magic.size()); got < magic.size())
    fail(path, "the file ends inside the IDX magic number (expected 4 bytes, got {})", got);
  const std::uint32_t found_magic = big_endian_u32(magic.data());
  if (magic[0] != 0 || magic[1] != 0)
    fail(path, "expected IDX magic number 0x{:08x}, found 0x{:08x} (not an IDX file)",
         expected_magic, found_magic);
  if (magic[2] != kIdxUnsignedByte)
    fail(path, "IDX data type 0x{:02x} ({}) is not supported, only unsigned bytes (0x08) are",
         magic[2], idx_type_name(magic[2]));
  if (magic[3] != expected_rank)
    fail(path, "expected {}-D IDX data (magic 0x{:08x}), found {}-D (magic 0x{:08x})",
         expected_rank, expected_magic, magic[3], found_magic);

  std::vector<std::uint8_t> header(4 * static_cast<std::size_t>(expected_rank));
  if (const std::size_t got = source.read(header.data(), header.size()); got < header.size())
    fail(path, "the file ends inside the IDX dimensions (expected {} bytes, got {})", header.size(),
         got);
  IdxArray array;
  for (int d = 0; d < expected_rank; ++d) array.dims.push_back(big_endian_u32(&header[4 * d]));

  // Read in chunks rather than trusting the header with one allocation: a corrupt header that
  // declares terabytes fails as truncated data, not as an out-of-memory error.
  const std::uint64_t expected = data_size(path, array.dims);
  constexpr std::size_t chunk = std::size_t{1} << 24;
  while (array.bytes.size() < expected) {
    const std::size_t old_size = array.bytes.size();
    const std::size_t want = std::min<std::uint64_t>(chunk, expected - old_size);
    array.bytes.resize(old_size + want);
    const std::size_t got = source.read(array.bytes.data() + old_size, want);
    array.bytes.resize(old_size + got);
    if (got < want) break;
  }
  if (array.bytes.size() < expected)
    fail(path, "truncated data: dimensions {} declare {} bytes, got {}", fmt::join(array.dims, "x"),
         expected, array.bytes.size());
  if (const std::uint64_t extra = count_remaining(source); extra > 0)
    fail(path, "{} bytes of trailing data after the {} bytes the header declares", extra, expected);
  return array;
}

} // namespace sgan
