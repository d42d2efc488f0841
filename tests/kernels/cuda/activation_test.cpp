// The CUDA activations, each variant (kernels/cuda/elementwise_variants.h), against the CPU
// reference (computed in double), forward and backward, on sizes that do and do not fill whole
// blocks or whole float4s, with the buffers aligned and one float off (where the float4 variant
// falls back to one float a trip); and the dispatch, which picks a variant by size, against both
// variants on either side of its threshold, bit for bit.
#include "kernels/activation.h"
#include "kernels/cuda/elementwise_variants.h"
#include "tests/support/activations.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <vector>

namespace sgan {
namespace cuda {
// The variant's name in test names and failure messages.
void PrintTo(ElementwiseVariant variant, std::ostream* out) {
  *out << elementwise_variant_name(variant);
}
}  // namespace cuda

namespace {

// CUDA's expf/tanhf/log1pf are within 2 ulp of the correctly rounded float; against a double
// reference that is ~2.4e-7 relative per element.
constexpr double tolerance = 1e-6;

// n floats `offset` floats into a NaN-filled device buffer with a guard float after them.
class OffsetBuffer {
 public:
  OffsetBuffer(std::size_t offset, std::size_t n) : offset_(offset), n_(n), buffer_(offset + n + 1) {}
  OffsetBuffer(std::size_t offset, const std::vector<float>& values)
      : OffsetBuffer(offset, values.size()) {
    CUDA_CHECK(cudaMemcpy(get(), values.data(), values.size() * sizeof(float),
                          cudaMemcpyHostToDevice));
  }
  float* get() { return buffer_.get() + offset_; }
  // The n floats, after checking that the floats around them are still NaN.
  std::vector<float> to_host(const char* what) const {
    const std::vector<float> all = buffer_.to_host();
    for (std::size_t i = 0; i < all.size(); ++i)
      if (i < offset_ || i >= offset_ + n_) {
        EXPECT_TRUE(std::isnan(all[i])) << what << ": wrote outside its slice at " << i;
      }
    return std::vector<float>(all.begin() + std::ptrdiff_t(offset_),
                              all.begin() + std::ptrdiff_t(offset_ + n_));
  }

 private:
  std::size_t offset_, n_;
  test::DeviceBuffer<float> buffer_;
};

class ActivationCudaTest : public ::testing::TestWithParam<cuda::ElementwiseVariant> {};

TEST_P(ActivationCudaTest, ForwardAndBackwardMatchCpu) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t offset : {std::size_t(0), std::size_t(1)})
    for (const std::size_t n : {std::size_t(1), std::size_t(3), std::size_t(12544 * 64),
                                std::size_t(1000003)}) {
      for (const Activation& a : test::all_activations) {
        const std::string what = std::string(activation_name(a.kind)) + " n=" +
                                 std::to_string(n) + " offset " + std::to_string(offset);
        const std::vector<float> x = test::random_uniform<float>(n, n, -6, 6);
        const std::vector<float> dy = test::random_uniform<float>(n, n + 1);

        std::vector<double> y_ref(n), dx_ref(n);
        const std::vector<double> x_d = test::convert<double>(x), dy_d = test::convert<double>(dy);
        cpu::activation_forward(a, n, x_d.data(), y_ref.data());
        // The backward is checked on the device's own y, so forward rounding does not propagate.
        OffsetBuffer x_dev(offset, x), y_dev(offset, n), dy_dev(offset, dy), dx_dev(offset, n);
        cuda::activation_forward(GetParam(), a, n, x_dev.get(), y_dev.get(), nullptr);
        const std::vector<float> y = y_dev.to_host("y");
        EXPECT_TRUE(test::close(y_ref, y, tolerance, tolerance * 6)) << what;

        const std::vector<double> y_d = test::convert<double>(y);
        cpu::activation_backward(a, n, y_d.data(), dy_d.data(), dx_ref.data());
        cuda::activation_backward(GetParam(), a, n, y_dev.get(), dy_dev.get(), dx_dev.get(),
                                  nullptr);
        EXPECT_TRUE(test::close(dx_ref, dx_dev.to_host("dx"), tolerance, tolerance)) << what;
      }
    }
}

TEST_P(ActivationCudaTest, WorksInPlace) {
  SGAN_REQUIRE_GPU();
  const std::size_t n = 4097;
  const std::vector<float> x = test::random_uniform<float>(n, 7, -3, 3);
  const std::vector<float> dy = test::random_uniform<float>(n, 8);
  test::DeviceBuffer<float> x_dev(x), y_dev(n), d_dev(dy), dx_dev(n);
  cuda::activation_forward(GetParam(), Activation::sigmoid(), n, x_dev.get(), y_dev.get(), nullptr);
  cuda::activation_forward(GetParam(), Activation::sigmoid(), n, x_dev.get(), x_dev.get(), nullptr);
  EXPECT_EQ(x_dev.to_host(), y_dev.to_host());
  cuda::activation_backward(GetParam(), Activation::sigmoid(), n, y_dev.get(), d_dev.get(),
                            dx_dev.get(), nullptr);
  cuda::activation_backward(GetParam(), Activation::sigmoid(), n, y_dev.get(), d_dev.get(),
                            d_dev.get(), nullptr);
  EXPECT_EQ(d_dev.to_host(), dx_dev.to_host());
}

INSTANTIATE_TEST_SUITE_P(Variants, ActivationCudaTest,
                         ::testing::ValuesIn(cuda::elementwise_variants),
                         [](const ::testing::TestParamInfo<cuda::ElementwiseVariant>& variant) {
                           return std::string(cuda::elementwise_variant_name(variant.param));
                         });

// The dispatch runs one_float_a_thread below four_floats_min_elements and four_floats_a_thread
// from there. Each element gets the same float operations in either layout, so the dispatch's
// outputs equal both variants' bit for bit on either side; which variant it runs is the choice
// activation_variant_for states.
TEST(ActivationDispatchTest, PicksFourFloatsFromTheThresholdAndEqualsBothVariantsBitwise) {
  SGAN_REQUIRE_GPU();
  for (const std::size_t n : {cuda::four_floats_min_elements - 1, cuda::four_floats_min_elements}) {
    EXPECT_EQ(cuda::activation_variant_for(n), n < cuda::four_floats_min_elements
                                                   ? cuda::ElementwiseVariant::one_float_a_thread
                                                   : cuda::ElementwiseVariant::four_floats_a_thread)
        << "n = " << n;
    const std::vector<float> x = test::random_uniform<float>(n, 11, -6, 6);
    const std::vector<float> dy = test::random_uniform<float>(n, 12);
    for (const Activation& a : test::all_activations) {
      test::DeviceBuffer<float> x_dev(x), dy_dev(dy), y_chosen(n), dx_chosen(n);
      cuda::activation_forward(a, n, x_dev.get(), y_chosen.get(), nullptr);
      cuda::activation_backward(a, n, y_chosen.get(), dy_dev.get(), dx_chosen.get(), nullptr);
      for (const cuda::ElementwiseVariant variant : cuda::elementwise_variants) {
        test::DeviceBuffer<float> y(n), dx(n);
        cuda::activation_forward(variant, a, n, x_dev.get(), y.get(), nullptr);
        cuda::activation_backward(variant, a, n, y_chosen.get(), dy_dev.get(), dx.get(), nullptr);
        const std::string what = std::string(activation_name(a.kind)) + " n = " +
                                 std::to_string(n) + ", " + cuda::elementwise_variant_name(variant);
        EXPECT_TRUE(test::bitwise_equal(y_chosen.to_host(), y.to_host())) << "forward, " << what;
        EXPECT_TRUE(test::bitwise_equal(dx_chosen.to_host(), dx.to_host())) << "backward, " << what;
      }
    }
  }
}

}  // namespace
}  // namespace sgan
