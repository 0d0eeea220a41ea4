// Dequantization epilogue: y[m, n] = bf16((float(acc[m, n]) * scale_x[m]) * scale_w[n]), the same
// float operations in the same order as the CPU reference (reference_linear.cc, scale_outputs).
// Each thread owns 8 consecutive columns and walks rows; 16-byte accesses when the rows are aligned.
// Every element is read and written by the same thread, so y may alias a bf16 accumulator.
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/activation_quant.h"
#include "kernels/dependent_launch.cuh"
#include "kernels/vector_io.cuh"

namespace slidesparse {

namespace {

__device__ __forceinline__ float to_float(int32_t v) { return __int2float_rn(v); }
__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

// acc and y are not __restrict__: they may be the same buffer.
template <typename Acc>
__global__ void dequantize_kernel(const Acc* acc, int64_t rows, int64_t n, const float* __restrict__ scale_x,
                                  const float* __restrict__ scale_w, __nv_bfloat16* y, bool vectorized) {
  begin_dependent_kernel();
  const int64_t col = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) * 8;
  if (col >= n) return;
  if (vectorized) {  // n % 8 == 0: whole, aligned 8-column pieces
    float w[8];
    if (scale_w) load8(scale_w + col, w);
    for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
      const float s = scale_x[row];
      float v[8];
      load8(acc + row * n + col, v);
#pragma unroll
      for (int i = 0; i < 8; ++i) v[i] = __fmul_rn(v[i], s);
      if (scale_w)
#pragma unroll
        for (int i = 0; i < 8; ++i) v[i] = __fmul_rn(v[i], w[i]);
      store8(y + row * n + col, v);
    }
  } else {
    const int count = static_cast<int>(n - col < 8 ? n - col : 8);
    for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
      const float s = scale_x[row];
      for (int i = 0; i < count; ++i) {
        float v = __fmul_rn(to_float(acc[row * n + col + i]), s);
        if (scale_w) v = __fmul_rn(v, scale_w[col + i]);
        y[row * n + col + i] = __float2bfloat16_rn(v);
      }
    }
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <typename Acc>
void launch_dequantize(const Acc* acc, int64_t rows, int64_t n, const float* scale_x, const float* scale_w,
                       __nv_bfloat16* y, cudaStream_t stream) {
  constexpr int kThreads = 128;
  constexpr int64_t kTargetBlocks = 2048;  // a few waves on the largest GPUs; rows beyond are walked
  const bool vectorized = n % 8 == 0 && aligned16(acc) && aligned16(y) && (!scale_w || aligned16(scale_w));
  const int64_t column_blocks = ((n + 7) / 8 + kThreads - 1) / kThreads;
  const int64_t row_blocks = std::clamp<int64_t>(kTargetBlocks / column_blocks, 1, std::min<int64_t>(rows, 65535));
  const dim3 grid(static_cast<unsigned>(column_blocks), static_cast<unsigned>(row_blocks));
  launch_dependent(dequantize_kernel<Acc>, grid, kThreads, 0, stream, acc, rows, n, scale_x, scale_w, y, vectorized);
}

}  // namespace

void dequantize_rows_gpu(AccumulatorType type, const void* acc, int64_t rows, int64_t n, const float* scale_x,
                         const float* scale_w, __nv_bfloat16* y, cudaStream_t stream) {
  require(rows >= 0 && n >= 0, "dequantize: invalid shape rows=" + std::to_string(rows) + " n=" + std::to_string(n));
  if (rows == 0 || n == 0) return;
  switch (type) {
    case AccumulatorType::Int32:
      return launch_dequantize(static_cast<const int32_t*>(acc), rows, n, scale_x, scale_w, y, stream);
    case AccumulatorType::Float32:
      return launch_dequantize(static_cast<const float*>(acc), rows, n, scale_x, scale_w, y, stream);
    case AccumulatorType::BFloat16:
      return launch_dequantize(static_cast<const __nv_bfloat16*>(acc), rows, n, scale_x, scale_w, y, stream);
  }
}

}  // namespace slidesparse
