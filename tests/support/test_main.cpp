// Every test binary's main: gtest's, except that a run in which no case passed or failed and at
// least one skipped (a GPU test binary, or a shard of one, on a machine without a usable GPU)
// exits with skipped_exit_code, which ctest (SKIP_RETURN_CODE, tests/CMakeLists.txt) and
// bench/run_on_gpu.sh report as skipped instead of passed.
#include <gtest/gtest.h>

namespace {

// Automake's convention for a test that did not run, which ctest users know too.
constexpr int skipped_exit_code = 77;

} // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  const ::testing::UnitTest& run = *::testing::UnitTest::GetInstance();
  if (result == 0 && run.successful_test_count() == 0 && run.failed_test_count() == 0 &&
      run.skipped_test_count() > 0)
    return skipped_exit_code;
  return result;
}
