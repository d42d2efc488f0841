// The variants of the implicit-GEMM convolution kernels (kernels/cuda/conv_variants.h) compute the
// same function bit for bit: they differ only in which thread computes which output, and every
// output's sum runs over the same k in the same order, so a variant that differs in a single bit
// has an indexing or synchronisation fault, even one too small for the CPU-reference tolerance.
// And the public cuda:: functions run the default variant. Each conv2d and conv_transpose2d
// direction on the SGAN layers and the awkward shapes (tests/support/conv_checks.h).
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/cuda/conv_variants.h"
#include "tests/support/compare.h"
#include "tests/support/conv_checks.h"
#include "tests/support/gpu.h"

#include <vector>

namespace sgan {
namespace {

using Buffer = test::DeviceBuffer<float>;

// The calls of one op: variant *v's, or kernels/<op>.h's public function where v is null.
struct Conv2dCalls {
  using Op = test::Conv2dOp;
  static void forward(const cuda::ConvVariant* v, const Conv2dShape& s, const float* x,
                      const float* w, const float* b, float* y, const Activation& a) {
    v ? cuda::conv2d_forward(*v, s, x, w, b, y, a, nullptr)
      : cuda::conv2d_forward(s, x, w, b, y, a, nullptr);
  }
  static void backward_data(const cuda::ConvVariant* v, const Conv2dShape& s, const float* dy,
                            const float* w, float* dx) {
    v ? cuda::conv2d_backward_data(*v, s, dy, w, dx, nullptr)
      : cuda::conv2d_backward_data(s, dy, w, dx, nullptr);
  }
  static void backward_weight(const cuda::ConvVariant* v, const Conv2dShape& s, const float* x,
                              const float* dy, float* dw) {
    v ? cuda::conv2d_backward_weight(*v, s, x, dy, dw, nullptr)
      : cuda::conv2d_backward_weight(s, x, dy, dw, nullptr);
  }
};

struct ConvTranspose2dCalls {
  using Op = test::ConvTranspose2dOp;
  static void forward(const cuda::ConvVariant* v, const ConvTranspose2dShape& s, const float* x,
                      const float* w, const float* b, float* y, const Activation& a) {
    v ? cuda::conv_transpose2d_forward(*v, s, x, w, b, y, a, nullptr)
      : cuda::conv_transpose2d_forward(s, x, w, b, y, a, nullptr);
  }
  static void backward_data(const cuda::ConvVariant* v, const ConvTranspose2dShape& s,
                            const float* dy, const float* w, float* dx) {
    v ? cuda::conv_transpose2d_backward_data(*v, s, dy, w, dx, nullptr)
      : cuda::conv_transpose2d_backward_data(s, dy, w, dx, nullptr);
  }
  static void backward_weight(const cuda::ConvVariant* v, const ConvTranspose2dShape& s,
                              const float* x, const float* dy, float* dw) {
    v ? cuda::conv_transpose2d_backward_weight(*v, s, x, dy, dw, nullptr)
      : cuda::conv_transpose2d_backward_weight(s, x, dy, dw, nullptr);
  }
};

template <class Calls>
class ConvVariantsTest
    : public ::testing::TestWithParam<test::ConvCase<typename Calls::Op::Shape>> {
protected:
  using Shape = typename Calls::Op::Shape;
  void SetUp() override { SGAN_REQUIRE_GPU(); }
  const Shape& shape() const { return this->GetParam().shape; }

  // Runs `direction` (a call taking the variant, or null for the public function, and returning
  // the output) for the public function and every variant, and expects the same bits from all.
  template <class Direction> void expect_all_equal(Direction direction) const {
    const std::vector<float> expected = direction(nullptr);
    for (const cuda::ConvVariant v : cuda::conv_variants)
      EXPECT_TRUE(test::bitwise_equal(expected, direction(&v))) << cuda::conv_variant_name(v);
  }

  void check_forward() const {
    const Shape& s = shape();
    const Buffer x(test::random_uniform<float>(s.x_size(), 1));
    const Buffer w(test::random_uniform<float>(s.w_size(), 2));
    const Buffer b(test::random_uniform<float>(s.c_out, 3));
    expect_all_equal([&](const cuda::ConvVariant* v) {
      Buffer y(s.y_size());
      Calls::forward(v, s, x.get(), w.get(), b.get(), y.get(), Activation::leaky_relu(0.2f));
      return y.to_host();
    });
  }

  void check_backward_data() const {
    const Shape& s = shape();
    const Buffer dy(test::random_uniform<float>(s.y_size(), 4));
    const Buffer w(test::random_uniform<float>(s.w_size(), 5));
    expect_all_equal([&](const cuda::ConvVariant* v) {
      Buffer dx(s.x_size());
      Calls::backward_data(v, s, dy.get(), w.get(), dx.get());
      return dx.to_host();
    });
  }

  void check_backward_weight() const {
    const Shape& s = shape();
    const Buffer x(test::random_uniform<float>(s.x_size(), 6));
    const Buffer dy(test::random_uniform<float>(s.y_size(), 7));
    const auto previous = test::random_uniform<float>(s.w_size(), 8);
    expect_all_equal([&](const cuda::ConvVariant* v) {
      Buffer dw(previous);
      Calls::backward_weight(v, s, x.get(), dy.get(), dw.get());
      return dw.to_host();
    });
  }
};

#define SGAN_CONV_VARIANTS_TESTS(Fixture, Calls)                                                   \
  using Fixture = ConvVariantsTest<Calls>;                                                         \
  TEST_P(Fixture, ForwardIsTheSameInEveryVariant) { check_forward(); }                             \
  TEST_P(Fixture, BackwardDataIsTheSameInEveryVariant) { check_backward_data(); }                  \
  TEST_P(Fixture, BackwardWeightIsTheSameInEveryVariant) { check_backward_weight(); }              \
  INSTANTIATE_TEST_SUITE_P(SganLayers, Fixture,                                                    \
                           ::testing::ValuesIn(test::gpu_test_sgan_layers<Calls::Op>()));          \
  INSTANTIATE_TEST_SUITE_P(AwkwardShapes, Fixture,                                                 \
                           ::testing::ValuesIn(Calls::Op::awkward_shapes()));
SGAN_CONV_VARIANTS_TESTS(Conv2dVariantsTest, Conv2dCalls)
SGAN_CONV_VARIANTS_TESTS(ConvTranspose2dVariantsTest, ConvTranspose2dCalls)

} // namespace
} // namespace sgan
