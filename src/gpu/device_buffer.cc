#include "gpu/device_buffer.h"

#include <cuda_runtime.h>

#include <cstdio>

#include "core/error.h"

namespace slidesparse {

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& what) : bytes_(bytes) {
  if (bytes == 0) return;
  const cudaError_t status = cudaMalloc(&data_, bytes);
  if (status == cudaSuccess) return;
  cudaGetLastError();
  data_ = nullptr;
  char message[256];
  if (status == cudaErrorMemoryAllocation) {
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    std::snprintf(message, sizeof message, "out of GPU memory allocating %.1f MB for %s (%.1f MB free of %.1f MB)",
                  double(bytes) / 1e6, what.c_str(), double(free_bytes) / 1e6, double(total_bytes) / 1e6);
  } else {
    std::snprintf(message, sizeof message, "cudaMalloc of %.1f MB for %s failed: %s", double(bytes) / 1e6,
                  what.c_str(), cudaGetErrorString(status));
  }
  fail(message);
}

DeviceBuffer::~DeviceBuffer() {
  if (data_) cudaFree(data_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

}  // namespace slidesparse
