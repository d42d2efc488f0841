// The vendor twin of dense (cublasLt with fused bias / relu epilogues, cuBLAS GEMV for the bias
// gradient) against the CPU reference run in double, on the SGAN recipes' dense shapes and on
// awkward ones, with every epilogue.
#include "kernels/cudnn/handle.h"
#include "kernels/dense.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace sgan {
namespace {

struct DenseCase {
  DenseShape s;
  Activation epilogue;
};

// The recipes' dense layers (SGAN.md), D at 3n rows, n = 64 and 100.
std::vector<DenseCase> sgan_cases() {
  std::vector<DenseCase> cases;
  for (const int n : {64, 100}) {
    cases.push_back({{3 * n, 6272, 11}, Activation::identity()});
    cases.push_back({{n, 100, 6272}, Activation::relu()});
    const int improved_d[] = {784, 1000, 500, 250, 250, 250, 10};
    for (int i = 0; i + 1 < 7; ++i)
      cases.push_back({{3 * n, improved_d[i], improved_d[i + 1]},
                       i + 2 < 7 ? Activation::relu() : Activation::identity()});
    cases.push_back({{n, 100, 500}, Activation::softplus()});
    cases.push_back({{n, 500, 500}, Activation::tanh()});
    cases.push_back({{n, 500, 784}, Activation::sigmoid()});
  }
  return cases;
}

std::vector<DenseCase> awkward_cases() {
  const DenseShape shapes[] = {{1, 1, 1}, {1, 37, 29}, {3, 29, 37},   {3, 1, 5},
                               {5, 7, 1}, {37, 29, 1}, {1, 6272, 11}, {33, 65, 129}};
  std::vector<DenseCase> cases;
  for (const DenseShape& s : shapes)
    for (const Activation& a : test::all_activations) cases.push_back({s, a});
  return cases;
}

// As for the CUDA dense test: FP32 sums of up to 6272 O(1) terms, about 1e-6 relative.
constexpr double rel_tolerance = 1e-5;

::testing::AssertionResult matches(const std::vector<double>& reference,
                                   const std::vector<float>& result) {
  double largest = 0;
  for (const double v : reference) largest = std::max(largest, std::fabs(v));
  return test::close(reference, result, rel_tolerance, rel_tolerance * (1 + largest));
}

// bias_offset > 0 places the bias that many floats into its buffer, as a bias view into a packed
// parameter buffer may be (only 4-byte aligned for an odd offset).
void check_case(const DenseCase& c, bool with_bias, cudnn::Handle& handle, int bias_offset = 0) {
  const DenseShape& s = c.s;
  const std::uint64_t seed = std::uint64_t(s.n) * 7919 + s.in * 31 + s.out;
  const double scale = 1 / std::sqrt(double(s.in));
  const std::vector<float> xf = test::random_uniform<float>(s.x_size(), seed, -1, 1);
  const std::vector<float> wf = test::random_uniform<float>(s.w_size(), seed + 1, -scale, scale);
  const std::vector<float> bf = test::random_uniform<float>(s.out, seed + 2, -0.5, 0.5);
  const std::vector<float> dyf = test::random_uniform<float>(s.y_size(), seed + 3, -1, 1);
  const std::vector<float> dw0 = test::random_uniform<float>(s.w_size(), seed + 4, -1, 1);
  const std::vector<float> db0 = test::random_uniform<float>(s.out, seed + 5, -1, 1);

  const std::vector<double> x = test::convert<double>(xf), w = test::convert<double>(wf),
                            b = test::convert<double>(bf), dy = test::convert<double>(dyf);
  std::vector<double> y_ref(s.y_size()), dx_ref(s.x_size());
  std::vector<double> dw_ref = test::convert<double>(dw0), db_ref = test::convert<double>(db0);
  cpu::dense_forward(s, x.data(), w.data(), with_bias ? b.data() : nullptr, y_ref.data(),
                     c.epilogue);
  cpu::dense_backward_data(s, dy.data(), w.data(), dx_ref.data());
  cpu::dense_backward_weight(s, x.data(), dy.data(), dw_ref.data());
  cpu::dense_backward_bias(s, dy.data(), db_ref.data());

  std::vector<float> b_padded(std::size_t(bias_offset), 0.0f);
  b_padded.insert(b_padded.end(), bf.begin(), bf.end());
  test::DeviceBuffer<float> x_dev(xf), w_dev(wf), b_dev(b_padded), dy_dev(dyf);
  test::DeviceBuffer<float> y_dev(s.y_size()), dx_dev(s.x_size()), dw_dev(dw0), db_dev(db0);
  cudnn::dense_forward(s, x_dev.get(), w_dev.get(), with_bias ? b_dev.get() + bias_offset : nullptr,
                       y_dev.get(), c.epilogue, handle);
  cudnn::dense_backward_data(s, dy_dev.get(), w_dev.get(), dx_dev.get(), handle);
  cudnn::dense_backward_weight(s, x_dev.get(), dy_dev.get(), dw_dev.get(), handle);
  cudnn::dense_backward_bias(s, dy_dev.get(), db_dev.get(), handle);

  const std::string what = "n=" + std::to_string(s.n) + " in=" + std::to_string(s.in) +
                           " out=" + std::to_string(s.out) + " " +
                           activation_name(c.epilogue.kind) + (with_bias ? " bias" : " no bias") +
                           " at offset " + std::to_string(bias_offset);
  EXPECT_TRUE(matches(y_ref, y_dev.to_host())) << "forward " << what;
  EXPECT_TRUE(matches(dx_ref, dx_dev.to_host())) << "backward_data " << what;
  EXPECT_TRUE(matches(dw_ref, dw_dev.to_host())) << "backward_weight (+=) " << what;
  EXPECT_TRUE(matches(db_ref, db_dev.to_host())) << "backward_bias (+=) " << what;
}

TEST(DenseCudnnTest, SganShapesMatchCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  for (const DenseCase& c : sgan_cases()) check_case(c, true, handle);
}

TEST(DenseCudnnTest, AwkwardShapesWithEveryEpilogueMatchCpu) {
  SGAN_REQUIRE_GPU();
  cudnn::Handle handle;
  for (const DenseCase& c : awkward_cases()) {
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
