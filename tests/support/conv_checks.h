#pragma once
// The checks every conv2d and conv_transpose2d implementation passes against the CPU reference run
// in double: forward with every epilogue (with and without bias), and each backward direction, on
// every SGAN conv layer and on awkward shapes that fill no tile evenly. One fixture template
// serves each (op, implementation) pair, a "subject":
//
//   struct Conv2dCuda {
//     using Op = test::Conv2dOp;               // the op: shapes, reference, the cases
//     using Buffer = test::DeviceBuffer<float>; // where its tensors live, poisoned with NaN
//     struct Context {};                        // what each call needs (a cuDNN handle, ...)
//     static constexpr bool needs_gpu = true;
//     static constexpr double tolerance = 1e-5; // relative; see below
//     static double reference_operand(float);   // optional: x, w and dy as its products see them
//     static void forward(Context&, const Shape&, x, w, b, y, const Activation&);
//     static void backward_data(Context&, const Shape&, dy, w, dx);
//     static void backward_weight(Context&, const Shape&, x, dy, dw);  // dw += ...
//     static void backward_bias(Context&, const Shape&, dy, db);       // db += ...
//   };
//   using Conv2dCudaTest = test::ConvCheckTest<Conv2dCuda>;
//   SGAN_CONV_CHECK_TESTS(Conv2dCudaTest)
//
// Inputs are uniform in [-1, 1], so a sum of K products has size ~ sqrt(K) / 3: a subject's
// relative tolerance applies to the whole tensor's L2 error and, scaled by sqrt(K), to its worst
// element, while an indexing error shows up as an O(1) error.
//
// A subject whose products take their operands at reduced precision (the TF32 tensor cores) names
// that rounding as reference_operand: the reference then multiplies x, w and dy rounded the same
// way (the bias and the weight gradient's previous value stay FP32), so it computes exactly the
// function the subject claims, and FP32's tolerance still applies.
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace sgan::test {

template <class Shape> struct ConvCase { Shape shape; };

template <class Shape> void PrintTo(const ConvCase<Shape>& c, std::ostream* os) {
  const Shape& s = c.shape;
  *os << s.n << "x" << s.c_in << "x" << s.h_in << "x" << s.w_in << " -> " << s.c_out << "x"
      << s.h_out << "x" << s.w_out << " k" << s.kh << "x" << s.kw << " s" << s.stride << " pad "
      << s.pad_top << "," << s.pad_left;
}

// conv2d: D's two layers at batch 64, 100 and the concatenated 3n = 192, 300, G's output layer at
// 64 and 100; awkward shapes (batch 1 and 3, 3 input channels, 5, 17, 33 or 65 output channels,
// odd sizes such as 9x11, stride 1, 2 and 3, kernels 1 to 7, same and valid, inputs no window
// reads, and a batch of 1,100 small images, which the direct backward_weight sums 3 to a block,
// the last block 2).
struct Conv2dOp {
  using Shape = Conv2dShape;

  static ConvCase<Shape> keras(int n, int c_in, int h_in, int w_in, int c_out, int kh, int kw,
                               int stride, Padding padding) {
    return {conv2d_shape(n, c_in, h_in, w_in, c_out, kh, kw, stride, padding)};
  }

  // Pads Keras never picks: 1 on top and left of k3 s2 windows over 10x9 with 4x3 outputs, so the
  // last rows and columns of x are read by no window (and get no gradient).
  static ConvCase<Shape> unread_edges() {
    Shape s;
    s.n = 2, s.c_in = 3, s.h_in = 10, s.w_in = 9, s.c_out = 4, s.kh = 3, s.kw = 3, s.stride = 2;
    s.pad_top = 1, s.pad_left = 1, s.h_out = 4, s.w_out = 3;
    validate(s);
    return {s};
  }

  static std::vector<ConvCase<Shape>> sgan_layers() {
    return {// D: conv 1 -> 64 k3 s2 same (28 -> 14) and 64 -> 128 (14 -> 7), batch n and 3n.
            keras(64, 1, 28, 28, 64, 3, 3, 2, Padding::same),
            keras(100, 1, 28, 28, 64, 3, 3, 2, Padding::same),
            keras(192, 1, 28, 28, 64, 3, 3, 2, Padding::same),
            keras(300, 1, 28, 28, 64, 3, 3, 2, Padding::same),
            keras(64, 64, 14, 14, 128, 3, 3, 2, Padding::same),
            keras(100, 64, 14, 14, 128, 3, 3, 2, Padding::same),
            keras(192, 64, 14, 14, 128, 3, 3, 2, Padding::same),
            keras(300, 64, 14, 14, 128, 3, 3, 2, Padding::same),
            // G's output layer: conv 64 -> 1 k7 s1 same on 28x28.
            keras(64, 64, 28, 28, 1, 7, 7, 1, Padding::same),
            keras(100, 64, 28, 28, 1, 7, 7, 1, Padding::same)};
  }

  static std::vector<ConvCase<Shape>> awkward_shapes() {
    return {keras(1, 3, 9, 11, 5, 3, 3, 2, Padding::same),
            keras(3, 2, 9, 11, 17, 5, 5, 1, Padding::valid),
            keras(1, 3, 10, 9, 5, 7, 7, 1, Padding::same),
            keras(3, 3, 9, 11, 17, 4, 4, 2, Padding::same),
            keras(1, 1, 5, 5, 1, 5, 5, 1, Padding::valid),
            keras(2, 2, 11, 10, 3, 3, 5, 3, Padding::same),
            keras(3, 5, 13, 7, 33, 3, 3, 1, Padding::same),
            keras(1, 70, 9, 9, 65, 3, 3, 2, Padding::valid),
            keras(3, 3, 30, 30, 5, 3, 3, 1, Padding::same),
            keras(2, 4, 8, 8, 40, 1, 1, 2, Padding::same),
            keras(1100, 2, 6, 5, 1, 3, 3, 1, Padding::same),
            unread_edges()};
  }

  static void reference_forward(const Shape& s, const double* x, const double* w, const double* b,
                                double* y, const Activation& a) {
    cpu::conv2d_forward(s, x, w, b, y, a);
  }
  static void reference_backward_data(const Shape& s, const double* dy, const double* w,
                                      double* dx) {
    cpu::conv2d_backward_data(s, dy, w, dx);
  }
  static void reference_backward_weight(const Shape& s, const double* x, const double* dy,
                                        double* dw) {
    cpu::conv2d_backward_weight(s, x, dy, dw);
  }
  static void reference_backward_bias(const Shape& s, const double* dy, double* db) {
    cpu::conv2d_backward_bias(s, dy, db);
  }
  // The terms of one weight-gradient sum: every output pixel of every image.
  static double weight_terms(const Shape& s) { return double(s.n) * s.h_out * s.w_out; }
};

// conv_transpose2d: G's two layers (128 -> 128 on 7x7 -> 14x14 and 128 -> 64 on 14x14 -> 28x28,
// k4 s2 same, batch 64 and 100); awkward shapes (batch 1 and 3, 3 input channels, 5, 17, 33 or 65
// channels, odd sizes, stride 1, 2 and 3, kernels 1 to 7, same and valid, taps that reach no
// output, outputs no input reaches).
struct ConvTranspose2dOp {
  using Shape = ConvTranspose2dShape;

  static ConvCase<Shape> keras(int n, int c_in, int h_in, int w_in, int c_out, int kh, int kw,
                               int stride, Padding padding) {
    return {conv_transpose2d_shape(n, c_in, h_in, w_in, c_out, kh, kw, stride, padding)};
  }

  // An output larger than the inputs reach (Keras's output_padding): k3 s2 with pad 1 from 4x3
  // reaches rows 0..7 and columns 0..5 of a 10x9 output; the rest is bias only.
  static ConvCase<Shape> unreached_edges() {
    Shape s;
    s.n = 2, s.c_in = 3, s.h_in = 4, s.w_in = 3, s.c_out = 4, s.kh = 3, s.kw = 3, s.stride = 2;
    s.pad_top = 1, s.pad_left = 1, s.h_out = 10, s.w_out = 9;
    validate(s);
    return {s};
  }

  static std::vector<ConvCase<Shape>> sgan_layers() {
    return {keras(64, 128, 7, 7, 128, 4, 4, 2, Padding::same),
            keras(100, 128, 7, 7, 128, 4, 4, 2, Padding::same),
            keras(64, 128, 14, 14, 64, 4, 4, 2, Padding::same),
            keras(100, 128, 14, 14, 64, 4, 4, 2, Padding::same)};
  }

  static std::vector<ConvCase<Shape>> awkward_shapes() {
    return {keras(1, 3, 5, 6, 5, 4, 4, 2, Padding::same),
            keras(3, 17, 4, 5, 3, 3, 3, 2, Padding::same),
            keras(2, 2, 3, 4, 5, 5, 5, 3, Padding::valid),
            keras(1, 4, 5, 5, 2, 7, 7, 1, Padding::same),
            keras(2, 3, 4, 4, 33, 2, 2, 3, Padding::valid),
            keras(3, 3, 4, 4, 3, 1, 1, 2, Padding::same),
            keras(1, 65, 5, 4, 17, 4, 4, 2, Padding::valid),
            keras(3, 5, 9, 11, 65, 3, 3, 1, Padding::same),
            unreached_edges()};
  }

  static void reference_forward(const Shape& s, const double* x, const double* w, const double* b,
                                double* y, const Activation& a) {
    cpu::conv_transpose2d_forward(s, x, w, b, y, a);
  }
  static void reference_backward_data(const Shape& s, const double* dy, const double* w,
                                      double* dx) {
    cpu::conv_transpose2d_backward_data(s, dy, w, dx);
  }
  static void reference_backward_weight(const Shape& s, const double* x, const double* dy,
                                        double* dw) {
    cpu::conv_transpose2d_backward_weight(s, x, dy, dw);
  }
  static void reference_backward_bias(const Shape& s, const double* dy, double* db) {
    cpu::conv_transpose2d_backward_bias(s, dy, db);
  }
  // The terms of one weight-gradient sum: every input pixel of every image.
  static double weight_terms(const Shape& s) { return double(s.n) * s.h_in * s.w_in; }
};

// The cases' layer geometries at batch n, each once: the SGAN layers at a size the CPU path
// checks in a second rather than minutes.
template <class Shape>
std::vector<ConvCase<Shape>> at_batch(const std::vector<ConvCase<Shape>>& cases, int n) {
  std::vector<ConvCase<Shape>> out;
  for (ConvCase<Shape> c : cases) {
    c.shape.n = n;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const ConvCase<Shape>& o) {
      const Shape &a = o.shape, &b = c.shape;
      return a.c_in == b.c_in && a.h_in == b.h_in && a.w_in == b.w_in && a.c_out == b.c_out &&
             a.h_out == b.h_out && a.w_out == b.w_out && a.kh == b.kh && a.kw == b.kw &&
             a.stride == b.stride && a.pad_top == b.pad_top && a.pad_left == b.pad_left;
    });
    if (!seen) out.push_back(c);
  }
  return out;
}

// The batch SGAN_TEST_SGAN_LAYER_BATCH names, or 0 where it is unset. bench/run_on_gpu.sh sets it
// for compute-sanitizer, which runs every access through its checks: at a small batch the layer
// geometries (and every tile edge they meet) are the same, at a fraction of the device time.
inline int sgan_layer_batch_from_environment() {
  const char* text = std::getenv("SGAN_TEST_SGAN_LAYER_BATCH");
  if (text == nullptr || *text == '\0') return 0;
  int batch = 0;
  const char* end = text + std::strlen(text);
  const auto [rest, error] = std::from_chars(text, end, batch);
  if (error != std::errc() || rest != end || batch < 1)
    throw std::invalid_argument(std::string("SGAN_TEST_SGAN_LAYER_BATCH must be a positive "
                                            "integer, not '") +
                                text + "'");
  return batch;
}

// The SGAN layers as the GPU tests run them: at the recipes' batches on a GPU (or at
// SGAN_TEST_SGAN_LAYER_BATCH), at batch 2 where the kernels run emulated on the CPU, thread by
// thread (kernels/cuda/emulation.h).
template <class Op> std::vector<ConvCase<typename Op::Shape>> gpu_test_sgan_layers() {
#if defined(SGAN_CUDA_EMULATION)
  return at_batch(Op::sgan_layers(), 2);
#else
  if (const int batch = sgan_layer_batch_from_environment())
    return at_batch(Op::sgan_layers(), batch);
  return Op::sgan_layers();
#endif
}

// Host memory with DeviceBuffer's interface, for the CPU subjects: starts as NaN.
class HostBuffer {
public:
  explicit HostBuffer(std::size_t n) : data_(n, std::numeric_limits<float>::quiet_NaN()) {}
  explicit HostBuffer(const std::vector<float>& host) : data_(host) {}
  float* get() { return data_.data(); }
  const float* get() const { return data_.data(); }
  std::vector<float> to_host() const { return data_; }

private:
  std::vector<float> data_;
};

inline const Activation conv_check_epilogues[] = {
    Activation::identity(), Activation::relu(),    Activation::leaky_relu(0.2f),
    Activation::tanh(),     Activation::sigmoid(), Activation::softplus()};

// The CPU reference in double is recomputed for these images only (all of a small batch; else the
// first, a middle and the last), which keeps the big SGAN batches fast while still checking the
// implementation's indexing across images; every other output is checked to be written (finite).
inline std::vector<int> checked_images(int n) {
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

inline std::size_t non_finite(const std::vector<float>& v) {
  std::size_t count = 0;
  for (const float x : v) count += std::isfinite(x) ? 0 : 1;
  return count;
}

template <class Subject>
class ConvCheckTest : public ::testing::TestWithParam<ConvCase<typename Subject::Op::Shape>> {
public:
  using Op = typename Subject::Op;
  using Shape = typename Op::Shape;
  using Buffer = typename Subject::Buffer;

protected:
  void SetUp() override {
    if constexpr (Subject::needs_gpu) SGAN_REQUIRE_GPU();
  }

  const Shape& shape() const { return this->GetParam().shape; }
  // The subject's relative tolerance for sums of `terms` products: its relative_tolerance(terms)
  // where it has one (the TF32 tensor cores' accumulation, tests/support/tf32.h), else tolerance.
  static double relative_tolerance(double terms) {
    if constexpr (requires { Subject::relative_tolerance(terms); })
      return Subject::relative_tolerance(terms);
    else
      return Subject::tolerance;
  }
  static double max_abs_tolerance(double terms) {
    return relative_tolerance(terms) * std::sqrt(terms);
  }
  // A product's operand for the reference (see above).
  static std::vector<double> operand(const std::vector<float>& v) {
    std::vector<double> out = convert<double>(v);
    if constexpr (requires { Subject::reference_operand(0.0f); })
      for (std::size_t i = 0; i < v.size(); ++i) out[i] = Subject::reference_operand(v[i]);
    return out;
  }
  ::testing::AssertionResult matches(const std::vector<double>& expected,
                                     const std::vector<float>& result, double terms) const {
    return close(expected, result, relative_tolerance(terms), max_abs_tolerance(terms));
  }
  // The reference over the checked images only: the same shape with a smaller batch.
  Shape part_of(const std::vector<int>& images) const {
    Shape part = shape();
    part.n = static_cast<int>(images.size());
    return part;
  }

  void check_forward() const {
    const Shape& s = shape();
    typename Subject::Context context;
    const auto x = random_uniform<float>(s.x_size(), 1);
    const auto w = random_uniform<float>(s.w_size(), 2);
    const auto b = random_uniform<float>(s.c_out, 3);
    const Buffer x_buffer(x), w_buffer(w), b_buffer(b);
    const std::vector<int> images = checked_images(s.n);
    const Shape part = part_of(images);
    const auto x_part = operand(images_of(x, s.x_size() / s.n, images));
    const auto w_d = operand(w), b_d = convert<double>(b);
    for (const Activation& a : conv_check_epilogues) {
      for (const bool with_bias : {true, false}) {
        Buffer y_buffer(s.y_size());
        Subject::forward(context, s, x_buffer.get(), w_buffer.get(),
                         with_bias ? b_buffer.get() : nullptr, y_buffer.get(), a);
        const std::vector<float> y = y_buffer.to_host();
        std::vector<double> expected(part.y_size());
        Op::reference_forward(part, x_part.data(), w_d.data(), with_bias ? b_d.data() : nullptr,
                              expected.data(), a);
        EXPECT_EQ(non_finite(y), 0u) << activation_name(a.kind);
        EXPECT_TRUE(
            matches(expected, images_of(y, s.y_size() / s.n, images), double(s.c_in) * s.kh * s.kw))
            << activation_name(a.kind) << (with_bias ? " with bias" : " without bias");
      }
    }
  }

  void check_backward_data() const {
    const Shape& s = shape();
    typename Subject::Context context;
    const auto dy = random_uniform<float>(s.y_size(), 4);
    const auto w = random_uniform<float>(s.w_size(), 5);
    const Buffer dy_buffer(dy), w_buffer(w);
    Buffer dx_buffer(s.x_size());
    Subject::backward_data(context, s, dy_buffer.get(), w_buffer.get(), dx_buffer.get());
    const std::vector<float> dx = dx_buffer.to_host();

    const std::vector<int> images = checked_images(s.n);
    const Shape part = part_of(images);
    const auto dy_part = operand(images_of(dy, s.y_size() / s.n, images));
    const auto w_d = operand(w);
    std::vector<double> expected(part.x_size());
    Op::reference_backward_data(part, dy_part.data(), w_d.data(), expected.data());
    EXPECT_EQ(non_finite(dx), 0u);
    EXPECT_TRUE(
        matches(expected, images_of(dx, s.x_size() / s.n, images), double(s.c_out) * s.kh * s.kw));
  }

  // dy is zero outside the checked images, so the reference over those images alone is the whole
  // gradient, while the subject still reduces over the full batch (and any splits of it). dw
  // starts from known values and must have the gradient added to them.
  void check_backward_weight() const {
    const Shape& s = shape();
    typename Subject::Context context;
    const std::vector<int> images = checked_images(s.n);
    const auto x = random_uniform<float>(s.x_size(), 6);
    const std::size_t dy_per_image = s.y_size() / s.n;
    const auto dy_part = random_uniform<float>(images.size() * dy_per_image, 7);
    std::vector<float> dy(s.y_size(), 0.0f);
    for (std::size_t k = 0; k < images.size(); ++k)
      std::copy(dy_part.begin() + k * dy_per_image, dy_part.begin() + (k + 1) * dy_per_image,
                dy.begin() + images[k] * dy_per_image);
    const auto previous = random_uniform<float>(s.w_size(), 8);
    const Buffer x_buffer(x), dy_buffer(dy);
    Buffer dw_buffer(previous);
    Subject::backward_weight(context, s, x_buffer.get(), dy_buffer.get(), dw_buffer.get());

    const Shape part = part_of(images);
    const auto x_part = operand(images_of(x, s.x_size() / s.n, images));
    const auto dy_part_d = operand(dy_part);
    std::vector<double> expected = convert<double>(previous);
    Op::reference_backward_weight(part, x_part.data(), dy_part_d.data(), expected.data());
    EXPECT_TRUE(matches(expected, dw_buffer.to_host(), Op::weight_terms(s)));
  }

  void check_backward_bias() const {
    const Shape& s = shape();
    typename Subject::Context context;
    const auto dy = random_uniform<float>(s.y_size(), 9);
    const auto previous = random_uniform<float>(s.c_out, 10);
    const Buffer dy_buffer(dy);
    Buffer db_buffer(previous);
    Subject::backward_bias(context, s, dy_buffer.get(), db_buffer.get());
    const auto dy_d = convert<double>(dy);
    std::vector<double> expected = convert<double>(previous);
    Op::reference_backward_bias(s, dy_d.data(), expected.data());
    EXPECT_TRUE(matches(expected, db_buffer.to_host(), double(s.n) * s.h_out * s.w_out));
  }

  // A reduction split into partial sums must add them in a fixed order: two runs give the same
  // bits.
  void check_backward_weight_is_deterministic() const {
    const Shape& s = shape();
    typename Subject::Context context;
    const Buffer x_buffer(random_uniform<float>(s.x_size(), 11));
    const Buffer dy_buffer(random_uniform<float>(s.y_size(), 12));
    const auto previous = random_uniform<float>(s.w_size(), 13);
    Buffer first(previous), second(previous);
    Subject::backward_weight(context, s, x_buffer.get(), dy_buffer.get(), first.get());
    Subject::backward_weight(context, s, x_buffer.get(), dy_buffer.get(), second.get());
    EXPECT_EQ(first.to_host(), second.to_host());
  }
};

} // namespace sgan::test

// The checks as tests of Fixture (a test::ConvCheckTest<Subject>); each file instantiates them on
// its cases, e.g. INSTANTIATE_TEST_SUITE_P(SganLayers, Fixture,
// ::testing::ValuesIn(Fixture::Op::sgan_layers())).
#define SGAN_CONV_CHECK_TESTS(Fixture)                                                             \
  TEST_P(Fixture, ForwardMatchesCpuForEveryEpilogue) { check_forward(); }                          \
  TEST_P(Fixture, BackwardDataMatchesCpu) { check_backward_data(); }                               \
  TEST_P(Fixture, BackwardWeightAccumulatesCpuGradient) { check_backward_weight(); }               \
  TEST_P(Fixture, BackwardWeightIsDeterministic) { check_backward_weight_is_deterministic(); }     \
  TEST_P(Fixture, BackwardBiasAccumulatesCpuGradient) { check_backward_bias(); }

// The checks of a GPU subject as the test suite Fixture, on the SGAN layers as the GPU tests run
// them (gpu_test_sgan_layers) and on the op's awkward shapes.
#define SGAN_CONV_GPU_CHECK_SUITES(Fixture, Subject)                                               \
  using Fixture = ::sgan::test::ConvCheckTest<Subject>;                                            \
  SGAN_CONV_CHECK_TESTS(Fixture)                                                                   \
  INSTANTIATE_TEST_SUITE_P(                                                                        \
      SganLayers, Fixture,                                                                         \
      ::testing::ValuesIn(::sgan::test::gpu_test_sgan_layers<Fixture::Op>()));                     \
  INSTANTIATE_TEST_SUITE_P(AwkwardShapes, Fixture,                                                 \
                           ::testing::ValuesIn(Fixture::Op::awkward_shapes()));
