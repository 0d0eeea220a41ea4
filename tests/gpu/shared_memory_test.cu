// allow_dynamic_shared_memory (kernels/shared_memory.h) on kernels of this file alone, so that no
// other test has set their attributes: a call for a size the default 48 KB already allows must not
// lower the kernel's limit, and a size above it must be allowed up to the device's opt-in limit.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu_test_util.h"
#include "kernels/shared_memory.h"

namespace slidesparse {
namespace {

// Fills its dynamic shared memory with the block's index plus the word's and writes the sum back,
// so that every byte of the requested size is used. One instance per test (kTest): each test sets
// the attribute of a kernel no other test has touched.
template <int kTest>
__global__ void fill_shared_kernel(uint32_t* out, int words) {
  extern __shared__ uint32_t words_in_shared[];
  for (int i = threadIdx.x; i < words; i += blockDim.x) words_in_shared[i] = blockIdx.x + i;
  __syncthreads();
  if (threadIdx.x == 0) {
    uint32_t sum = 0;
    for (int i = 0; i < words; ++i) sum += words_in_shared[i];
    out[blockIdx.x] = sum;
  }
}

uint32_t expected_sum(uint32_t block, int words) {
  uint32_t sum = 0;
  for (int i = 0; i < words; ++i) sum += block + static_cast<uint32_t>(i);
  return sum;
}

// Launches `kernel` on 4 blocks with `bytes` of dynamic shared memory and checks what it wrote.
void launch_and_check(void (*kernel)(uint32_t*, int), size_t bytes) {
  const int words = static_cast<int>(bytes / 4);
  DeviceBuffer out(4 * sizeof(uint32_t), "test sums");
  CUDA_CHECK(cudaMemset(out.data(), 0xA5, out.bytes()));
  kernel<<<4, 256, bytes>>>(out.as<uint32_t>(), words);
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<uint32_t> sums = testing::download<uint32_t>(out, 4);
  for (uint32_t block = 0; block < 4; ++block) EXPECT_EQ(sums[block], expected_sum(block, words)) << block;
}

TEST(SharedMemory, AllowingASizeTheDefaultCoversKeepsTheDefaultLimit) {
  SKIP_WITHOUT_GPU();
  // A launcher that fell back to one row per block asks for its (small) row; a later launch of
  // several rows within the default 48 KB must still be valid.
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(fill_shared_kernel<0>), 8 * 1024, 0);
  launch_and_check(fill_shared_kernel<0>, 40 * 1024);
  launch_and_check(fill_shared_kernel<0>, 8 * 1024);
}

TEST(SharedMemory, AllowsMoreThanTheDefaultUpToTheOptInLimit) {
  SKIP_WITHOUT_GPU();
  const size_t bytes = device_shared_memory_optin();
  ASSERT_GT(bytes, kDefaultBlockSharedBytes);
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(fill_shared_kernel<1>), bytes, 0);
  launch_and_check(fill_shared_kernel<1>, bytes);
  // A smaller size later neither fails nor lowers the limit.
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(fill_shared_kernel<1>), 8 * 1024, 0);
  launch_and_check(fill_shared_kernel<1>, bytes);
}

}  // namespace
}  // namespace slidesparse
