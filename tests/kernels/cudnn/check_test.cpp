// The library checks' errors: a cuDNN or cuBLAS status that refuses the problem as unsupported is
// marked as such (sgan_bench_kernels then times ours alone), any other failure is not, and each
// carries the library's words for its status. No GPU needed: the checks only read the status.
#include "kernels/cudnn/check.h"

#include <gtest/gtest.h>

namespace sgan {
namespace {

template <class Check, class Status>
void expect_error(Check check, Status status, bool not_supported, const char* name) {
  try {
    check(status, "the_call()", "file.cpp", 7);
    ADD_FAILURE() << name << " did not throw";
  } catch (const CudaError& e) {
    EXPECT_EQ(e.not_supported(), not_supported) << name;
    EXPECT_EQ(e.status(), name);
    EXPECT_NE(std::string(e.what()).find("file.cpp:7: the_call() failed: "), std::string::npos)
        << e.what();
  }
}

TEST(LibraryCheckTest, CudnnNotSupportedCategoryIsMarked) {
  expect_error(check_cudnn, CUDNN_STATUS_NOT_SUPPORTED, true, "CUDNN_STATUS_NOT_SUPPORTED");
  expect_error(check_cudnn, CUDNN_STATUS_NOT_SUPPORTED_SHAPE, true,
               "CUDNN_STATUS_NOT_SUPPORTED_SHAPE");
  expect_error(check_cudnn, CUDNN_STATUS_BAD_PARAM, false, "CUDNN_STATUS_BAD_PARAM");
  expect_error(check_cudnn, CUDNN_STATUS_EXECUTION_FAILED, false, "CUDNN_STATUS_EXECUTION_FAILED");
  EXPECT_NO_THROW(check_cudnn(CUDNN_STATUS_SUCCESS, "the_call()", "file.cpp", 7));
}

TEST(LibraryCheckTest, CublasNotSupportedIsMarked) {
  expect_error(check_cublas, CUBLAS_STATUS_NOT_SUPPORTED, true,
               cublasGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED));
  expect_error(check_cublas, CUBLAS_STATUS_INVALID_VALUE, false,
               cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE));
  expect_error(check_cuda, cudaErrorNotSupported, false, cudaGetErrorString(cudaErrorNotSupported));
}

} // namespace
} // namespace sgan
