#include "engine/data/mnist.h"

#include "engine/data/idx.h"

#include <algorithm>
#include <climits>
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace sgan {
namespace {

// `dir`/`name`, or `dir`/`name`.gz where only that exists.
std::filesystem::path find_file(const std::filesystem::path& dir, const std::string& name) {
  const std::filesystem::path raw = dir / name;
  if (std::filesystem::exists(raw)) return raw;
  std::filesystem::path gzip = raw;
  gzip += ".gz";
  if (std::filesystem::exists(gzip)) return gzip;
  throw std::runtime_error(fmt::format(
      "{}: no such file, nor with .gz appended (scripts/fetch_mnist.sh downloads MNIST)",
      raw.string()));
}

int checked_int(const std::filesystem::path& path, std::uint32_t value, std::string_view what) {
  if (value > INT_MAX)
    throw std::runtime_error(fmt::format("{}: {} {} is too large", path.string(), what, value));
  return static_cast<int>(value);
}

} // namespace

Dataset load_mnist_split(const std::filesystem::path& dir, std::string_view split) {
  if (split != "train" && split != "t10k")
    throw std::invalid_argument(
        fmt::format("unknown MNIST split '{}', expected 'train' or 't10k'", split));
  const auto images_path = find_file(dir, fmt::format("{}-images-idx3-ubyte", split));
  const auto labels_path = find_file(dir, fmt::format("{}-labels-idx1-ubyte", split));
  IdxArray images = read_idx(images_path, 3);
  IdxArray labels = read_idx(labels_path, 1);

  Dataset data;
  data.count = checked_int(images_path, images.dims[0], "image count");
  data.rows = checked_int(images_path, images.dims[1], "row count");
  data.cols = checked_int(images_path, images.dims[2], "column count");
  if (data.count == 0 || data.rows == 0 || data.cols == 0)
    throw std::runtime_error(fmt::format("{}: holds no pixels ({} images of {}x{})",
                                         images_path.string(), data.count, data.rows, data.cols));
  if (labels.dims[0] != images.dims[0])
    throw std::runtime_error(fmt::format("{}: {} labels for the {} images of {}",
                                         labels_path.string(), labels.dims[0], images.dims[0],
                                         images_path.string()));
  const auto bad = std::find_if(labels.bytes.begin(), labels.bytes.end(),
                                [](std::uint8_t label) { return label >= kMnistClasses; });
  if (bad != labels.bytes.end())
    throw std::runtime_error(fmt::format("{}: label {} of image {} is outside the classes 0 to {}",
                                         labels_path.string(), *bad, bad - labels.bytes.begin(),
                                         kMnistClasses - 1));
  data.pixels = std::move(images.bytes);
  data.labels = std::move(labels.bytes);
  return data;
}

} // namespace sgan
