// Sample grids: the tiled bytes of a tiny example worked out by hand (layout, border, clamping,
// NaN, an empty cell), the PNG decoded back by stb_image, and the errors for bad arguments and
// paths.
#include "engine/report/image_grid.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <gtest/gtest.h>
#include <limits>
#include <stb/stb_image.h>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace sgan {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class ImageGridFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sgan_image_grid_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

constexpr float nan = std::numeric_limits<float>::quiet_NaN();

// Three 2x3 images for a 2x2 grid with a 1-pixel border, intensities in [-1, 1]. Byte values:
// 255 * (x + 1) / 2, so -1 -> 0, 1 -> 255, 0.6 -> 204, -0.6 -> 51, 0.2 -> 153, -0.2 -> 102; values
// outside [-1, 1] clamp (-2 -> 0, 3 -> 255) and NaN -> 0.
const std::vector<float> three_images = {
    -1,   1,    0.6f, -0.6f, 0.2f,  -0.2f, // image 0
    -2,   3,    nan,  1,     -1,    0.6f,  // image 1
    0.2f, 0.2f, 0.2f, -0.6f, -0.6f, -0.6f, // image 2
};

// 2 * (3 + 1) + 1 = 9 wide, 2 * (2 + 1) + 1 = 7 high; B is the border gray, which also fills the
// fourth cell, left empty.
constexpr std::uint8_t B = image_grid_border_value;
const std::vector<std::uint8_t> three_images_grid = {
    B, B,   B,   B,   B, B,   B,   B,   B, //
    B, 0,   255, 204, B, 0,   255, 0,   B, //
    B, 51,  153, 102, B, 255, 0,   204, B, //
    B, B,   B,   B,   B, B,   B,   B,   B, //
    B, 153, 153, 153, B, B,   B,   B,   B, //
    B, 51,  51,  51,  B, B,   B,   B,   B, //
    B, B,   B,   B,   B, B,   B,   B,   B, //
};

TEST(ImageGridTest, TilesRowByRowWithBorderClampingAndEmptyCells) {
  const GrayImage grid = tile_image_grid(three_images.data(), 3, 2, 3, 2, 2, -1.0f, 1.0f, 1);
  EXPECT_EQ(grid.width, 9);
  EXPECT_EQ(grid.height, 7);
  EXPECT_EQ(grid.pixels, three_images_grid);
}

TEST(ImageGridTest, BorderGrayIsDistinctFromBlackAndWhite) {
  EXPECT_NE(image_grid_border_value, 0);
  EXPECT_NE(image_grid_border_value, 255);
}

TEST(ImageGridTest, ZeroBorderPlacesCellsEdgeToEdge) {
  const std::vector<float> images = {0, 1, 2, 3}; // four 1x1 images over [0, 3]
  const GrayImage grid = tile_image_grid(images.data(), 4, 1, 1, 2, 2, 0.0f, 3.0f, 0);
  EXPECT_EQ(grid.width, 2);
  EXPECT_EQ(grid.height, 2);
  EXPECT_EQ(grid.pixels, (std::vector<std::uint8_t>{0, 85, 170, 255}));
}

TEST(ImageGridTest, EightByEightMnistGridHasTheDocumentedSize) {
  const std::vector<float> images(64 * 28 * 28, -1.0f);
  const GrayImage grid = tile_image_grid(images.data(), 64, 28, 28, 8, 8, -1.0f, 1.0f);
  EXPECT_EQ(grid.width, 8 * (28 + 2) + 2);
  EXPECT_EQ(grid.height, 8 * (28 + 2) + 2);
}

TEST(ImageGridTest, RejectsMoreImagesThanCells) {
  const std::vector<float> images(5 * 4, 0.0f);
  try {
    tile_image_grid(images.data(), 5, 2, 2, 2, 2, -1.0f, 1.0f);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("5 images"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 cells"), std::string::npos) << e.what();
  }
}

TEST(ImageGridTest, RejectsBadSizesAndRanges) {
  const std::vector<float> images(4, 0.0f);
  EXPECT_THROW(tile_image_grid(images.data(), 1, 0, 2, 1, 1, -1.0f, 1.0f), std::invalid_argument);
  EXPECT_THROW(tile_image_grid(images.data(), 1, 2, 2, 1, 0, -1.0f, 1.0f), std::invalid_argument);
  EXPECT_THROW(tile_image_grid(images.data(), 1, 2, 2, 1, 1, -1.0f, 1.0f, -1),
               std::invalid_argument);
  EXPECT_THROW(tile_image_grid(images.data(), -1, 2, 2, 1, 1, -1.0f, 1.0f), std::invalid_argument);
  EXPECT_THROW(tile_image_grid(nullptr, 1, 2, 2, 1, 1, -1.0f, 1.0f), std::invalid_argument);
  EXPECT_THROW(tile_image_grid(images.data(), 1, 2, 2, 1, 1, 1.0f, 1.0f), std::invalid_argument);
  EXPECT_THROW(tile_image_grid(images.data(), 1, 2, 2, 1, 1, 0.0f, nan), std::invalid_argument);
}

TEST_F(ImageGridFileTest, PngDecodesToTheGridBytesAndLeavesNoTemporary) {
  const fs::path path = dir_ / "epoch_001.png";
  write_image_grid_png(path, three_images.data(), 3, 2, 3, 2, 2, -1.0f, 1.0f, 1);

  int width = 0, height = 0, channels = 0;
  unsigned char* decoded = stbi_load(path.c_str(), &width, &height, &channels, 0);
  ASSERT_NE(decoded, nullptr) << stbi_failure_reason();
  EXPECT_EQ(width, 9);
  EXPECT_EQ(height, 7);
  EXPECT_EQ(channels, 1);
  const std::vector<std::uint8_t> pixels(decoded, decoded + width * height * channels);
  stbi_image_free(decoded);
  EXPECT_EQ(pixels, three_images_grid);

  std::vector<fs::path> entries(fs::directory_iterator(dir_), fs::directory_iterator{});
  EXPECT_EQ(entries, std::vector<fs::path>{path});
}

TEST_F(ImageGridFileTest, RewritingReplacesTheWholeFile) {
  const fs::path path = dir_ / "grid.png";
  const std::vector<float> big(4 * 28 * 28, 0.5f);
  write_image_grid_png(path, big.data(), 4, 28, 28, 2, 2, -1.0f, 1.0f);
  write_image_grid_png(path, three_images.data(), 3, 2, 3, 2, 2, -1.0f, 1.0f, 1);
  int width = 0, height = 0, channels = 0;
  unsigned char* decoded = stbi_load(path.c_str(), &width, &height, &channels, 1);
  ASSERT_NE(decoded, nullptr) << stbi_failure_reason();
  stbi_image_free(decoded);
  EXPECT_EQ(width, 9);
  EXPECT_EQ(height, 7);
}

TEST_F(ImageGridFileTest, UnwritablePathGivesAnErrorNamingIt) {
  const fs::path path = dir_ / "missing-directory" / "epoch_001.png";
  try {
    write_image_grid_png(path, three_images.data(), 3, 2, 3, 2, 2, -1.0f, 1.0f, 1);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(ImageGridFileTest, RejectedArgumentsWriteNothing) {
  const fs::path path = dir_ / "grid.png";
  const std::vector<float> images(5 * 4, 0.0f);
  EXPECT_THROW(write_image_grid_png(path, images.data(), 5, 2, 2, 2, 2, -1.0f, 1.0f),
               std::invalid_argument);
  EXPECT_TRUE(fs::is_empty(dir_));
}

} // namespace
} // namespace sgan
