// Loading an MNIST split: the pair of files by their standard names, raw or gzip, and the checks
// across the pair (equal counts, labels that are digit classes), each error naming its file.
#include "engine/data/mnist.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace sgan {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// An IDX file of unsigned bytes: 00 00 08 rank, big-endian uint32 dimensions, data.
Bytes idx_file(const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes out = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t dim : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(dim >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes pixels_of(int count, int rows, int cols) {
  Bytes out(static_cast<std::size_t>(count * rows * cols));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i * 13 + 1);
  return out;
}

class MnistTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sgan_mnist_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_raw(const std::string& name, const Bytes& bytes) {
    std::ofstream(dir_ / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }

  void write_gzip(const std::string& name, const Bytes& bytes) {
    gzFile file = gzopen((dir_ / name).c_str(), "wb");
    ASSERT_NE(file, nullptr);
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    ASSERT_EQ(gzclose(file), Z_OK);
  }

  std::string error_of(std::string_view split) {
    try {
      load_mnist_split(dir_, split);
    } catch (const std::exception& error) {
      return error.what();
    }
    ADD_FAILURE() << "load_mnist_split(" << split << ") did not throw";
    return {};
  }

  fs::path dir_;
};

#define EXPECT_CONTAINS(text, part)                                                                \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << text

TEST_F(MnistTest, LoadsRawSplit) {
  write_raw("train-images-idx3-ubyte", idx_file({4, 3, 2}, pixels_of(4, 3, 2)));
  write_raw("train-labels-idx1-ubyte", idx_file({4}, {7, 0, 9, 3}));
  const Dataset data = load_mnist_split(dir_, "train");
  EXPECT_EQ(data.count, 4);
  EXPECT_EQ(data.rows, 3);
  EXPECT_EQ(data.cols, 2);
  EXPECT_EQ(data.pixels, pixels_of(4, 3, 2));
  EXPECT_EQ(data.labels, (Bytes{7, 0, 9, 3}));
}

TEST_F(MnistTest, LoadsGzipSplit) {
  write_gzip("t10k-images-idx3-ubyte.gz", idx_file({2, 28, 28}, pixels_of(2, 28, 28)));
  write_gzip("t10k-labels-idx1-ubyte.gz", idx_file({2}, {1, 8}));
  const Dataset data = load_mnist_split(dir_, "t10k");
  EXPECT_EQ(data.count, 2);
  EXPECT_EQ(data.rows, 28);
  EXPECT_EQ(data.cols, 28);
  EXPECT_EQ(data.pixels, pixels_of(2, 28, 28));
  EXPECT_EQ(data.labels, (Bytes{1, 8}));
}

TEST_F(MnistTest, PrefersRawFileWhereBothArePresent) {
  write_raw("train-images-idx3-ubyte", idx_file({2, 1, 1}, {10, 20}));
  write_raw("train-labels-idx1-ubyte", idx_file({2}, {1, 2}));
  write_gzip("train-labels-idx1-ubyte.gz", idx_file({2}, {5, 6}));
  EXPECT_EQ(load_mnist_split(dir_, "train").labels, (Bytes{1, 2}));
}

TEST_F(MnistTest, MissingFileIsNamedWithTheFetchScript) {
  write_raw("train-labels-idx1-ubyte", idx_file({1}, {1}));
  const std::string message = error_of("train");
  EXPECT_CONTAINS(message, (dir_ / "train-images-idx3-ubyte").string());
  EXPECT_CONTAINS(message, "no such file");
  EXPECT_CONTAINS(message, "scripts/fetch_mnist.sh");
}

TEST_F(MnistTest, UnknownSplitIsRejected) {
  EXPECT_THROW(load_mnist_split(dir_, "test"), std::invalid_argument);
}

TEST_F(MnistTest, MismatchedCountsAreRejected) {
  write_raw("train-images-idx3-ubyte", idx_file({5, 2, 2}, pixels_of(5, 2, 2)));
  write_raw("train-labels-idx1-ubyte", idx_file({4}, {1, 2, 3, 4}));
  const std::string message = error_of("train");
  EXPECT_CONTAINS(message,
                  (dir_ / "train-labels-idx1-ubyte").string() + ": 4 labels for the 5 images of");
  EXPECT_CONTAINS(message, (dir_ / "train-images-idx3-ubyte").string());
}

TEST_F(MnistTest, LabelOutsideTheDigitClassesIsRejected) {
  write_raw("train-images-idx3-ubyte", idx_file({4, 2, 2}, pixels_of(4, 2, 2)));
  write_raw("train-labels-idx1-ubyte", idx_file({4}, {1, 9, 10, 4}));
  const std::string message = error_of("train");
  EXPECT_CONTAINS(message, (dir_ / "train-labels-idx1-ubyte").string());
  EXPECT_CONTAINS(message, "label 10 of image 2 is outside the classes 0 to 9");
}

// Swapped files: the images name holds a label file. The error names the images file.
TEST_F(MnistTest, LabelFileUnderTheImagesNameIsRejected) {
  write_raw("train-images-idx3-ubyte", idx_file({2}, {1, 2}));
  write_raw("train-labels-idx1-ubyte", idx_file({2}, {1, 2}));
  const std::string message = error_of("train");
  EXPECT_CONTAINS(message, (dir_ / "train-images-idx3-ubyte").string() + ": expected 3-D IDX data");
}

TEST_F(MnistTest, EmptyImagesAreRejected) {
  write_raw("train-images-idx3-ubyte", idx_file({0, 28, 28}, {}));
  write_raw("train-labels-idx1-ubyte", idx_file({0}, {}));
  const std::string message = error_of("train");
  EXPECT_CONTAINS(message, (dir_ / "train-images-idx3-ubyte").string() + ": holds no pixels");
}

// The real MNIST, where scripts/fetch_mnist.sh has put it ($SGAN_DATA, $SGAN_DATA/mnist or
// data/mnist in the repository).
std::optional<fs::path> real_mnist_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("SGAN_DATA")) {
    candidates.emplace_back(env);
    candidates.push_back(fs::path(env) / "mnist");
  }
  candidates.push_back(fs::path(__FILE__).parent_path().parent_path().parent_path() / "data" /
                       "mnist");
  for (const fs::path& dir : candidates)
    if (fs::exists(dir / "train-labels-idx1-ubyte") ||
        fs::exists(dir / "train-labels-idx1-ubyte.gz"))
      return dir;
  return std::nullopt;
}

std::array<int, 10> histogram(const Bytes& labels) {
  std::array<int, 10> counts{};
  for (const std::uint8_t label : labels) ++counts.at(label);
  return counts;
}

// MNIST's well-known class counts (LeCun et al.; e.g. the counts every MNIST loader prints):
// training set 5923 6742 5958 6131 5842 5421 5918 6265 5851 5949, test set 980 1135 1032 1010
// 982 892 958 1028 974 1009; the training labels start 5 0 4 1 9 2 1 3 1 4.
TEST(RealMnist, LoadsWithTheKnownCountsWherePresent) {
  const std::optional<fs::path> dir = real_mnist_dir();
  if (!dir) GTEST_SKIP() << "MNIST not found: scripts/fetch_mnist.sh downloads it into data/mnist";
  const Dataset train = load_mnist_split(*dir, "train");
  const Dataset test = load_mnist_split(*dir, "t10k");
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(test.count, 10000);
  EXPECT_EQ(train.rows, 28);
  EXPECT_EQ(train.cols, 28);
  EXPECT_EQ(train.pixels.size(), 60000u * 28 * 28);
  EXPECT_EQ(Bytes(train.labels.begin(), train.labels.begin() + 10),
            (Bytes{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}));
  EXPECT_EQ(histogram(train.labels),
            (std::array<int, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  EXPECT_EQ(histogram(test.labels),
            (std::array<int, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
}

} // namespace
} // namespace sgan
