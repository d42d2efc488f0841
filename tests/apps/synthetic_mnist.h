#pragma once
// A small MNIST-shaped data set written as the four IDX files, for app and trainer tests that
// must not depend on the real MNIST being downloaded. Class c is a bright 6x6 block whose place on
// a 2 x 5 grid of the 28x28 image is fixed by c, on a background of uniform noise: separable
// enough that a classifier beats chance (10%) after a few dozen steps, never trivially (the noise
// reaches the block's brightness).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace sgan::test {

inline void write_idx(const std::filesystem::path& path, const std::vector<std::uint32_t>& dims,
                      const std::vector<std::uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  const std::uint8_t magic[4] = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  f.write(reinterpret_cast<const char*>(magic), 4);
  for (std::uint32_t d : dims) {
    const std::uint8_t be[4] = {std::uint8_t(d >> 24), std::uint8_t(d >> 16), std::uint8_t(d >> 8),
                                std::uint8_t(d)};
    f.write(reinterpret_cast<const char*>(be), 4);
  }
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline void write_synthetic_split(const std::filesystem::path& dir, const std::string& prefix,
                                  int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> images(std::size_t(count) * 28 * 28);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const int c = i % 10;
    labels[std::size_t(i)] = std::uint8_t(c);
    std::uint8_t* image = images.data() + std::size_t(i) * 28 * 28;
    for (int p = 0; p < 28 * 28; ++p) image[p] = std::uint8_t(rng() % 120);
    const int top = 4 + 12 * (c / 5), left = 1 + 5 * (c % 5);
    for (int r = top; r < top + 6; ++r)
      for (int col = left; col < left + 6 && col < 28; ++col)
        image[r * 28 + col] = std::uint8_t(150 + rng() % 106);
  }
  write_idx(dir / (prefix + "-images-idx3-ubyte"), {std::uint32_t(count), 28, 28}, images);
  write_idx(dir / (prefix + "-labels-idx1-ubyte"), {std::uint32_t(count)}, labels);
}

// Writes train (train_count images) and t10k (test_count images) files into `dir`.
inline void write_synthetic_mnist(const std::filesystem::path& dir, int train_count,
                                  int test_count) {
  std::filesystem::create_directories(dir);
  write_synthetic_split(dir, "train", train_count, 1);
  write_synthetic_split(dir, "t10k", test_count, 2);
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              (name + "-" + std::to_string(std::random_device{}()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace sgan::test
