// The CUDA conv_transpose2d against the CPU reference run in double (tests/support/conv_checks.h):
// forward with every epilogue and each backward direction, on G's two layers and on awkward
// shapes (emulated on the CPU, G's layers at batch 2). Outputs start poisoned with NaN.
#include "kernels/conv_transpose2d.h"
#include "kernels/cuda/conv_variants.h"
#include "tests/support/conv_checks.h"
#include "tests/support/gpu.h"
#include "tests/support/tf32.h"

namespace sgan {
namespace {

template <cuda::ConvVariant Variant> struct ConvTranspose2dCuda {
  using Op = test::ConvTranspose2dOp;
  using Buffer = test::DeviceBuffer<float>;
  struct Context {};
  static constexpr bool needs_gpu = true;
  // Float accumulation is off by ~1e-7 relative: a margin of ~50x.
  static constexpr double tolerance = 1e-5;

  static void forward(Context&, const ConvTranspose2dShape& s, const float* x, const float* w,
                      const float* b, float* y, const Activation& a) {
    cuda::conv_transpose2d_forward(Variant, s, x, w, b, y, a, nullptr);
  }
  static void backward_data(Context&, const ConvTranspose2dShape& s, const float* dy,
                            const float* w, float* dx) {
    cuda::conv_transpose2d_backward_data(Variant, s, dy, w, dx, nullptr);
  }
  static void backward_weight(Context&, const ConvTranspose2dShape& s, const float* x,
                              const float* dy, float* dw) {
    cuda::conv_transpose2d_backward_weight(Variant, s, x, dy, dw, nullptr);
  }
  static void backward_bias(Context&, const ConvTranspose2dShape& s, const float* dy, float* db) {
    cuda::conv_transpose2d_backward_bias(s, dy, db, nullptr);
  }
};

// Every variant of the implicit-GEMM kernels (kernels/cuda/conv_variants.h), the default included.
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaMeasuredTilesTest,
                           ConvTranspose2dCuda<cuda::ConvVariant::measured_tiles>)
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaStridedFragmentsTest,
                           ConvTranspose2dCuda<cuda::ConvVariant::strided_fragments>)
SGAN_CONV_GPU_CHECK_SUITES(
    ConvTranspose2dCudaContiguousFragmentsPairedLanesTest,
    ConvTranspose2dCuda<cuda::ConvVariant::contiguous_fragments_paired_lanes>)
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaLargeThreadTilesTest,
                           ConvTranspose2dCuda<cuda::ConvVariant::large_thread_tiles>)
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaDoubleBufferedSlicesTest,
                           ConvTranspose2dCuda<cuda::ConvVariant::double_buffered_slices>)
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaOneColumnTilesTest,
                           ConvTranspose2dCuda<cuda::ConvVariant::one_column_tiles>)
// Summing in another order (K split between blocks), so held to the CPU reference only.
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaSplitKSmallGridsTest,
                           ConvTranspose2dCuda<cuda::ConvVariant::split_k_small_grids>)
// backward_data and backward_weight of 4 or fewer input channels are a conv2d forward and
// backward_weight of 4 or fewer output channels: the direct convolution.
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaDirectFewChannelsTest,
                           ConvTranspose2dCuda<cuda::ConvVariant::direct_few_channels>)

// The opt-in TF32 precision, against the reference on TF32-rounded operands and against FP32
// (tests/support/tf32.h).
using ConvTranspose2dCudaTf32 = ConvTranspose2dCuda<cuda::ConvVariant::tf32_tensor_cores>;
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaTf32Test, test::Tf32Operands<ConvTranspose2dCudaTf32>)
SGAN_CONV_GPU_CHECK_SUITES(ConvTranspose2dCudaTf32AccuracyTest,
                           test::Tf32Accuracy<ConvTranspose2dCudaTf32>)

} // namespace
} // namespace sgan
