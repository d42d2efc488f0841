// The CPU conv2d and conv_transpose2d in float (the CPU training backend) against the same code in
// double, through the checks every GPU implementation passes (tests/support/conv_checks.h): every
// epilogue, each backward direction, the SGAN layers' geometries (at batch 2: the CPU path is the
// reference's own loops, far too slow for the GPU tests' batches) and the awkward shapes. This also
// runs those checks themselves on a machine without a GPU.
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "tests/support/conv_checks.h"

namespace sgan {
namespace {

// The float path sums in double and rounds once (a relative error of at most 2^-24 ~ 6e-8 per
// element; once more where a gradient is added to dw or db), so its tolerance is far below the
// GPU kernels' float accumulation.
constexpr double rounded_once_tolerance = 2e-7;

struct Conv2dCpuFloat {
  using Op = test::Conv2dOp;
  using Buffer = test::HostBuffer;
  struct Context {};
  static constexpr bool needs_gpu = false;
  static constexpr double tolerance = rounded_once_tolerance;

  static void forward(Context&, const Conv2dShape& s, const float* x, const float* w,
                      const float* b, float* y, const Activation& a) {
    cpu::conv2d_forward(s, x, w, b, y, a);
  }
  static void backward_data(Context&, const Conv2dShape& s, const float* dy, const float* w,
                            float* dx) {
    cpu::conv2d_backward_data(s, dy, w, dx);
  }
  static void backward_weight(Context&, const Conv2dShape& s, const float* x, const float* dy,
                              float* dw) {
    cpu::conv2d_backward_weight(s, x, dy, dw);
  }
  static void backward_bias(Context&, const Conv2dShape& s, const float* dy, float* db) {
    cpu::conv2d_backward_bias(s, dy, db);
  }
};

struct ConvTranspose2dCpuFloat {
  using Op = test::ConvTranspose2dOp;
  using Buffer = test::HostBuffer;
  struct Context {};
  static constexpr bool needs_gpu = false;
  static constexpr double tolerance = rounded_once_tolerance;

  static void forward(Context&, const ConvTranspose2dShape& s, const float* x, const float* w,
                      const float* b, float* y, const Activation& a) {
    cpu::conv_transpose2d_forward(s, x, w, b, y, a);
  }
  static void backward_data(Context&, const ConvTranspose2dShape& s, const float* dy,
                            const float* w, float* dx) {
    cpu::conv_transpose2d_backward_data(s, dy, w, dx);
  }
  static void backward_weight(Context&, const ConvTranspose2dShape& s, const float* x,
                              const float* dy, float* dw) {
    cpu::conv_transpose2d_backward_weight(s, x, dy, dw);
  }
  static void backward_bias(Context&, const ConvTranspose2dShape& s, const float* dy, float* db) {
    cpu::conv_transpose2d_backward_bias(s, dy, db);
  }
};

using Conv2dCpuFloatTest = test::ConvCheckTest<Conv2dCpuFloat>;
SGAN_CONV_CHECK_TESTS(Conv2dCpuFloatTest)
INSTANTIATE_TEST_SUITE_P(SganLayersAtBatch2, Conv2dCpuFloatTest,
                         ::testing::ValuesIn(test::at_batch(Conv2dCpuFloatTest::Op::sgan_layers(),
                                                            2)));
INSTANTIATE_TEST_SUITE_P(AwkwardShapes, Conv2dCpuFloatTest,
                         ::testing::ValuesIn(Conv2dCpuFloatTest::Op::awkward_shapes()));

using ConvTranspose2dCpuFloatTest = test::ConvCheckTest<ConvTranspose2dCpuFloat>;
SGAN_CONV_CHECK_TESTS(ConvTranspose2dCpuFloatTest)
INSTANTIATE_TEST_SUITE_P(
    SganLayersAtBatch2, ConvTranspose2dCpuFloatTest,
    ::testing::ValuesIn(test::at_batch(ConvTranspose2dCpuFloatTest::Op::sgan_layers(), 2)));
INSTANTIATE_TEST_SUITE_P(AwkwardShapes, ConvTranspose2dCpuFloatTest,
                         ::testing::ValuesIn(ConvTranspose2dCpuFloatTest::Op::awkward_shapes()));

} // namespace
} // namespace sgan
