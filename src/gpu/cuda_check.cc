#include "gpu/cuda_check.h"

#include <string>

#include "core/error.h"

namespace slidesparse {

namespace {
std::string where(const char* statement, const char* file, int line) {
  return std::string(" in `") + statement + "` at " + file + ":" + std::to_string(line);
}

const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "cublas error";
  }
}

const char* cusparse_status_name(cusparseStatus_t status) {
  switch (status) {
    case CUSPARSE_STATUS_NOT_INITIALIZED: return "CUSPARSE_STATUS_NOT_INITIALIZED";
    case CUSPARSE_STATUS_ALLOC_FAILED: return "CUSPARSE_STATUS_ALLOC_FAILED";
    case CUSPARSE_STATUS_INVALID_VALUE: return "CUSPARSE_STATUS_INVALID_VALUE";
    case CUSPARSE_STATUS_ARCH_MISMATCH: return "CUSPARSE_STATUS_ARCH_MISMATCH";
    case CUSPARSE_STATUS_EXECUTION_FAILED: return "CUSPARSE_STATUS_EXECUTION_FAILED";
    case CUSPARSE_STATUS_INTERNAL_ERROR: return "CUSPARSE_STATUS_INTERNAL_ERROR";
    case CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED: return "CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case CUSPARSE_STATUS_NOT_SUPPORTED: return "CUSPARSE_STATUS_NOT_SUPPORTED";
    case CUSPARSE_STATUS_INSUFFICIENT_RESOURCES: return "CUSPARSE_STATUS_INSUFFICIENT_RESOURCES";
    default: return "cusparse error";
  }
}
}  // namespace

void throw_cuda_error(cudaError_t status, const char* statement, const char* file, int line) {
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free allocation error so callers can recover
    fail(std::string("out of GPU memory") + where(statement, file, line));
  }
  fail(std::string("CUDA error ") + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")" +
       where(statement, file, line));
}

void throw_cublas_error(cublasStatus_t status, const char* statement, const char* file, int line) {
  fail(std::string("cuBLASLt error ") + cublas_status_name(status) + where(statement, file, line));
}

void throw_cusparse_error(cusparseStatus_t status, const char* statement, const char* file, int line) {
  fail(std::string("cuSPARSELt error ") + cusparse_status_name(status) + where(statement, file, line));
}

}  // namespace slidesparse
