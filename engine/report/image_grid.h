#pragma once
// Sample grids: G's images tiled into one 8-bit grayscale picture, written as a PNG.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace sgan {

// The gray of the border between cells and of cells left empty: mid-gray, so it separates the
// black backgrounds of MNIST-like digits without being mistaken for their white strokes.
inline constexpr std::uint8_t image_grid_border_value = 128;

// An 8-bit grayscale picture, row-major, one byte per pixel.
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;
};

// Tiles `count` single-channel images of rows x cols floats (row-major, image after image) into a
// grid of grid_rows x grid_cols cells, filled row by row, with `border` pixels of
// image_grid_border_value around every cell (outer edge included), so the picture is
// grid_cols * (cols + border) + border pixels wide and grid_rows * (rows + border) + border high.
// A value x becomes round(255 * clamp((x - lo) / (hi - lo), 0, 1)); NaN becomes 0. G's tanh
// images use lo = -1, hi = 1. Cells past `count` stay border gray. Bad sizes, count > cells or
// lo >= hi throw std::invalid_argument.
GrayImage tile_image_grid(const float* images, int count, int rows, int cols, int grid_rows,
                          int grid_cols, float lo, float hi, int border = 2);

// Writes tile_image_grid(...) to `path` as a PNG, through a temporary file in the same directory
// renamed over `path`, so a viewer never sees half a file. Throws std::invalid_argument for the
// arguments tile_image_grid rejects and std::runtime_error (naming `path`) when it cannot write.
void write_image_grid_png(const std::filesystem::path& path, const float* images, int count,
                          int rows, int cols, int grid_rows, int grid_cols, float lo, float hi,
                          int border = 2);

} // namespace sgan
