// The cuDNN conv_transpose2d twin against the CPU reference run in double: forward with every
// epilogue, and each backward direction, on G's two layers (128 -> 128 on 7x7 -> 14x14 and 128 ->
// 64 on 14x14 -> 28x28, k4 s2 same, batch 64 and 100) and on awkward shapes (batch 1 and 3, 3 input
// channels, 5, 17, 33 or 65 channels, odd sizes, stride 1, 2 and 3, kernels 1 to 7, same and
// valid, taps that reach no output, outputs no input reaches). Outputs start poisoned with NaN.
#include "kernels/conv_transpose2d.h"
#include "kernels/cudnn/handle.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <ostream>
#include <vector>

namespace sgan {
namespace {

struct Case {
  ConvTranspose2dShape shape;
};

void PrintTo(const Case& c, std::ostream* os) {
  const ConvTranspose2dShape& s = c.shape;
  *os << s.n << "x" << s.c_in << "x" << s.h_in << "x" << s.w_in << " -> " << s.c_out << "x"
      << s.h_out << "x" << s.w_out << " k" << s.kh << "x" << s.kw << " s" << s.stride << " pad "
      << s.pad_top << "," << s.pad_left;
}

Case keras(int n, int c_in, int h_in, int w_in, int c_out, int kh, int kw, int stride,
           Padding padding) {
  return {conv_transpose2d_shape(n, c_in, h_in, w_in, c_out, kh, kw, stride, padding)};
}

// An output larger than the inputs reach (Keras's output_padding): k3 s2 with pad 1 from 4x3
// reaches rows 0..7 and columns 0..5 of a 10x9 output; the rest is bias only.
Case unreached_edges() {
  ConvTranspose2dShape s;
  s.n = 2, s.c_in = 3, s.h_in = 4, s.w_in = 3, s.c_out = 4, s.kh = 3, s.kw = 3, s.stride = 2;
  s.pad_top = 1, s.pad_left = 1, s.h_out = 10, s.w_out = 9;
  validate(s);
  return {s};
}

const Activation all_epilogues[] = {Activation::identity(),       Activation::relu(),
                                    Activation::leaky_relu(0.2f), Activation::tanh(),
                                    Activation::sigmoid(),        Activation::softplus()};

// Inputs are uniform in [-1, 1], so a sum of K products has size ~ sqrt(K) / 3. cuDNN may pick
// FFT or Winograd algorithms, whose float error (~1e-6 to 1e-5 relative) is larger than a direct
// sum's; the tolerances allow 1e-4, while a wrong pad or crop shows up as an O(1) error.
constexpr double rel_l2_tolerance = 1e-4;
double max_abs_tolerance(double terms) { return 1e-4 * std::sqrt(terms); }

// The CPU reference recomputes these images only (all of a small batch; else the first, a middle
// and the last); every other output is checked to be written (finite).
std::vector<int> checked_images(int n) {
  if (n <= 3) {
    std::vector<int> all(n);
    for (int i = 0; i < n; ++i) all[i] = i;
    return all;
  }
  return {0, n / 2, n - 1};
}

template <typename T>
std::vector<T> images_of(const std::vector<T>& v, std::size_t per_image,
                         const std::vector<int>& images) {
  std::vector<T> out;
  for (const int i : images)
    out.insert(out.end(), v.begin() + i * per_image, v.begin() + (i + 1) * per_image);
  return out;
}

std::size_t non_finite(const std::vector<float>& v) {
  std::size_t count = 0;
  for (const float x : v) count += std::isfinite(x) ? 0 : 1;
  return count;
}

class ConvTranspose2dCudnnTest : public ::testing::TestWithParam<Case> {
protected:
  const ConvTranspose2dShape& shape() const { return GetParam().shape; }
};

TEST_P(ConvTranspose2dCudnnTest, ForwardMatchesCpuForEveryEpilogue) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const ConvTranspose2dShape& s = shape();
  const auto x = test::random_uniform<float>(s.x_size(), 1);
  const auto w = test::random_uniform<float>(s.w_size(), 2);
  const auto b = test::random_uniform<float>(s.c_out, 3);
  const test::DeviceBuffer<float> x_dev(x), w_dev(w), b_dev(b);
  const std::vector<int> images = checked_images(s.n);
  ConvTranspose2dShape part = s;
  part.n = static_cast<int>(images.size());
  const auto x_part = test::convert<double>(images_of(x, s.x_size() / s.n, images));
  const auto w_d = test::convert<double>(w), b_d = test::convert<double>(b);
  const double terms = double(s.c_in) * s.kh * s.kw;

  for (const Activation& a : all_epilogues) {
    for (const bool with_bias : {true, false}) {
      test::DeviceBuffer<float> y_dev(s.y_size());
      cudnn::conv_transpose2d_forward(s, x_dev.get(), w_dev.get(),
                                      with_bias ? b_dev.get() : nullptr, y_dev.get(), a, handle);
      const std::vector<float> y = y_dev.to_host();
      std::vector<double> expected(part.y_size());
      cpu::conv_transpose2d_forward(part, x_part.data(), w_d.data(),
                                    with_bias ? b_d.data() : nullptr, expected.data(), a);
      EXPECT_EQ(non_finite(y), 0u) << activation_name(a.kind);
      EXPECT_TRUE(test::close(expected, images_of(y, s.y_size() / s.n, images), rel_l2_tolerance,
                              max_abs_tolerance(terms)))
          << activation_name(a.kind) << (with_bias ? " with bias" : " without bias");
    }
  }
}

TEST_P(ConvTranspose2dCudnnTest, BackwardDataMatchesCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const ConvTranspose2dShape& s = shape();
  const auto dy = test::random_uniform<float>(s.y_size(), 4);
  const auto w = test::random_uniform<float>(s.w_size(), 5);
  const test::DeviceBuffer<float> dy_dev(dy), w_dev(w);
  test::DeviceBuffer<float> dx_dev(s.x_size());
  cudnn::conv_transpose2d_backward_data(s, dy_dev.get(), w_dev.get(), dx_dev.get(), handle);
  const std::vector<float> dx = dx_dev.to_host();

  const std::vector<int> images = checked_images(s.n);
  ConvTranspose2dShape part = s;
  part.n = static_cast<int>(images.size());
  const auto dy_part = test::convert<double>(images_of(dy, s.y_size() / s.n, images));
  const auto w_d = test::convert<double>(w);
  std::vector<double> expected(part.x_size());
  cpu::conv_transpose2d_backward_data(part, dy_part.data(), w_d.data(), expected.data());
  EXPECT_EQ(non_finite(dx), 0u);
  EXPECT_TRUE(test::close(expected, images_of(dx, s.x_size() / s.n, images), rel_l2_tolerance,
                          max_abs_tolerance(double(s.c_out) * s.kh * s.kw)));
}

// dy is zero outside the checked images, so the CPU reference over those images alone is the
// whole gradient while the GPU still reduces over the full batch. dw starts from known values and
// must have the gradient added to them.
TEST_P(ConvTranspose2dCudnnTest, BackwardWeightAccumulatesCpuGradient) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const ConvTranspose2dShape& s = shape();
  const std::vector<int> images = checked_images(s.n);
  const auto x = test::random_uniform<float>(s.x_size(), 6);
  const std::size_t dy_per_image = s.y_size() / s.n;
  const auto dy_part = test::random_uniform<float>(images.size() * dy_per_image, 7);
  std::vector<float> dy(s.y_size(), 0.0f);
  for (std::size_t k = 0; k < images.size(); ++k)
    std::copy(dy_part.begin() + k * dy_per_image, dy_part.begin() + (k + 1) * dy_per_image,
              dy.begin() + images[k] * dy_per_image);
  const auto previous = test::random_uniform<float>(s.w_size(), 8);
  const test::DeviceBuffer<float> x_dev(x), dy_dev(dy);
  test::DeviceBuffer<float> dw_dev(previous);
  cudnn::conv_transpose2d_backward_weight(s, x_dev.get(), dy_dev.get(), dw_dev.get(), handle);

  ConvTranspose2dShape part = s;
  part.n = static_cast<int>(images.size());
  const auto x_part = test::convert<double>(images_of(x, s.x_size() / s.n, images));
  const auto dy_part_d = test::convert<double>(dy_part);
  std::vector<double> expected = test::convert<double>(previous);
  cpu::conv_transpose2d_backward_weight(part, x_part.data(), dy_part_d.data(), expected.data());
  EXPECT_TRUE(test::close(expected, dw_dev.to_host(), rel_l2_tolerance,
                          max_abs_tolerance(double(s.n) * s.h_in * s.w_in)));
}

TEST_P(ConvTranspose2dCudnnTest, BackwardBiasAccumulatesCpuGradient) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const ConvTranspose2dShape& s = shape();
  const auto dy = test::random_uniform<float>(s.y_size(), 9);
  const auto previous = test::random_uniform<float>(s.c_out, 10);
  const test::DeviceBuffer<float> dy_dev(dy);
  test::DeviceBuffer<float> db_dev(previous);
  cudnn::conv_transpose2d_backward_bias(s, dy_dev.get(), db_dev.get(), handle);
  const auto dy_d = test::convert<double>(dy);
  std::vector<double> expected = test::convert<double>(previous);
  cpu::conv_transpose2d_backward_bias(s, dy_d.data(), expected.data());
  EXPECT_TRUE(test::close(expected, db_dev.to_host(), rel_l2_tolerance,
                          max_abs_tolerance(double(s.n) * s.h_out * s.w_out)));
}

TEST_P(ConvTranspose2dCudnnTest, BackwardWeightIsDeterministic) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  const ConvTranspose2dShape& s = shape();
  const test::DeviceBuffer<float> x_dev(test::random_uniform<float>(s.x_size(), 11));
  const test::DeviceBuffer<float> dy_dev(test::random_uniform<float>(s.y_size(), 12));
  const auto previous = test::random_uniform<float>(s.w_size(), 13);
  test::DeviceBuffer<float> first(previous), second(previous);
  cudnn::conv_transpose2d_backward_weight(s, x_dev.get(), dy_dev.get(), first.get(), handle);
  cudnn::conv_transpose2d_backward_weight(s, x_dev.get(), dy_dev.get(), second.get(), handle);
  EXPECT_EQ(first.to_host(), second.to_host());
}

INSTANTIATE_TEST_SUITE_P(SganLayers, ConvTranspose2dCudnnTest,
                         ::testing::Values(keras(64, 128, 7, 7, 128, 4, 4, 2, Padding::same),
                                           keras(100, 128, 7, 7, 128, 4, 4, 2, Padding::same),
                                           keras(64, 128, 14, 14, 64, 4, 4, 2, Padding::same),
                                           keras(100, 128, 14, 14, 64, 4, 4, 2, Padding::same)));

INSTANTIATE_TEST_SUITE_P(AwkwardShapes, ConvTranspose2dCudnnTest,
                         ::testing::Values(keras(1, 3, 5, 6, 5, 4, 4, 2, Padding::same),
                                           keras(3, 17, 4, 5, 3, 3, 3, 2, Padding::same),
                                           keras(2, 2, 3, 4, 5, 5, 5, 3, Padding::valid),
                                           keras(1, 4, 5, 5, 2, 7, 7, 1, Padding::same),
                                           keras(2, 3, 4, 4, 33, 2, 2, 3, Padding::valid),
                                           keras(3, 3, 4, 4, 3, 1, 1, 2, Padding::same),
                                           keras(1, 65, 5, 4, 17, 4, 4, 2, Padding::valid),
                                           keras(3, 5, 9, 11, 65, 3, 3, 1, Padding::same),
                                           unreached_edges()));

} // namespace
} // namespace sgan
