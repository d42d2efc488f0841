// The CUDA dense layer against the CPU reference run in double: forward with every epilogue,
// backward data, and the += weight and bias gradients, on the SGAN recipes' dense shapes and on
// awkward ones (one row, one input, one output, sizes that fit no tile). The cuBLAS handle runs on
// a non-blocking stream, so our own kernels must follow the GEMMs on the handle's stream.
#include "kernels/dense.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgan {
namespace {

struct DenseCase {
  DenseShape s;
  Activation epilogue;
};

// The recipes' dense layers (SGAN.md), D at 3n rows (labeled + unlabeled + fake), n = 64 and 100,
// each with the epilogue it has or could have fused.
std::vector<DenseCase> sgan_cases() {
  std::vector<DenseCase> cases;
  for (const int n : {64, 100}) {
    cases.push_back({{3 * n, 6272, 11}, Activation::identity()}); // article D logits
    cases.push_back({{n, 100, 6272}, Activation::relu()});        // article G
    const int improved_d[] = {784, 1000, 500, 250, 250, 250, 10};
    for (int i = 0; i + 1 < 7; ++i)
      cases.push_back({{3 * n, improved_d[i], improved_d[i + 1]},
                       i + 2 < 7 ? Activation::leaky_relu(0.2f) : Activation::identity()});
    cases.push_back({{n, 100, 500}, Activation::softplus()}); // improved G
    cases.push_back({{n, 500, 500}, Activation::softplus()});
    cases.push_back({{n, 500, 784}, Activation::sigmoid()});
  }
  return cases;
}

// Awkward shapes, each with every epilogue.
std::vector<DenseCase> awkward_cases() {
  const DenseShape shapes[] = {{1, 1, 1}, {1, 37, 29}, {3, 29, 37},   {3, 1, 5},
                               {5, 7, 1}, {37, 29, 1}, {1, 6272, 11}, {33, 65, 129}};
  std::vector<DenseCase> cases;
  for (const DenseShape& s : shapes)
    for (const Activation& a : test::all_activations) cases.push_back({s, a});
  return cases;
}

std::string describe(const DenseCase& c) {
  return "n=" + std::to_string(c.s.n) + " in=" + std::to_string(c.s.in) +
         " out=" + std::to_string(c.s.out) + " " + activation_name(c.epilogue.kind);
}

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

// FP32 products of O(1) terms (weights scaled by 1/sqrt(in), as at initialisation) summed over up
// to 6272 terms: rounding error grows like sqrt(k) ulps, about 1e-6 relative; 1e-5 leaves room
// for split-k orderings. The max-abs bound is relative to the largest reference value.
constexpr double rel_tolerance = 1e-5;

::testing::AssertionResult matches(const std::vector<double>& reference,
                                   const std::vector<float>& result) {
  double largest = 0;
  for (const double v : reference) largest = std::max(largest, std::fabs(v));
  return test::close(reference, result, rel_tolerance, rel_tolerance * (1 + largest));
}

struct DenseData {
  std::vector<float> x, w, b, dy, dw0, db0;

  explicit DenseData(const DenseShape& s, std::uint64_t seed) {
    const double scale = 1 / std::sqrt(double(s.in));
    x = test::random_uniform<float>(s.x_size(), seed, -1, 1);
    w = test::random_uniform<float>(s.w_size(), seed + 1, -scale, scale);
    b = test::random_uniform<float>(s.out, seed + 2, -0.5, 0.5);
    dy = test::random_uniform<float>(s.y_size(), seed + 3, -1, 1);
    dw0 = test::random_uniform<float>(s.w_size(), seed + 4, -1, 1);
    db0 = test::random_uniform<float>(s.out, seed + 5, -1, 1);
  }
};

void check_case(const DenseCase& c, bool with_bias, cublasHandle_t handle) {
  const DenseShape& s = c.s;
  const DenseData data(s, std::uint64_t(s.n) * 7919 + s.in * 31 + s.out);
  const std::vector<double> x = test::convert<double>(data.x), w = test::convert<double>(data.w),
                            b = test::convert<double>(data.b), dy = test::convert<double>(data.dy);

  std::vector<double> y_ref(s.y_size()), dx_ref(s.x_size());
  std::vector<double> dw_ref = test::convert<double>(data.dw0);
  std::vector<double> db_ref = test::convert<double>(data.db0);
  cpu::dense_forward(s, x.data(), w.data(), with_bias ? b.data() : nullptr, y_ref.data(),
                     c.epilogue);
  cpu::dense_backward_data(s, dy.data(), w.data(), dx_ref.data());
  cpu::dense_backward_weight(s, x.data(), dy.data(), dw_ref.data());
  cpu::dense_backward_bias(s, dy.data(), db_ref.data());

  test::DeviceBuffer<float> x_dev(data.x), w_dev(data.w), b_dev(data.b), dy_dev(data.dy);
  test::DeviceBuffer<float> y_dev(s.y_size()), dx_dev(s.x_size());
  test::DeviceBuffer<float> dw_dev(data.dw0), db_dev(data.db0);
  cuda::dense_forward(s, x_dev.get(), w_dev.get(), with_bias ? b_dev.get() : nullptr, y_dev.get(),
                      c.epilogue, handle);
  cuda::dense_backward_data(s, dy_dev.get(), w_dev.get(), dx_dev.get(), handle);
  cuda::dense_backward_weight(s, x_dev.get(), dy_dev.get(), dw_dev.get(), handle);
  cuda::dense_backward_bias(s, dy_dev.get(), db_dev.get(), handle);

  const std::string what = describe(c) + (with_bias ? " bias" : " no bias");
  EXPECT_TRUE(matches(y_ref, y_dev.to_host())) << "forward " << what;
  EXPECT_TRUE(matches(dx_ref, dx_dev.to_host())) << "backward_data " << what;
  EXPECT_TRUE(matches(dw_ref, dw_dev.to_host())) << "backward_weight (+=) " << what;
  EXPECT_TRUE(matches(db_ref, db_dev.to_host())) << "backward_bias (+=) " << what;
}

TEST(DenseCudaTest, SganShapesMatchCpu) {
  SGAN_REQUIRE_GPU();
  const CublasOnStream handle;
  for (const DenseCase& c : sgan_cases()) check_case(c, true, handle.get());
}

TEST(DenseCudaTest, AwkwardShapesWithEveryEpilogueMatchCpu) {
  SGAN_REQUIRE_GPU();
  const CublasOnStream handle;
  for (const DenseCase& c : awkward_cases()) {
    check_case(c, true, handle.get());
    check_case(c, false, handle.get());
  }
}

TEST(DenseCudaTest, BiasGradientIsDeterministic) {
  SGAN_REQUIRE_GPU();
  const CublasOnStream handle;
  const DenseShape s{300, 250, 250};
  const DenseData data(s, 5);
  test::DeviceBuffer<float> dy_dev(data.dy), db_first(data.db0), db_second(data.db0);
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
