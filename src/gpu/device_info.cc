#include "gpu/device_info.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include "core/error.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

bool cuda_device_available() {
  int count = 0;
  const bool ok = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  cudaGetLastError();
  return ok;
}

bool cuda_context_broken() {
  // A non-sticky error is cleared by reading it; a sticky one answers every call, so it survives
  // the first read and a synchronize.
  cudaGetLastError();
  if (cudaDeviceSynchronize() == cudaSuccess) return false;
  cudaGetLastError();
  return cudaDeviceSynchronize() != cudaSuccess;
}

int current_device_sm_count() {
  int device = 0, count = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
  return count;
}

DeviceInfo query_device(int device) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    cudaGetLastError();
    fail(std::string("no CUDA GPU available: ") + (status != cudaSuccess ? cudaGetErrorString(status) : "no devices"));
  }
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceInfo info;
  info.name = prop.name;
  std::string rest = info.name.rfind("NVIDIA ", 0) == 0 ? info.name.substr(7) : info.name;
  info.short_name = rest.substr(0, rest.find(' '));
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  if (cudaDeviceGetAttribute(&info.sm_clock_khz, cudaDevAttrClockRate, device) != cudaSuccess) {
    info.sm_clock_khz = 0;
    cudaGetLastError();
  }
  info.l2_bytes = static_cast<size_t>(prop.l2CacheSize);
  info.memory_bytes = prop.totalGlobalMem;
  CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
  CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));
  info.cublaslt_version = static_cast<int>(cublasLtGetVersion());
  return info;
}

}  // namespace slidesparse
