// Our CUDA conv2d and conv_transpose2d kernels, run on the CPU by kernels/cuda/emulation.h
// (every thread a fiber, barriers and shuffles as on the GPU), through the checks every
// implementation passes (tests/support/conv_checks.h): each tile class, backward_data's phases,
// backward_weight's split reduction and the bias sums, on the awkward shapes and the SGAN layers'
// geometries, without a GPU. Emulated threads run one at a time, so the SGAN layers run at batch 2
// here; the GPU tests (tests/kernels/cuda/) run them at the recipes' batches.
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "tests/support/conv_checks.h"

namespace sgan {
namespace {

// The same float arithmetic as on the GPU (fmaf in tiles, fixed-order partial sums), so the same
// tolerance as the GPU tests.
constexpr double float_accumulation_tolerance = 1e-5;

struct Conv2dEmulated {
  using Op = test::Conv2dOp;
  using Buffer = test::HostBuffer;
  struct Context {};
  static constexpr bool needs_gpu = false;
  static constexpr double tolerance = float_accumulation_tolerance;

  static void forward(Context&, const Conv2dShape& s, const float* x, const float* w,
                      const float* b, float* y, const Activation& a) {
    cuda::conv2d_forward(s, x, w, b, y, a, nullptr);
  }
  static void backward_data(Context&, const Conv2dShape& s, const float* dy, const float* w,
                            float* dx) {
    cuda::conv2d_backward_data(s, dy, w, dx, nullptr);
  }
  static void backward_weight(Context&, const Conv2dShape& s, const float* x, const float* dy,
                              float* dw) {
    cuda::conv2d_backward_weight(s, x, dy, dw, nullptr);
  }
  static void backward_bias(Context&, const Conv2dShape& s, const float* dy, float* db) {
    cuda::conv2d_backward_bias(s, dy, db, nullptr);
  }
};

struct ConvTranspose2dEmulated {
  using Op = test::ConvTranspose2dOp;
  using Buffer = test::HostBuffer;
  struct Context {};
  static constexpr bool needs_gpu = false;
  static constexpr double tolerance = float_accumulation_tolerance;

  static void forward(Context&, const ConvTranspose2dShape& s, const float* x, const float* w,
                      const float* b, float* y, const Activation& a) {
    cuda::conv_transpose2d_forward(s, x, w, b, y, a, nullptr);
  }
  static void backward_data(Context&, const ConvTranspose2dShape& s, const float* dy,
                            const float* w, float* dx) {
    cuda::conv_transpose2d_backward_data(s, dy, w, dx, nullptr);
  }
  static void backward_weight(Context&, const ConvTranspose2dShape& s, const float* x,
                              const float* dy, float* dw) {
    cuda::conv_transpose2d_backward_weight(s, x, dy, dw, nullptr);
  }
  static void backward_bias(Context&, const ConvTranspose2dShape& s, const float* dy, float* db) {
    cuda::conv_transpose2d_backward_bias(s, dy, db, nullptr);
  }
};

using Conv2dEmulatedTest = test::ConvCheckTest<Conv2dEmulated>;
SGAN_CONV_CHECK_TESTS(Conv2dEmulatedTest)
INSTANTIATE_TEST_SUITE_P(SganLayersAtBatch2, Conv2dEmulatedTest,
                         ::testing::ValuesIn(test::at_batch(Conv2dEmulatedTest::Op::sgan_layers(),
                                                            2)));
INSTANTIATE_TEST_SUITE_P(AwkwardShapes, Conv2dEmulatedTest,
                         ::testing::ValuesIn(Conv2dEmulatedTest::Op::awkward_shapes()));

using ConvTranspose2dEmulatedTest = test::ConvCheckTest<ConvTranspose2dEmulated>;
SGAN_CONV_CHECK_TESTS(ConvTranspose2dEmulatedTest)
INSTANTIATE_TEST_SUITE_P(
    SganLayersAtBatch2, ConvTranspose2dEmulatedTest,
    ::testing::ValuesIn(test::at_batch(ConvTranspose2dEmulatedTest::Op::sgan_layers(), 2)));
INSTANTIATE_TEST_SUITE_P(AwkwardShapes, ConvTranspose2dEmulatedTest,
                         ::testing::ValuesIn(ConvTranspose2dEmulatedTest::Op::awkward_shapes()));

} // namespace
} // namespace sgan
