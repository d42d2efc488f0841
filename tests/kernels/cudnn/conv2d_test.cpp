// The cuDNN conv2d twin against the CPU reference run in double (tests/support/conv_checks.h):
// forward with every epilogue and each backward direction, on every SGAN conv layer and on awkward
// shapes. D's layers, the even kernels and the hand-made pads take the zero-padded copy path
// (asymmetric pads), the others call cuDNN directly. Outputs start poisoned with NaN.
#include "kernels/conv2d.h"
#include "kernels/cudnn/handle.h"
#include "tests/support/conv_checks.h"
#include "tests/support/gpu.h"

namespace sgan {
namespace {

struct Conv2dCudnn {
  using Op = test::Conv2dOp;
  using Buffer = test::DeviceBuffer<float>;
  using Context = cudnn::Handle;
  static constexpr bool needs_gpu = true;
  // cuDNN may pick FFT or Winograd algorithms, whose float error is larger than a direct sum's,
  // and cudnnFind* picks by timing, so the algorithm can change from run to run: on an H200 with
  // cuDNN 9.14 one run's forward of 3x2x9x11 -> 17x5x7 (5x5) was 1.6e-4 to 2.5e-4 relative from
  // the reference and another's passed 1e-4 (bench/results/2026-12-04-6f1563c-NVIDIA-H200). A
  // wrong pad or crop still shows up as an O(1) error.
  static constexpr double tolerance = 1e-3;

  static void forward(Context& handle, const Conv2dShape& s, const float* x, const float* w,
                      const float* b, float* y, const Activation& a) {
    cudnn::conv2d_forward(s, x, w, b, y, a, handle);
  }
  static void backward_data(Context& handle, const Conv2dShape& s, const float* dy, const float* w,
                            float* dx) {
    cudnn::conv2d_backward_data(s, dy, w, dx, handle);
  }
  // The twin prefers cuDNN's deterministic algorithms, so it passes the determinism check too.
  static void backward_weight(Context& handle, const Conv2dShape& s, const float* x,
                              const float* dy, float* dw) {
    cudnn::conv2d_backward_weight(s, x, dy, dw, handle);
  }
  static void backward_bias(Context& handle, const Conv2dShape& s, const float* dy, float* db) {
    cudnn::conv2d_backward_bias(s, dy, db, handle);
  }
};

SGAN_CONV_GPU_CHECK_SUITES(Conv2dCudnnTest, Conv2dCudnn)

} // namespace
} // namespace sgan
