// The packed bf16x2 operations of the fused norms against the float paths they replace, and the
// register kernels' NaN-propagating magnitude maxima against their definition: every bf16 a with 256
// b spread over the whole range, on the GPU, bit for bit.
#include <gtest/gtest.h>

#include <cstdint>

#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu_test_util.h"
#include "kernels/norm_quant.cuh"
#include "kernels/norm_quant_registers.cuh"
#include "math/activation.h"
#include "math/numeric_formats.h"

namespace slidesparse {
namespace {

// Runs an exhaustive check kernel over a 65536 x 256 grid of cases: kernel(mismatch count, first
// mismatch's words), each thread one case; returns the count and the first mismatch's 4 words.
struct Mismatches {
  unsigned long long count = 0;
  uint32_t first[4] = {};
};

Mismatches run_exhaustive_check(void (*kernel)(unsigned long long*, uint32_t*)) {
  DeviceBuffer mismatches(sizeof(unsigned long long), "mismatch count"), first(4 * sizeof(uint32_t), "first mismatch");
  CUDA_CHECK(cudaMemset(mismatches.data(), 0, mismatches.bytes()));
  CUDA_CHECK(cudaMemset(first.data(), 0, first.bytes()));
  kernel<<<dim3(65536 / 256, 256), 256>>>(mismatches.as<unsigned long long>(), first.as<uint32_t>());
  CUDA_CHECK(cudaGetLastError());
  Mismatches m;
  CUDA_CHECK(cudaMemcpy(&m.count, mismatches.data(), sizeof m.count, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(m.first, first.data(), sizeof m.first, cudaMemcpyDeviceToHost));
  return m;
}

// A packed bf16x2 operation against the float path it replaces (Forms::fast / Forms::slow on two
// bf16 pairs), for every bf16 a (and its negation in the pair's other half) with 256 b spread over
// the whole bf16 range (zeros, subnormals, normals, Inf and NaN among them): same bits everywhere.
template <typename Forms>
__global__ void pair_forms_kernel(unsigned long long* mismatches, uint32_t* first_mismatch) {
  const uint32_t a = blockIdx.x * blockDim.x + threadIdx.x;
  if (a > 0xFFFFu) return;
  const uint32_t b = blockIdx.y * 257u & 0xFFFFu;
  const uint32_t a_pair = a | (a ^ 0x8000u) << 16, b_pair = b | b << 16;
  const uint32_t fast = Forms::fast(a_pair, b_pair), slow = Forms::slow(a_pair, b_pair);
  if (fast != slow && atomicAdd(mismatches, 1ull) == 0)
    first_mismatch[0] = a_pair, first_mismatch[1] = b_pair, first_mismatch[2] = fast, first_mismatch[3] = slow;
}

// The relu2 * up of the plain bf16 stage (a: gate, b: up).
struct Relu2MulForms {
  static __device__ uint32_t fast(uint32_t gate, uint32_t up) { return relu2_mul_bf16x2(gate, up); }
  static __device__ uint32_t slow(uint32_t gate, uint32_t up) {
    return relu2_mul_pair(bf16_low(gate), bf16_low(up), bf16_high(gate), bf16_high(up));
  }
};

TEST(Relu2MulBf16x2, EqualsTheFloatPathForEveryGate) {
  SKIP_WITHOUT_GPU();
  const Mismatches m = run_exhaustive_check(pair_forms_kernel<Relu2MulForms>);
  EXPECT_EQ(m.count, 0u) << std::hex << "first: gate pair 0x" << m.first[0] << " up pair 0x" << m.first[1]
                         << " -> bf16x2 0x" << m.first[2] << ", float path 0x" << m.first[3];
}

// The packed bf16 add of the residual stages against the float add then rounding it replaces.
struct AddForms {
  static __device__ uint32_t fast(uint32_t a, uint32_t b) { return add_bf16x2(a, b); }
  static __device__ uint32_t slow(uint32_t a, uint32_t b) { return quant_kernels::add_pairs(a, b); }
};

TEST(AddBf16x2, EqualsTheFloatPathForEveryBf16) {
  SKIP_WITHOUT_GPU();
  const Mismatches m = run_exhaustive_check(pair_forms_kernel<AddForms>);
  EXPECT_EQ(m.count, 0u) << std::hex << "first: a pair 0x" << m.first[0] << " b pair 0x" << m.first[1]
                         << " -> bf16x2 0x" << m.first[2] << ", float path 0x" << m.first[3];
}

// The register kernel's NaN-propagating magnitude maxima against their definition, for every bf16
// a with 256 b spread over the range (signs, zeros, subnormals, Inf, NaN): each half folds |a|, |b|
// and zeros, and must hold max(|a|, |b|), or NaN when a or b is.
__global__ void absmax_nan_kernel(unsigned long long* mismatches, uint32_t* first_mismatch) {
  const uint32_t a = blockIdx.x * blockDim.x + threadIdx.x;
  if (a > 0xFFFFu) return;
  const uint32_t b = blockIdx.y * 257u & 0xFFFFu;
  const uint32_t start = (a & 0x7FFFu) | (b & 0x7FFFu) << 16;
  const uint4 chunk = make_uint4(b | a << 16, 0, a | b << 16, 0x80008000u);
  const uint32_t got = quant_kernels::chunk_absmax_pairs_nan(chunk, start);
  const bool nan = (a & 0x7FFFu) > 0x7F80u || (b & 0x7FFFu) > 0x7F80u;
  const uint32_t want = max(a & 0x7FFFu, b & 0x7FFFu);
  bool ok = true;
  for (const uint32_t half : {got & 0xFFFFu, got >> 16}) ok = ok && (nan ? (half & 0x7FFFu) > 0x7F80u : half == want);
  ok = ok && quant_kernels::pair_has_nan(got) == nan;
  if (!ok && atomicAdd(mismatches, 1ull) == 0) first_mismatch[0] = a, first_mismatch[1] = b, first_mismatch[2] = got;
}

TEST(AbsmaxPairsNaN, EqualsTheDefinitionForEveryBf16) {
  SKIP_WITHOUT_GPU();
  const Mismatches m = run_exhaustive_check(absmax_nan_kernel);
  EXPECT_EQ(m.count, 0u) << std::hex << "first: a 0x" << m.first[0] << " b 0x" << m.first[1] << " -> 0x" << m.first[2];
}

}  // namespace
}  // namespace slidesparse
