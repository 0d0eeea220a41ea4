#include "bench/random_fill.h"

#include <cuda_bf16.h>

#include "gpu/cuda_check.h"

namespace slidesparse {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) { return static_cast<int>((n + kThreads - 1) / kThreads < 65536 ? (n + kThreads - 1) / kThreads : 65536); }

__device__ uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

__global__ void fill_codes_kernel(bool int8, uint8_t* out, int64_t rows, int64_t cols, bool two_of_four,
                                  uint64_t seed) {
  const int64_t groups = cols / 4;
  for (int64_t g = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; g < rows * groups;
       g += int64_t{gridDim.x} * blockDim.x) {
    const uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(g)));
    // Two distinct zero lanes out of four (6 pairs) when 2:4 is asked for.
    const int pair = static_cast<int>((h >> 56) % 6);
    const int z0 = pair < 3 ? 0 : (pair < 5 ? 1 : 2);
    const int z1 = pair < 3 ? pair + 1 : (pair < 5 ? pair - 1 : 3);
    uint32_t word = 0;
    for (int lane = 0; lane < 4; ++lane) {
      const uint32_t r = static_cast<uint32_t>(h >> (lane * 12)) & 0xFFF;
      uint8_t code;
      if (int8) {
        const int v = static_cast<int>(r % 254) - 127;
        code = static_cast<uint8_t>(static_cast<int8_t>(v >= 0 ? v + 1 : v));  // skip 0
      } else {
        // sign | exponent 4..9 (2^-3 .. 2^2, bias 7) | mantissa: finite, never NaN
        code = static_cast<uint8_t>(((r & 1) << 7) | ((4 + (r >> 1) % 6) << 3) | ((r >> 4) & 7));
      }
      if (two_of_four && (lane == z0 || lane == z1)) code = 0;
      word |= static_cast<uint32_t>(code) << (8 * lane);
    }
    const int64_t row = g / groups, col = (g % groups) * 4;
    *reinterpret_cast<uint32_t*>(out + row * cols + col) = word;
  }
}

// BitNet's weights: ternary codes (+-1 as INT8 or E4M3 1.0, a third of them 0). With two_of_four,
// only the first two non-zeros of every aligned 4-group are kept, so groups hold 0, 1 or 2
// non-zeros, as the 2:4 windows of a pruned, slid BitNet checkpoint do (about 1 group in 9 has
// fewer than two).
__global__ void fill_ternary_kernel(bool int8, uint8_t* out, int64_t rows, int64_t cols, bool two_of_four,
                                    uint64_t seed) {
  const int64_t groups = cols / 4;
  const uint8_t plus = int8 ? 0x01 : 0x38, minus = int8 ? 0xFF : 0xB8;
  for (int64_t g = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; g < rows * groups;
       g += int64_t{gridDim.x} * blockDim.x) {
    const uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(g)));
    uint32_t word = 0;
    int nonzeros = 0;
    for (int lane = 0; lane < 4; ++lane) {
      const int t = static_cast<int>((h >> (lane * 8)) % 3);  // 0: zero, 1: +1, 2: -1
      if (t == 0 || (two_of_four && nonzeros == 2)) continue;
      ++nonzeros;
      word |= static_cast<uint32_t>(t == 1 ? plus : minus) << (8 * lane);
    }
    const int64_t row = g / groups, col = (g % groups) * 4;
    *reinterpret_cast<uint32_t*>(out + row * cols + col) = word;
  }
}

__global__ void fill_bf16_kernel(__nv_bfloat16* out, int64_t n, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(i)));
    const float u = (static_cast<float>(h & 0xFFFFFF) + 0.5f) / 16777216.0f;   // (0, 1)
    const float v = static_cast<float>((h >> 24) & 0xFFFF) / 65536.0f;         // [0, 1)
    out[i] = __float2bfloat16((u - 0.5f) * 4.0f * (0.25f + v));
  }
}

__global__ void fill_f32_kernel(float* out, int64_t n, float lo, float hi, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(i)));
    out[i] = lo + (hi - lo) * (static_cast<float>(h & 0xFFFFFF) / 16777216.0f);
  }
}

}  // namespace

void fill_random_codes_gpu(QuantKind kind, uint8_t* codes, int64_t rows, int64_t cols, bool two_of_four,
                           uint64_t seed, cudaStream_t stream) {
  // cols is a multiple of 4 for every GEMM operand (K, K' multiples of 32).
  fill_codes_kernel<<<grid_for(rows * (cols / 4)), kThreads, 0, stream>>>(kind == QuantKind::Int8, codes, rows, cols,
                                                                          two_of_four, seed);
  CUDA_CHECK_LAUNCH();
}

void fill_ternary_codes_gpu(QuantKind kind, uint8_t* codes, int64_t rows, int64_t cols, bool two_of_four,
                            uint64_t seed, cudaStream_t stream) {
  fill_ternary_kernel<<<grid_for(rows * (cols / 4)), kThreads, 0, stream>>>(kind == QuantKind::Int8, codes, rows, cols,
                                                                            two_of_four, seed);
  CUDA_CHECK_LAUNCH();
}

void fill_random_bf16_gpu(void* values, int64_t count, uint64_t seed, cudaStream_t stream) {
  fill_bf16_kernel<<<grid_for(count), kThreads, 0, stream>>>(static_cast<__nv_bfloat16*>(values), count, seed);
  CUDA_CHECK_LAUNCH();
}

void fill_random_f32_gpu(float* values, int64_t count, float lo, float hi, uint64_t seed, cudaStream_t stream) {
  fill_f32_kernel<<<grid_for(count), kThreads, 0, stream>>>(values, count, lo, hi, seed);
  CUDA_CHECK_LAUNCH();
}

}  // namespace slidesparse
