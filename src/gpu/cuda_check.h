// One checked-call macro family for CUDA, cuBLASLt and cuSPARSELt: a failure throws Error carrying
// the library's error name, the statement, file and line.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cusparse.h>

namespace slidesparse {

void throw_cuda_error(cudaError_t status, const char* statement, const char* file, int line);
void throw_cublas_error(cublasStatus_t status, const char* statement, const char* file, int line);
void throw_cusparse_error(cusparseStatus_t status, const char* statement, const char* file, int line);

}  // namespace slidesparse

#define CUDA_CHECK(statement)                                                                   \
  do {                                                                                          \
    const cudaError_t slidesparse_status_ = (statement);                                        \
    if (slidesparse_status_ != cudaSuccess)                                                     \
      ::slidesparse::throw_cuda_error(slidesparse_status_, #statement, __FILE__, __LINE__);     \
  } while (0)

#define CUBLAS_CHECK(statement)                                                                 \
  do {                                                                                          \
    const cublasStatus_t slidesparse_status_ = (statement);                                     \
    if (slidesparse_status_ != CUBLAS_STATUS_SUCCESS)                                           \
      ::slidesparse::throw_cublas_error(slidesparse_status_, #statement, __FILE__, __LINE__);   \
  } while (0)

#define CUSPARSELT_CHECK(statement)                                                             \
  do {                                                                                          \
    const cusparseStatus_t slidesparse_status_ = (statement);                                   \
    if (slidesparse_status_ != CUSPARSE_STATUS_SUCCESS)                                         \
      ::slidesparse::throw_cusparse_error(slidesparse_status_, #statement, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, not at the next sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
