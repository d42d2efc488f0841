// The vendor twin of dense (cublasLt with fused bias / relu epilogues, cuBLAS GEMV for the bias
// gradient) against the CPU reference run in double, on the cases and with the tolerance of the
// CUDA dense test (tests/support/dense_checks.h), and on biases not 16-byte aligned.
#include "kernels/cudnn/handle.h"
#include "kernels/dense.h"
#include "tests/support/dense_checks.h"
#include "tests/support/gpu.h"

#include <cstddef>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan {
namespace {

// bias_offset > 0 places the bias that many floats into its buffer, as a bias view into a packed
// parameter buffer may be (only 4-byte aligned for an odd offset).
void check_case(const test::DenseCase& c, bool with_bias, cudnn::Handle& handle,
                int bias_offset = 0) {
  const DenseShape& s = c.s;
  const test::DenseCheck check(c, with_bias);
  std::vector<float> b_padded(std::size_t(bias_offset), 0.0f);
  b_padded.insert(b_padded.end(), check.b.begin(), check.b.end());
  test::DeviceBuffer<float> x_dev(check.x), w_dev(check.w), b_dev(b_padded), dy_dev(check.dy);
  test::DeviceBuffer<float> y_dev(s.y_size()), dx_dev(s.x_size());
  test::DeviceBuffer<float> dw_dev(check.dw0), db_dev(check.db0);
  cudnn::dense_forward(s, x_dev.get(), w_dev.get(), with_bias ? b_dev.get() + bias_offset : nullptr,
                       y_dev.get(), c.epilogue, handle);
  cudnn::dense_backward_data(s, dy_dev.get(), w_dev.get(), dx_dev.get(), handle);
  cudnn::dense_backward_weight(s, x_dev.get(), dy_dev.get(), dw_dev.get(), handle);
  cudnn::dense_backward_bias(s, dy_dev.get(), db_dev.get(), handle);
  check.expect_matches(y_dev.to_host(), dx_dev.to_host(), dw_dev.to_host(), db_dev.to_host(),
                       test::describe(c) + (with_bias ? " bias" : " no bias") + " at offset " +
                           std::to_string(bias_offset));
}

TEST(DenseCudnnTest, SganShapesMatchCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  for (const test::DenseCase& c : test::dense_sgan_cases()) check_case(c, true, handle);
}

TEST(DenseCudnnTest, AwkwardShapesWithEveryEpilogueMatchCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  for (const test::DenseCase& c : test::dense_awkward_cases()) {
    check_case(c, true, handle);
    check_case(c, false, handle);
  }
}

// cublasLt reads an epilogue bias with wide loads; a bias only 4- or 8-byte aligned must still work.
TEST(DenseCudnnTest, BiasThatIsNotSixteenByteAlignedMatchesCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  for (const int offset : {1, 2, 3})
    for (const Activation& a : {Activation::identity(), Activation::relu(), Activation::tanh()})
      check_case({{7, 33, 11}, a}, true, handle, offset);
}

} // namespace
} // namespace sgan
