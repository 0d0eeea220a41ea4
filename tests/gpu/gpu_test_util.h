// Helpers shared by the GPU tests: skipping without a device, host <-> device copies, and the exact
// comparison of quantized rows (codes and per-row scales) against the CPU reference.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"

#define SKIP_WITHOUT_GPU() \
  if (!::slidesparse::cuda_device_available()) GTEST_SKIP() << "no CUDA device"

namespace slidesparse::testing {

// A device copy of `host` (at least 16 bytes, so an empty vector still gets an aligned buffer).
template <typename T>
DeviceBuffer upload(const std::vector<T>& host, const char* what) {
  DeviceBuffer d(std::max<size_t>(host.size() * sizeof(T), 16), what);
  if (!host.empty())
    CUDA_CHECK(cudaMemcpy(d.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

// Copies `host` into the start of an existing buffer.
template <typename T>
void upload(DeviceBuffer& buffer, const std::vector<T>& host) {
  if (!host.empty())
    CUDA_CHECK(cudaMemcpy(buffer.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
}

template <typename T>
std::vector<T> download(const DeviceBuffer& buffer, size_t count) {
  std::vector<T> host(count);
  if (count) CUDA_CHECK(cudaMemcpy(host.data(), buffer.data(), count * sizeof(T), cudaMemcpyDeviceToHost));
  return host;
}

inline uint32_t float_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// Scales bit for bit, then every code; rows of `cols` codes.
inline void expect_same_codes(const std::vector<uint8_t>& gpu_codes, const std::vector<float>& gpu_scales,
                              const std::vector<uint8_t>& cpu_codes, const std::vector<float>& cpu_scales,
                              int64_t cols) {
  ASSERT_EQ(gpu_codes.size(), cpu_codes.size());
  for (size_t i = 0; i < cpu_scales.size(); ++i)
    ASSERT_EQ(float_bits(gpu_scales[i]), float_bits(cpu_scales[i]))
        << "scale of row " << i << ": gpu " << gpu_scales[i] << " cpu " << cpu_scales[i];
  for (size_t i = 0; i < cpu_codes.size(); ++i)
    ASSERT_EQ(int{gpu_codes[i]}, int{cpu_codes[i]}) << "code at row " << i / cols << " column " << i % cols;
}

}  // namespace slidesparse::testing
