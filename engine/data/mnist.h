#pragma once
// MNIST and data sets in its layout (Fashion-MNIST): a split is a pair of IDX files, the images
// (count x rows x cols unsigned bytes, 0 = background) and one label per image.
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace sgan {

inline constexpr int kMnistClasses = 10;

// Images and their labels, as read from the files.
struct Dataset {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels; // count * rows * cols, image after image, each row-major
  std::vector<std::uint8_t> labels; // count, each below kMnistClasses
};

// Loads the split `split` ("train" or "t10k") from `dir`: <split>-images-idx3-ubyte and
// <split>-labels-idx1-ubyte, each raw or with ".gz" appended (the raw file where both are
// present). The images must be 3-D with at least one non-empty image, the labels 1-D with one
// label per image, each below kMnistClasses. Any problem throws std::runtime_error with one
// sentence naming the file and the problem (see read_idx for the file-level ones).
Dataset load_mnist_split(const std::filesystem::path& dir, std::string_view split);

} // namespace sgan
