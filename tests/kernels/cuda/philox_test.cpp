// The CUDA Philox draws against the host's: uniforms bitwise equal, normals within a few ulps
// (host and device libm differ), the counter read from device memory at run time.
#include "kernels/philox.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <vector>

namespace sgan {
namespace {

// Partial blocks (1, 3, 5), whole blocks, the article D's input batch, and an odd million.
const std::size_t sizes[] = {1, 3, 4, 5, 4097, 192 * 784, 1000003};

TEST(PhiloxCudaTest, UniformIsBitwiseEqualToCpu) {
  SGAN_REQUIRE_GPU();
  const PhiloxStream s{0xfeedfacecafebeefull, 3};
  const std::uint64_t counter = (std::uint64_t(5) << 32) | 17;
  test::DeviceBuffer<std::uint64_t> counter_dev(std::vector<std::uint64_t>{counter});
  for (const std::size_t n : sizes) {
    std::vector<float> expected(n);
    cpu::philox_uniform(n, s, &counter, -0.5f, 2.0f, expected.data());
    test::DeviceBuffer<float> out_dev(n);
    cuda::philox_uniform(n, s, counter_dev.get(), -0.5f, 2.0f, out_dev.get(), nullptr);
    EXPECT_TRUE(test::bitwise_equal(expected, out_dev.to_host())) << "n=" << n;
  }
}

// sqrtf is exact on both; logf, cosf and sinf are within 2 ulp on each, so normals (|n| < 6)
// differ by at most ~2e-6 absolute.
TEST(PhiloxCudaTest, NormalMatchesCpuToAFewUlps) {
  SGAN_REQUIRE_GPU();
  const PhiloxStream s{1234, 7};
  const std::uint64_t counter = 99;
  test::DeviceBuffer<std::uint64_t> counter_dev(std::vector<std::uint64_t>{counter});
  for (const std::size_t n : sizes) {
    std::vector<float> expected(n);
    cpu::philox_normal(n, s, &counter, 0.25f, 1.5f, expected.data());
    test::DeviceBuffer<float> out_dev(n);
    cuda::philox_normal(n, s, counter_dev.get(), 0.25f, 1.5f, out_dev.get(), nullptr);
    EXPECT_TRUE(test::close(expected, out_dev.to_host(), 1e-6, 1e-5)) << "n=" << n;
  }
}

// What a captured graph relies on: the same launch arguments draw new numbers once the counter
// in device memory has been advanced.
TEST(PhiloxCudaTest, CounterIsReadFromDeviceMemoryAtRunTime) {
  SGAN_REQUIRE_GPU();
  const PhiloxStream s{5, 5};
  const std::size_t n = 1001;
  test::DeviceBuffer<std::uint64_t> counter_dev(std::vector<std::uint64_t>{1});
  test::DeviceBuffer<float> first(n), second(n);
  cuda::philox_uniform(n, s, counter_dev.get(), 0.0f, 1.0f, first.get(), nullptr);
  counter_dev.upload(std::vector<std::uint64_t>{2});
  cuda::philox_uniform(n, s, counter_dev.get(), 0.0f, 1.0f, second.get(), nullptr);

  const std::uint64_t one = 1, two = 2;
  std::vector<float> expected_first(n), expected_second(n);
  cpu::philox_uniform(n, s, &one, 0.0f, 1.0f, expected_first.data());
  cpu::philox_uniform(n, s, &two, 0.0f, 1.0f, expected_second.data());
  EXPECT_TRUE(test::bitwise_equal(expected_first, first.to_host()));
  EXPECT_TRUE(test::bitwise_equal(expected_second, second.to_host()));
  EXPECT_NE(expected_first, expected_second);
}

} // namespace
} // namespace sgan
