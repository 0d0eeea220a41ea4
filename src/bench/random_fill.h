// Random operands for benchmarks and GPU tests, generated on the device (hash of the element index,
// so large operands cost no host time). Never zeros: zeros can run faster than real data.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "math/weight_code.h"

namespace slidesparse {

// codes [rows, cols]: INT8 uniform in [-127, 127] \ {0}; FP8 finite codes of magnitude in
// [2^-3, 2^3). With two_of_four, two random positions of every aligned 4-group along cols are zero.
void fill_random_codes_gpu(QuantKind kind, uint8_t* codes, int64_t rows, int64_t cols, bool two_of_four,
                           uint64_t seed, cudaStream_t stream);

// codes [rows, cols] as BitNet's weights are: ternary (+-1 in INT8 or E4M3, a third zeros). With
// two_of_four at most two non-zeros per aligned 4-group, so some groups hold fewer than two, as in
// pruned, slid checkpoints. cols a multiple of 4.
void fill_ternary_codes_gpu(QuantKind kind, uint8_t* codes, int64_t rows, int64_t cols, bool two_of_four,
                            uint64_t seed, cudaStream_t stream);

// bf16 [count] ~ approx normal * (1 + row-dependent magnitude), never all zero.
void fill_random_bf16_gpu(void* values, int64_t count, uint64_t seed, cudaStream_t stream);

// fp32 [count] uniform in [lo, hi).
void fill_random_f32_gpu(float* values, int64_t count, float lo, float hi, uint64_t seed, cudaStream_t stream);

}  // namespace slidesparse
