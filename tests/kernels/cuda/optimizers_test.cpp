// The CUDA optimisers against the CPU reference (which computes in double), over several steps,
// on sizes 1 and 3 (tail only), an odd million and the SGAN models' parameter counts, with the
// buffers 16-byte aligned and offset by whole floats (the scalar path of Adam). Each buffer sits
// between NaN guards that must survive. A captured CUDA graph replayed with new step scalars must
// take each step's values.
#include "kernels/optimizers.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"
#include "tests/support/guarded_slices.h"

#include <cstddef>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan {
namespace {

// Parameter counts (weights + biases) of the layers and models of SGAN.md.
constexpr std::size_t conv(std::size_t c_in, std::size_t c_out, std::size_t k) {
  return c_out * c_in * k * k + c_out;
}
constexpr std::size_t dense(std::size_t in, std::size_t out) { return in * out + out; }
constexpr std::size_t weight_normed_dense(std::size_t in, std::size_t out) {
  return dense(in, out) + out; // plus the gains g
}
constexpr std::size_t batchnorm(std::size_t c) { return 2 * c; }

constexpr std::size_t article_d = conv(1, 64, 3) + conv(64, 128, 3) + dense(6272, 11);
constexpr std::size_t article_g = dense(100, 6272) + batchnorm(128) + conv(128, 128, 4) +
                                  batchnorm(128) + conv(128, 64, 4) + batchnorm(64) +
                                  conv(64, 1, 7);
constexpr std::size_t improved_d = weight_normed_dense(784, 1000) + weight_normed_dense(1000, 500) +
                                   weight_normed_dense(500, 250) +
                                   2 * weight_normed_dense(250, 250) + weight_normed_dense(250, 10);
constexpr std::size_t improved_g = dense(100, 500) + batchnorm(500) + dense(500, 500) +
                                   batchnorm(500) + weight_normed_dense(500, 784);
static_assert(article_d == 143499 && article_g == 1030657);
static_assert(improved_d == 1541020 && improved_g == 696568);

const std::size_t sizes[] = {1, 3, 1000003, article_d, article_g, improved_d, improved_g};

// Offsets in floats of (params, grads, m, v) from a cudaMalloc'd (256-byte aligned) start: all
// aligned (float4 path), all off by one or three floats, and only one buffer off (scalar path).
struct Offsets {
  std::size_t params, grads, m, v;
};
const Offsets alignments[] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {3, 3, 3, 3}, {0, 1, 0, 0}, {0, 0, 0, 2}};

using test::download_at;
using test::upload_at;

// Per step the GPU's float arithmetic differs from the double reference by a few float roundings
// of p (|p| < 2: 1.2e-7 each) and of lr times the update direction (1e-3 x 1e-6); over three
// steps that stays below 1e-6, while an element skipped or updated twice is off by about lr.
constexpr double step_tolerance = 1e-6;

TEST(OptimizersCudaTest, AdamMatchesCpuOnAlignedAndMisalignedBuffers) {
  SGAN_REQUIRE_GPU();
  const float lr = 1e-3f;
  // eps outside and (as the improved recipe runs it) inside the square root.
  for (const AdamHyper hyper :
       {AdamHyper{0.5f, 0.999f, 1e-8f, 1e-4f}, AdamHyper{0.5f, 0.999f, 1e-8f, 1e-4f, true}})
    for (const std::size_t n : sizes) {
      for (const Offsets& at : alignments) {
        std::vector<float> params = test::random_uniform<float>(n, n), m(n, 0.0f), v(n, 0.0f);
        test::DeviceBuffer<float> params_dev = upload_at(params, at.params);
        test::DeviceBuffer<float> m_dev = upload_at(m, at.m), v_dev = upload_at(v, at.v);
        test::DeviceBuffer<AdamStepScalars> scalars_dev(1);
        for (int t = 1; t <= 3; ++t) {
          const std::vector<float> grads = test::random_uniform<float>(n, n + t);
          test::DeviceBuffer<float> grads_dev = upload_at(grads, at.grads);
          const AdamStepScalars scalars = adam_step_scalars(hyper, lr, t);
          scalars_dev.upload({scalars});
          cuda::adam_update(hyper, n, scalars_dev.get(), params_dev.get() + at.params,
                            grads_dev.get() + at.grads, m_dev.get() + at.m, v_dev.get() + at.v,
                            nullptr);
          cpu::adam_update(hyper, n, &scalars, params.data(), grads.data(), m.data(), v.data());
          download_at(grads_dev, at.grads, n, "grads");
        }
        const std::string where = std::string(hyper.eps_inside_sqrt ? "eps inside, " : "") +
                                  "n = " + std::to_string(n) + ", offsets " +
                                  std::to_string(at.params) + std::to_string(at.grads) +
                                  std::to_string(at.m) + std::to_string(at.v);
        EXPECT_TRUE(test::close(params, download_at(params_dev, at.params, n, "params"),
                                step_tolerance, step_tolerance))
            << where;
        EXPECT_TRUE(
            test::close(m, download_at(m_dev, at.m, n, "m"), step_tolerance, step_tolerance))
            << where;
        EXPECT_TRUE(
            test::close(v, download_at(v_dev, at.v, n, "v"), step_tolerance, step_tolerance))
            << where;
      }
    }
}

// The engine runs a first iteration eagerly, captures the next one and replays it; Adam must read
// lr and the corrections from device memory at each replay, not the values present at capture.
TEST(OptimizersCudaTest, AdamInACapturedGraphTakesEachReplaysScalars) {
  SGAN_REQUIRE_GPU();
  const AdamHyper hyper;
  const std::size_t n = 4099;
  std::vector<float> params = test::random_uniform<float>(n, 11), m(n, 0.0f), v(n, 0.0f);
  const std::vector<float> grads = test::random_uniform<float>(n, 12);
  test::DeviceBuffer<float> params_dev(params), grads_dev(grads), m_dev(m), v_dev(v);
  test::DeviceBuffer<AdamStepScalars> scalars_dev(1);
  const float learning_rates[] = {1e-3f, 5e-4f, 2e-3f, 1e-4f};
  // Writes step t's scalars to the device and takes the step on the CPU reference.
  auto prepare_step = [&](int t) {
    const AdamStepScalars scalars = adam_step_scalars(hyper, learning_rates[t - 1], t);
    scalars_dev.upload({scalars});
    cpu::adam_update(hyper, n, &scalars, params.data(), grads.data(), m.data(), v.data());
  };
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  auto update_on_device = [&] {
    cuda::adam_update(hyper, n, scalars_dev.get(), params_dev.get(), grads_dev.get(), m_dev.get(),
                      v_dev.get(), stream);
  };

  prepare_step(1);
  update_on_device();
  CUDA_CHECK(cudaStreamSynchronize(stream));

  cudaGraph_t graph;
  cudaGraphExec_t replay;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  update_on_device();
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  CUDA_CHECK(cudaGraphInstantiate(&replay, graph, 0));
  for (int t = 2; t <= 4; ++t) {
    prepare_step(t);
    CUDA_CHECK(cudaGraphLaunch(replay, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    EXPECT_TRUE(test::close(params, params_dev.to_host(), step_tolerance, step_tolerance))
        << "step " << t;
  }

  CUDA_CHECK(cudaGraphExecDestroy(replay));
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(cudaStreamDestroy(stream));
}

TEST(OptimizersCudaTest, SgdMatchesCpuWithAndWithoutMomentumAndWeightDecay) {
  SGAN_REQUIRE_GPU();
  const SgdHyper hypers[] = {{0.0f, 0.0f}, {0.0f, 5e-4f}, {0.9f, 0.0f}, {0.9f, 5e-4f}};
  const float lr = 0.05f;
  for (const std::size_t n : sizes) {
    for (const SgdHyper& hyper : hypers) {
      std::vector<float> params = test::random_uniform<float>(n, n), velocity(n, 0.0f);
      test::DeviceBuffer<float> params_dev = upload_at(params, 1);
      test::DeviceBuffer<float> velocity_dev = upload_at(velocity, 0);
      const test::DeviceBuffer<float> lr_dev(std::vector<float>{lr});
      // With momentum 0 the velocity is neither read nor written: none is passed.
      const bool momentum = hyper.momentum != 0.0f;
      for (int step = 0; step < 3; ++step) {
        const std::vector<float> grads = test::random_uniform<float>(n, n + 10 + step);
        const test::DeviceBuffer<float> grads_dev(grads);
        cuda::sgd_update(hyper, n, lr_dev.get(), params_dev.get() + 1, grads_dev.get(),
                         momentum ? velocity_dev.get() : nullptr, nullptr);
        cpu::sgd_update(hyper, n, &lr, params.data(), grads.data(),
                        momentum ? velocity.data() : nullptr);
      }
      const std::string where = "n = " + std::to_string(n) + ", momentum " +
                                std::to_string(hyper.momentum) + ", weight_decay " +
                                std::to_string(hyper.weight_decay);
      // lr |u| < 0.25 per step; the tolerance argument of Adam's holds.
      EXPECT_TRUE(test::close(params, download_at(params_dev, 1, n, "params"), step_tolerance,
                              step_tolerance))
          << where;
      // |u| < 2.8 after three steps, so a few float roundings of it stay below 2e-6.
      if (momentum) {
        EXPECT_TRUE(test::close(velocity, download_at(velocity_dev, 0, n, "velocity"),
                                step_tolerance, 2e-6))
            << where;
      } else {
        EXPECT_EQ(download_at(velocity_dev, 0, n, "velocity"), std::vector<float>(n, 0.0f))
            << "momentum 0 wrote the velocity";
      }
    }
  }
}

// The average aligned (float4s) and one float off (one float a trip).
TEST(OptimizersCudaTest, EmaMatchesCpu) {
  SGAN_REQUIRE_GPU();
  const float rate = 0.01f;
  for (const std::size_t offset : {std::size_t(0), std::size_t(1)})
    for (const std::size_t n : sizes) {
      std::vector<float> ema = test::random_uniform<float>(n, n);
      test::DeviceBuffer<float> ema_dev = upload_at(ema, offset);
      for (int step = 0; step < 3; ++step) {
        const std::vector<float> params = test::random_uniform<float>(n, n + 20 + step);
        const test::DeviceBuffer<float> params_dev(params);
        cuda::ema_update(n, rate, params_dev.get(), ema_dev.get() + offset, nullptr);
        cpu::ema_update(n, rate, params.data(), ema.data());
      }
      // Per step, a float rounding of the new ema (|ema| < 1: 6e-8) and of p - ema (scaled by
      // rate, 1e-9), against a skipped element off by about rate = 1e-2.
      EXPECT_TRUE(test::close(ema, download_at(ema_dev, offset, n, "ema"), 5e-7, 5e-7))
          << "offset " << offset << " n = " << n;
    }
}

} // namespace
} // namespace sgan
