// The CUDA conv2d, each kernel variant, against the CPU reference run in double
// (tests/support/conv_checks.h): forward
// with every epilogue and each backward direction, on every SGAN conv layer and on awkward shapes
// that fill no tile evenly (emulated on the CPU, the SGAN layers at batch 2). Outputs start
// poisoned with NaN.
#include "kernels/conv2d.h"
#include "kernels/cuda/conv_variants.h"
#include "tests/support/conv_checks.h"
#include "tests/support/gpu.h"
#include "tests/support/tf32.h"

namespace sgan {
namespace {

template <cuda::ConvVariant Variant> struct Conv2dCuda {
  using Op = test::Conv2dOp;
  using Buffer = test::DeviceBuffer<float>;
  struct Context {};
  static constexpr bool needs_gpu = true;
  // Float accumulation (in tiles, then in fixed-order partial sums) is off by ~1e-7 relative: a
  // margin of ~50x.
  static constexpr double tolerance = 1e-5;

  static void forward(Context&, const Conv2dShape& s, const float* x, const float* w,
                      const float* b, float* y, const Activation& a) {
    cuda::conv2d_forward(Variant, s, x, w, b, y, a, nullptr);
  }
  static void backward_data(Context&, const Conv2dShape& s, const float* dy, const float* w,
                            float* dx) {
    cuda::conv2d_backward_data(Variant, s, dy, w, dx, nullptr);
  }
  static void backward_weight(Context&, const Conv2dShape& s, const float* x, const float* dy,
                              float* dw) {
    cuda::conv2d_backward_weight(Variant, s, x, dy, dw, nullptr);
  }
  static void backward_bias(Context&, const Conv2dShape& s, const float* dy, float* db) {
    cuda::conv2d_backward_bias(s, dy, db, nullptr);
  }
};

// Every variant of the implicit-GEMM kernels (kernels/cuda/conv_variants.h), the default included.
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaMeasuredTilesTest,
                           Conv2dCuda<cuda::ConvVariant::measured_tiles>)
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaStridedFragmentsTest,
                           Conv2dCuda<cuda::ConvVariant::strided_fragments>)
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaContiguousFragmentsPairedLanesTest,
                           Conv2dCuda<cuda::ConvVariant::contiguous_fragments_paired_lanes>)
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaLargeThreadTilesTest,
                           Conv2dCuda<cuda::ConvVariant::large_thread_tiles>)
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaDoubleBufferedSlicesTest,
                           Conv2dCuda<cuda::ConvVariant::double_buffered_slices>)
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaOneColumnTilesTest,
                           Conv2dCuda<cuda::ConvVariant::one_column_tiles>)
// Summing in another order (K split between blocks), so held to the CPU reference only.
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaSplitKSmallGridsTest,
                           Conv2dCuda<cuda::ConvVariant::split_k_small_grids>)
// A direct convolution for forwards and backward_weights of c_out <= 4 (G.to_image; awkward
// shapes of 1, 3 and 4 output channels at strides 1, 3 and 2, and 1,100 images of 1 channel),
// summing without the implicit GEMM's tiles.
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaDirectFewChannelsTest,
                           Conv2dCuda<cuda::ConvVariant::direct_few_channels>)

// The opt-in TF32 precision, against the reference on TF32-rounded operands and against FP32
// (tests/support/tf32.h).
using Conv2dCudaTf32 = Conv2dCuda<cuda::ConvVariant::tf32_tensor_cores>;
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaTf32Test, test::Tf32Operands<Conv2dCudaTf32>)
SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudaTf32AccuracyTest, test::Tf32Accuracy<Conv2dCudaTf32>)

} // namespace
} // namespace sgan
