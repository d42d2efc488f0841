// The IDX reader: raw and gzip files, and one clear error per kind of malformed file, each naming
// the file. The files are written here byte by byte from the format's definition (magic 00 00
// type rank, big-endian uint32 dimensions, data), independently of the reader.
#include "engine/data/idx.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace sgan {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

void append_big_endian(Bytes& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(value >> shift));
}

Bytes idx_file(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t dim : dims) append_big_endian(out, dim);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes sequence(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return out;
}

class IdxTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sgan_idx_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_raw(const std::string& name, const Bytes& bytes) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  fs::path write_gzip(const std::string& name, const Bytes& bytes) {
    const fs::path path = dir_ / name;
    gzFile file = gzopen(path.c_str(), "wb");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return path;
  }

  static Bytes read_back(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

// Runs read_idx and returns its error message, failing the test where it does not throw.
std::string error_of(const fs::path& path, int rank) {
  try {
    read_idx(path, rank);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  ADD_FAILURE() << "read_idx(" << path << ") did not throw";
  return {};
}

#define EXPECT_CONTAINS(text, part)                                                                \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << text

TEST_F(IdxTest, ReadsRawImageFile) {
  const Bytes data = sequence(2 * 3 * 4);
  const IdxArray array = read_idx(write_raw("images", idx_file(0x08, {2, 3, 4}, data)), 3);
  EXPECT_EQ(array.dims, (std::vector<std::uint32_t>{2, 3, 4}));
  EXPECT_EQ(array.bytes, data);
}

TEST_F(IdxTest, ReadsRawLabelFile) {
  const Bytes data = {5, 0, 4, 1, 9};
  const IdxArray array = read_idx(write_raw("labels", idx_file(0x08, {5}, data)), 1);
  EXPECT_EQ(array.dims, (std::vector<std::uint32_t>{5}));
  EXPECT_EQ(array.bytes, data);
}

TEST_F(IdxTest, DimensionsAreBigEndian) {
  const Bytes data = sequence(0x0102);
  const IdxArray array = read_idx(write_raw("labels", idx_file(0x08, {0x0102}, data)), 1);
  EXPECT_EQ(array.dims, (std::vector<std::uint32_t>{258}));
}

// Gzip is recognised by its content: a gzip file without ".gz" and a raw file named ".gz" both
// read.
TEST_F(IdxTest, RecognisesGzipByContentNotName) {
  const Bytes file = idx_file(0x08, {3, 5, 2}, sequence(30));
  for (const fs::path& path : {write_gzip("images", file), write_raw("raw.gz", file)}) {
    const IdxArray array = read_idx(path, 3);
    EXPECT_EQ(array.dims, (std::vector<std::uint32_t>{3, 5, 2})) << path;
    EXPECT_EQ(array.bytes, sequence(30)) << path;
  }
}

// A gzip file larger than the reader's 16 MiB chunks and zlib's buffer.
TEST_F(IdxTest, ReadsLargeGzipFile) {
  const Bytes data = sequence(17u << 20);
  const IdxArray array = read_idx(write_gzip("big.gz", idx_file(0x08, {17, 1024, 1024}, data)), 3);
  EXPECT_EQ(array.bytes, data);
}

TEST_F(IdxTest, MissingFileIsNamed) {
  const std::string message = error_of(dir_ / "train-images-idx3-ubyte", 3);
  EXPECT_CONTAINS(message, (dir_ / "train-images-idx3-ubyte").string());
  EXPECT_CONTAINS(message, "no such file");
}

TEST_F(IdxTest, WrongMagicIsRejected) {
  Bytes file = idx_file(0x08, {2}, {1, 2});
  file[0] = 0x50; // e.g. a PNG or text file
  const fs::path path = write_raw("not-idx", file);
  const std::string message = error_of(path, 1);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "expected IDX magic number 0x00000801, found 0x50000801");
}

TEST_F(IdxTest, UnsupportedDataTypeIsRejected) {
  const fs::path path = write_raw("floats", idx_file(0x0D, {1}, {0, 0, 0, 0}));
  const std::string message = error_of(path, 1);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "IDX data type 0x0d (float32) is not supported");
}

TEST_F(IdxTest, WrongNumberOfDimensionsIsRejected) {
  const fs::path path = write_raw("train-labels-idx1-ubyte", idx_file(0x08, {3}, {1, 2, 3}));
  const std::string message = error_of(path, 3);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message,
                  "expected 3-D IDX data (magic 0x00000803), found 1-D (magic 0x00000801)");
}

TEST_F(IdxTest, FileEndingInsideTheMagicIsTruncated) {
  const fs::path path = write_raw("short", {0, 0});
  const std::string message = error_of(path, 1);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "ends inside the IDX magic number (expected 4 bytes, got 2)");
}

TEST_F(IdxTest, FileEndingInsideTheDimensionsIsTruncated) {
  const fs::path path = write_raw("short", {0, 0, 8, 3, 0, 0, 0, 2, 0});
  const std::string message = error_of(path, 3);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "ends inside the IDX dimensions (expected 12 bytes, got 5)");
}

TEST_F(IdxTest, TruncatedDataStatesExpectedAndGotBytes) {
  Bytes data = sequence(2 * 3 * 4);
  data.pop_back();
  const Bytes file = idx_file(0x08, {2, 3, 4}, data);
  for (const fs::path& path : {write_raw("cut", file), write_gzip("cut.gz", file)}) {
    const std::string message = error_of(path, 3);
    EXPECT_CONTAINS(message, path.string());
    EXPECT_CONTAINS(message, "truncated data: dimensions 2x3x4 declare 24 bytes, got 23");
  }
}

// A corrupt header declaring about 2^48 bytes must fail as truncated data after reading what is
// there, not by trying to allocate what the header claims.
TEST_F(IdxTest, HugeDeclaredSizeFailsAsTruncatedData) {
  const fs::path path = write_raw("huge", idx_file(0x08, {0xFFFFFFFFu, 0xFFFFu, 1}, sequence(10)));
  const std::string message = error_of(path, 3);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "truncated data");
  EXPECT_CONTAINS(message, "got 10");
}

TEST_F(IdxTest, SizeBeyondMemoryIsRejected) {
  const fs::path path =
      write_raw("absurd", idx_file(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {}));
  const std::string message = error_of(path, 3);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "declare more data than memory can hold");
}

TEST_F(IdxTest, TrailingDataIsRejected) {
  Bytes data = sequence(6);
  data.push_back(0);
  data.push_back(0);
  const Bytes file = idx_file(0x08, {6}, data);
  for (const fs::path& path : {write_raw("long", file), write_gzip("long.gz", file)}) {
    const std::string message = error_of(path, 1);
    EXPECT_CONTAINS(message, path.string());
    EXPECT_CONTAINS(message, "2 bytes of trailing data after the 6 bytes the header declares");
  }
}

// The gzip trailer holds the CRC-32 of the uncompressed data (RFC 1952): a wrong one must be
// caught.
TEST_F(IdxTest, GzipWithWrongChecksumIsCorrupt) {
  const fs::path path = write_gzip("images.gz", idx_file(0x08, {4, 4, 4}, sequence(64)));
  Bytes gzip = read_back(path);
  gzip[gzip.size() - 8] ^= 0xFF;
  write_raw("images.gz", gzip);
  const std::string message = error_of(path, 3);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "corrupt gzip data");
}

// Deflate block type 3 is reserved (RFC 1951): setting both type bits of the first block header
// (bits 1-2 of the byte after the 10-byte gzip header) makes the stream invalid.
TEST_F(IdxTest, GzipWithInvalidDeflateStreamIsCorrupt) {
  const fs::path path = write_gzip("images.gz", idx_file(0x08, {4, 4, 4}, sequence(64)));
  Bytes gzip = read_back(path);
  gzip[10] |= 0x06;
  write_raw("images.gz", gzip);
  const std::string message = error_of(path, 3);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "corrupt gzip data");
}

TEST_F(IdxTest, GzipCutShortIsCorrupt) {
  std::mt19937 rng(2);
  Bytes data(4096);
  for (std::uint8_t& byte : data) byte = static_cast<std::uint8_t>(rng());
  const fs::path path = write_gzip("images.gz", idx_file(0x08, {4, 32, 32}, data));
  Bytes gzip = read_back(path);
  gzip.resize(gzip.size() / 2);
  write_raw("images.gz", gzip);
  const std::string message = error_of(path, 3);
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "corrupt gzip data: the compressed stream is cut short");
}

// Fashion-MNIST has MNIST's format and names, gzip-compressed as distributed: 28x28 images.
TEST_F(IdxTest, ReadsFashionMnistShapedGzipFiles) {
  const Bytes pixels = sequence(3 * 28 * 28);
  const IdxArray images =
      read_idx(write_gzip("train-images-idx3-ubyte.gz", idx_file(0x08, {3, 28, 28}, pixels)), 3);
  const IdxArray labels =
      read_idx(write_gzip("train-labels-idx1-ubyte.gz", idx_file(0x08, {3}, {9, 0, 0})), 1);
  EXPECT_EQ(images.dims, (std::vector<std::uint32_t>{3, 28, 28}));
  EXPECT_EQ(images.bytes, pixels);
  EXPECT_EQ(labels.bytes, (Bytes{9, 0, 0}));
}

// The real Fashion-MNIST from Debian's dataset-fashion-mnist package, where installed: its
// training set is 60,000 28x28 images, 6,000 of each of the 10 classes, and starts with the
// labels 9 0 0 3 0 2 7 2 5 5 (ankle boot, T-shirt, ...), as published with the data set.
TEST(FashionMnist, RealTrainingSetReadsWhereInstalled) {
  const fs::path dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(dir / "train-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
  const IdxArray images = read_idx(dir / "train-images-idx3-ubyte.gz", 3);
  const IdxArray labels = read_idx(dir / "train-labels-idx1-ubyte.gz", 1);
  EXPECT_EQ(images.dims, (std::vector<std::uint32_t>{60000, 28, 28}));
  ASSERT_EQ(labels.dims, (std::vector<std::uint32_t>{60000}));
  EXPECT_EQ(Bytes(labels.bytes.begin(), labels.bytes.begin() + 10),
            (Bytes{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  std::array<int, 10> histogram{};
  for (const std::uint8_t label : labels.bytes) ++histogram.at(label);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(histogram[c], 6000) << "class " << c;
}

} // namespace
} // namespace sgan
