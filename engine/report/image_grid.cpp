#include "engine/report/image_grid.h"

#include "engine/io/atomic_file.h"

#include <cmath>
#include <cstddef>
#include <fmt/format.h>
#include <stb_image_write.h>
#include <stdexcept>

namespace sgan {
namespace {

// stb's PNG writer counts bytes in int; this keeps a grid far inside that.
constexpr long long max_side_pixels = 1 << 15;

void check_grid_arguments(const float* images, int count, int rows, int cols, int grid_rows,
                          int grid_cols, float lo, float hi, int border) {
  if (rows < 1 || cols < 1)
    throw std::invalid_argument(fmt::format(
        "cannot tile images of {}x{} pixels: both sides must be at least 1", rows, cols));
  if (grid_rows < 1 || grid_cols < 1)
    throw std::invalid_argument(
        fmt::format("cannot tile into a grid of {}x{} cells: both sides must be at least 1",
                    grid_rows, grid_cols));
  if (border < 0)
    throw std::invalid_argument(
        fmt::format("image grid border is {} pixels, must be 0 or more", border));
  if (count < 0 || static_cast<long long>(count) > static_cast<long long>(grid_rows) * grid_cols)
    throw std::invalid_argument(fmt::format("cannot tile {} images into a {}x{} grid of {} cells",
                                            count, grid_rows, grid_cols,
                                            static_cast<long long>(grid_rows) * grid_cols));
  if (count > 0 && images == nullptr)
    throw std::invalid_argument(fmt::format("cannot tile {} images from a null pointer", count));
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw std::invalid_argument(fmt::format(
        "image grid intensity range [{}, {}] is invalid: both must be finite and lo below hi", lo,
        hi));
  const long long width =
      static_cast<long long>(grid_cols) * (static_cast<long long>(cols) + border) + border;
  const long long height =
      static_cast<long long>(grid_rows) * (static_cast<long long>(rows) + border) + border;
  if (width > max_side_pixels || height > max_side_pixels)
    throw std::invalid_argument(
        fmt::format("an image grid of {}x{} pixels is too large (at most {} a side)", width, height,
                    max_side_pixels));
}

std::uint8_t to_byte(float x, float lo, float hi) {
  const double t = (static_cast<double>(x) - lo) / (static_cast<double>(hi) - lo);
  if (!(t > 0)) return 0; // also NaN
  if (t >= 1) return 255;
  return static_cast<std::uint8_t>(std::lround(255 * t));
}

void append_png_bytes(void* context, void* data, int size) {
  auto* png = static_cast<std::vector<unsigned char>*>(context);
  const auto* bytes = static_cast<const unsigned char*>(data);
  png->insert(png->end(), bytes, bytes + size);
}

} // namespace

GrayImage tile_image_grid(const float* images, int count, int rows, int cols, int grid_rows,
                          int grid_cols, float lo, float hi, int border) {
  check_grid_arguments(images, count, rows, cols, grid_rows, grid_cols, lo, hi, border);
  GrayImage grid;
  grid.width = grid_cols * (cols + border) + border;
  grid.height = grid_rows * (rows + border) + border;
  grid.pixels.assign(static_cast<std::size_t>(grid.width) * grid.height, image_grid_border_value);
  const std::size_t image_size = static_cast<std::size_t>(rows) * cols;
  for (int i = 0; i < count; ++i) {
    const float* image = images + i * image_size;
    const int top = border + (i / grid_cols) * (rows + border);
    const int left = border + (i % grid_cols) * (cols + border);
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x)
        grid.pixels[static_cast<std::size_t>(top + y) * grid.width + left + x] =
            to_byte(image[static_cast<std::size_t>(y) * cols + x], lo, hi);
  }
  return grid;
}

void write_image_grid_png(const std::filesystem::path& path, const float* images, int count,
                          int rows, int cols, int grid_rows, int grid_cols, float lo, float hi,
                          int border) {
  const GrayImage grid =
      tile_image_grid(images, count, rows, cols, grid_rows, grid_cols, lo, hi, border);
  std::vector<unsigned char> png;
  if (stbi_write_png_to_func(append_png_bytes, &png, grid.width, grid.height, 1, grid.pixels.data(),
                             grid.width) == 0)
    throw std::runtime_error(fmt::format("cannot encode {} as PNG: out of memory", path.string()));
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  });
}

} // namespace sgan
