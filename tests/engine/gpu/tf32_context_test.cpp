// A context asked for TF32 convolutions (--tf32) runs the TF32 tensor-core kernels in every
// convolution direction, bit for bit what kernels/cuda/conv_variants.h's tf32_tensor_cores variant
// computes (whose accuracy tests/kernels/cuda/conv2d_test.cpp holds), and goes back to FP32 when
// asked; the backends without a TF32 path refuse it with a reason.
#include "engine/core/context.h"
#include "engine/core/ops.h"
#include "kernels/cuda/conv_variants.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

using Buffer = test::DeviceBuffer<float>;

TEST(Tf32ContextTest, BackendsWithoutATf32PathRefuseIt) {
  Context cpu(Backend::cpu);
  EXPECT_THROW(cpu.set_tf32_convolutions(true), std::invalid_argument);
  EXPECT_FALSE(cpu.tf32_convolutions());
  cpu.set_tf32_convolutions(false); // asking for FP32 is always fine
  std::string reason;
  if (backend_available(Backend::cudnn, &reason)) {
    Context cudnn(Backend::cudnn);
    EXPECT_THROW(cudnn.set_tf32_convolutions(true), std::invalid_argument);
  }
}

// D's second layer (64 -> 128 k3 s2 on 14x14) and G's first deconvolution at batch 2.
const Conv2dShape conv = conv2d_shape(2, 64, 14, 14, 128, 3, 3, 2, Padding::same);
const ConvTranspose2dShape deconv =
    conv_transpose2d_shape(2, 128, 7, 7, 128, 4, 4, 2, Padding::same);

struct Outputs {
  std::vector<float> y, dx, dw, deconv_y, deconv_dx, deconv_dw;
};

// Every convolution direction through the engine's ops on `ctx`, or straight through the kernels
// of `variant` where one is given.
Outputs run(Context& ctx, const cuda::ConvVariant* variant) {
  const Buffer x(test::random_uniform<float>(conv.x_size(), 1));
  const Buffer w(test::random_uniform<float>(conv.w_size(), 2));
  const Buffer b(test::random_uniform<float>(conv.c_out, 3));
  const Buffer dy(test::random_uniform<float>(conv.y_size(), 4));
  const Buffer dx_x(test::random_uniform<float>(deconv.x_size(), 5));
  const Buffer dw_w(test::random_uniform<float>(deconv.w_size(), 6));
  const Buffer dy_deconv(test::random_uniform<float>(deconv.y_size(), 7));
  Buffer y(conv.y_size()), dx(conv.x_size()), dw(std::vector<float>(conv.w_size(), 0.0f));
  Buffer deconv_y(deconv.y_size()), deconv_dx(deconv.x_size());
  Buffer deconv_dw(std::vector<float>(deconv.w_size(), 0.0f));
  const Activation a = Activation::leaky_relu(0.2f);
  cudaStream_t stream = ctx.stream();
  if (variant) {
    cuda::conv2d_forward(*variant, conv, x.get(), w.get(), b.get(), y.get(), a, stream);
    cuda::conv2d_backward_data(*variant, conv, dy.get(), w.get(), dx.get(), stream);
    cuda::conv2d_backward_weight(*variant, conv, x.get(), dy.get(), dw.get(), stream);
    cuda::conv_transpose2d_forward(*variant, deconv, dx_x.get(), dw_w.get(), nullptr,
                                   deconv_y.get(), a, stream);
    cuda::conv_transpose2d_backward_data(*variant, deconv, dy_deconv.get(), dw_w.get(),
                                         deconv_dx.get(), stream);
    cuda::conv_transpose2d_backward_weight(*variant, deconv, dx_x.get(), dy_deconv.get(),
                                           deconv_dw.get(), stream);
  } else {
    ops::conv2d_forward(ctx, conv, x.get(), w.get(), b.get(), y.get(), a);
    ops::conv2d_backward_data(ctx, conv, dy.get(), w.get(), dx.get());
    ops::conv2d_backward_weight(ctx, conv, x.get(), dy.get(), dw.get());
    ops::conv_transpose2d_forward(ctx, deconv, dx_x.get(), dw_w.get(), nullptr, deconv_y.get(),
                                  a);
    ops::conv_transpose2d_backward_data(ctx, deconv, dy_deconv.get(), dw_w.get(),
                                        deconv_dx.get());
    ops::conv_transpose2d_backward_weight(ctx, deconv, dx_x.get(), dy_deconv.get(),
                                          deconv_dw.get());
  }
  ctx.synchronize();
  return {y.to_host(),        dx.to_host(),        dw.to_host(),
          deconv_y.to_host(), deconv_dx.to_host(), deconv_dw.to_host()};
}

void expect_same(const Outputs& a, const Outputs& b, const char* what) {
  EXPECT_EQ(a.y, b.y) << what << ": conv2d forward";
  EXPECT_EQ(a.dx, b.dx) << what << ": conv2d backward_data";
  EXPECT_EQ(a.dw, b.dw) << what << ": conv2d backward_weight";
  EXPECT_EQ(a.deconv_y, b.deconv_y) << what << ": conv_transpose2d forward";
  EXPECT_EQ(a.deconv_dx, b.deconv_dx) << what << ": conv_transpose2d backward_data";
  EXPECT_EQ(a.deconv_dw, b.deconv_dw) << what << ": conv_transpose2d backward_weight";
}

TEST(Tf32ContextTest, ConvolutionsRunTheTf32KernelsInEveryDirectionUntilTurnedOff) {
  SGAN_REQUIRE_GPU();
  Context ctx(Backend::cuda);
  EXPECT_FALSE(ctx.tf32_convolutions());
  const cuda::ConvVariant tf32 = cuda::ConvVariant::tf32_tensor_cores;
  const cuda::ConvVariant fp32 = cuda::default_conv_variant;
  const Outputs tf32_kernels = run(ctx, &tf32), fp32_kernels = run(ctx, &fp32);
  // The two precisions differ (else the comparisons below could not tell them apart).
  EXPECT_NE(tf32_kernels.y, fp32_kernels.y);
  EXPECT_NE(tf32_kernels.dw, fp32_kernels.dw);

  expect_same(run(ctx, nullptr), fp32_kernels, "FP32 by default");
  ctx.set_tf32_convolutions(true);
  EXPECT_TRUE(ctx.tf32_convolutions());
  expect_same(run(ctx, nullptr), tf32_kernels, "TF32 once asked for");
  ctx.set_tf32_convolutions(false);
  expect_same(run(ctx, nullptr), fp32_kernels, "FP32 again");
}

} // namespace
} // namespace sgan
