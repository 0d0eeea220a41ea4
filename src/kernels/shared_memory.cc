#include "kernels/shared_memory.h"

#include <cuda_runtime.h>

#include <mutex>
#include <unordered_map>

#include "gpu/cuda_check.h"

namespace slidesparse {

size_t device_shared_memory_optin() {
  static const size_t limit = [] {
    int device = 0, value = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    return static_cast<size_t>(value);
  }();
  return limit;
}

void allow_dynamic_shared_memory(const void* kernel, size_t bytes, size_t static_bytes) {
  if (bytes + static_bytes <= kDefaultBlockSharedBytes) return;
  static std::mutex mutex;
  static std::unordered_map<const void*, size_t> allowed;
  std::lock_guard lock(mutex);
  size_t& granted = allowed[kernel];
  if (bytes <= granted) return;
  CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  granted = bytes;
}

}  // namespace slidesparse
