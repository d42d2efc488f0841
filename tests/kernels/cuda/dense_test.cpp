// The CUDA dense layer against the CPU reference run in double: forward with every epilogue,
// backward data, and the += weight and bias gradients, on the SGAN recipes' dense shapes and on
// awkward ones (one row, one input, one output, sizes that fit no tile). The cuBLAS handle runs on
// a non-blocking stream, so our own kernels must follow the GEMMs on the handle's stream.
#include "kernels/dense.h"
#include "tests/support/compare.h"
#include "tests/support/dense_checks.h"
#include "tests/support/gpu.h"

#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

class CublasOnStream {
public:
  CublasOnStream() {
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&handle_));
    CUBLAS_CHECK(cublasSetStream(handle_, stream_));
  }
  ~CublasOnStream() {
    cublasDestroy(handle_);
    cudaStreamDestroy(stream_);
  }
  CublasOnStream(const CublasOnStream&) = delete;
  CublasOnStream& operator=(const CublasOnStream&) = delete;
  cublasHandle_t get() const { return handle_; }

private:
  cudaStream_t stream_ = nullptr;
  cublasHandle_t handle_ = nullptr;
};

void check_case(const test::DenseCase& c, bool with_bias, cublasHandle_t handle) {
  const DenseShape& s = c.s;
  const test::DenseCheck check(c, with_bias);
  test::DeviceBuffer<float> x_dev(check.x), w_dev(check.w), b_dev(check.b), dy_dev(check.dy);
  test::DeviceBuffer<float> y_dev(s.y_size()), dx_dev(s.x_size());
  test::DeviceBuffer<float> dw_dev(check.dw0), db_dev(check.db0);
  cuda::dense_forward(s, x_dev.get(), w_dev.get(), with_bias ? b_dev.get() : nullptr, y_dev.get(),
                      c.epilogue, handle);
  cuda::dense_backward_data(s, dy_dev.get(), w_dev.get(), dx_dev.get(), handle);
  cuda::dense_backward_weight(s, x_dev.get(), dy_dev.get(), dw_dev.get(), handle);
  cuda::dense_backward_bias(s, dy_dev.get(), db_dev.get(), handle);
  check.expect_matches(y_dev.to_host(), dx_dev.to_host(), dw_dev.to_host(), db_dev.to_host(),
                       test::describe(c) + (with_bias ? " bias" : " no bias"));
}

TEST(DenseCudaTest, SganShapesMatchCpu) {
  SGAN_REQUIRE_GPU();
  const CublasOnStream handle;
  for (const test::DenseCase& c : test::dense_sgan_cases()) check_case(c, true, handle.get());
}

TEST(DenseCudaTest, AwkwardShapesWithEveryEpilogueMatchCpu) {
  SGAN_REQUIRE_GPU();
  const CublasOnStream handle;
  for (const test::DenseCase& c : test::dense_awkward_cases()) {
    check_case(c, true, handle.get());
    check_case(c, false, handle.get());
  }
}

TEST(DenseCudaTest, BiasGradientIsDeterministic) {
  SGAN_REQUIRE_GPU();
  const CublasOnStream handle;
  const DenseShape s{300, 250, 250};
  const std::vector<float> dy = test::random_uniform<float>(s.y_size(), 5);
  const std::vector<float> db0 = test::random_uniform<float>(s.out, 6);
  test::DeviceBuffer<float> dy_dev(dy), db_first(db0), db_second(db0);
  cuda::dense_backward_bias(s, dy_dev.get(), db_first.get(), handle.get());
  cuda::dense_backward_bias(s, dy_dev.get(), db_second.get(), handle.get());
  EXPECT_EQ(db_first.to_host(), db_second.to_host());
}

TEST(DenseCudaTest, RejectsEmptyLayers) {
  SGAN_REQUIRE_GPU();
  const CublasOnStream handle;
  EXPECT_THROW(
      cuda::dense_backward_data(DenseShape{4, 0, 3}, nullptr, nullptr, nullptr, handle.get()),
      std::invalid_argument);
}

} // namespace
} // namespace sgan
