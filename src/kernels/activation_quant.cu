// Per-token quantization, fused quantize + slide, and the dequantization epilogue.
//
// Bytes per row: read K bf16 once (2K), write the codes (K or K') and one scale. The row is staged
// in shared memory on the way in (16-byte loads, several in flight per thread), its absmax reduced
// across the block, and the output written in 16-byte chunks: each thread produces four 4-byte
// words, each word one 2:4 window of the slide (window o: group o / NW, window o % NW, sources
// g*L + 2w .. +3; the divisions are by compile-time constants, the kernel is templated on L).
// Padding rows and columns are written by the kernel itself, so the output needs no memset.
#include "kernels/activation_quant.h"

#include <cuda_fp8.h>

#include <algorithm>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

namespace {

constexpr int kMaxThreads = 1024;

template <bool kInt8>
__device__ __forceinline__ uint8_t quantize_value(float x, float inv) {
  const float v = __fmul_rn(x, inv);
  if constexpr (kInt8) {
    const float q = fminf(fmaxf(rintf(v), -128.0f), 127.0f);
    return static_cast<uint8_t>(static_cast<int8_t>(q));
  } else {
    const float c = fminf(fmaxf(v, -448.0f), 448.0f);
    return static_cast<uint8_t>(__nv_cvt_float_to_fp8(c, __NV_SATFINITE, __NV_E4M3));
  }
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / 32) ? scratch[lane] : 0.0f;
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
    if (lane == 0) scratch[0] = v;
  }
  __syncthreads();
  const float result = scratch[0];
  __syncthreads();  // scratch is reused by the next row
  return result;
}

// The four consecutive row values starting at `base` (a window of the slide, or four plain
// columns) quantized into one little-endian word; sources at or past k are padding zeros.
template <bool kInt8>
__device__ __forceinline__ uint32_t quantize_window(const __nv_bfloat16* row, int base, int k, float inv) {
  uint32_t word = 0;
#pragma unroll
  for (int lane = 0; lane < 4; ++lane) {
    const int s = base + lane;
    const uint8_t code = s < k ? quantize_value<kInt8>(__bfloat162float(row[s]), inv) : 0;
    word |= static_cast<uint32_t>(code) << (8 * lane);
  }
  return word;
}

// One block per row (rows_per_block rows in turn). kGroup == 0 is plain quantization (the identity
// map: L = 4 with one window per group). out_cols % 16 == 0; K < 2^31.
template <bool kInt8, int kGroup>
__global__ void quantize_kernel(const __nv_bfloat16* __restrict__ x, int64_t rows, int k, int64_t rows_padded,
                                int out_cols, int windows, int rows_per_block, uint8_t* __restrict__ out,
                                float* __restrict__ scale) {
  extern __shared__ __align__(16) unsigned char shared_raw[];
  __nv_bfloat16* row_smem = reinterpret_cast<__nv_bfloat16*>(shared_raw);
  __shared__ float scratch[32];
  constexpr float kQmax = kInt8 ? 127.0f : 448.0f;
  constexpr int kL = kGroup == 0 ? 4 : kGroup;
  constexpr int kWindowsPerGroup = kL / 2 - 1;
  constexpr int kUnroll = 4;  // independent 16-byte loads in flight per thread
  const float min_scale = __fdiv_rn(1.0f, kQmax * 512.0f);
  const int chunks = out_cols / 16;
  const int64_t first = int64_t{blockIdx.x} * rows_per_block;
  for (int64_t row = first; row < first + rows_per_block && row < rows_padded; ++row) {
    uint4* dst = reinterpret_cast<uint4*>(out + row * out_cols);
    if (row >= rows) {  // padding row: zero codes, scale 1
      for (int c = threadIdx.x; c < chunks; c += blockDim.x) dst[c] = make_uint4(0, 0, 0, 0);
      if (threadIdx.x == 0) scale[row] = 1.0f;
      continue;
    }
    const __nv_bfloat16* src = x + row * k;
    float absmax = 0.0f;
    if (k % 8 == 0 && reinterpret_cast<uintptr_t>(src) % 16 == 0) {
      const uint4* src4 = reinterpret_cast<const uint4*>(src);
      uint4* smem4 = reinterpret_cast<uint4*>(row_smem);
      const int n4 = k / 8;
      for (int base = threadIdx.x; base < n4; base += kUnroll * blockDim.x) {
        uint4 v[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          const int i = base + u * blockDim.x;
          if (i < n4) v[u] = __ldg(src4 + i);
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          const int i = base + u * blockDim.x;
          if (i < n4) {
            smem4[i] = v[u];
            const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&v[u]);
#pragma unroll
            for (int p = 0; p < 4; ++p) {
              const float2 f = __bfloat1622float2(pairs[p]);
              absmax = fmaxf(absmax, fmaxf(fabsf(f.x), fabsf(f.y)));
            }
          }
        }
      }
    } else {
      for (int i = threadIdx.x; i < k; i += blockDim.x) {
        const __nv_bfloat16 v = src[i];
        row_smem[i] = v;
        absmax = fmaxf(absmax, fabsf(__bfloat162float(v)));
      }
    }
    absmax = block_max(absmax, scratch);  // also orders the shared-memory writes before the reads
    const float inv = __fdiv_rn(kQmax, fmaxf(absmax, 1e-12f));
    if (threadIdx.x == 0) scale[row] = fmaxf(__fdiv_rn(absmax, kQmax), min_scale);
    for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
      int o = c * 4;
      int g = o / kWindowsPerGroup;
      int w = o - g * kWindowsPerGroup;
      uint32_t words[4];
#pragma unroll
      for (int q = 0; q < 4; ++q, ++o) {
        words[q] = o < windows ? quantize_window<kInt8>(row_smem, g * kL + 2 * w, k, inv) : 0u;
        if (++w == kWindowsPerGroup) w = 0, ++g;
      }
      dst[c] = make_uint4(words[0], words[1], words[2], words[3]);
    }
  }
}

template <bool kInt8, int kGroup>
void launch_quantize(const __nv_bfloat16* x, int64_t rows, int64_t k, int64_t rows_padded, int64_t out_cols,
                     int64_t windows, uint8_t* out, float* scale, cudaStream_t stream, const QuantLaunchConfig& c) {
  const size_t smem = static_cast<size_t>(k) * sizeof(__nv_bfloat16);
  auto kernel = quantize_kernel<kInt8, kGroup>;
  if (smem > 48 * 1024)
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const int64_t blocks = (rows_padded + c.rows_per_block - 1) / c.rows_per_block;
  kernel<<<static_cast<unsigned>(blocks), c.threads, smem, stream>>>(
      x, rows, static_cast<int>(k), rows_padded, static_cast<int>(out_cols), static_cast<int>(windows),
      c.rows_per_block, out, scale);
  CUDA_CHECK_LAUNCH();
}

template <int kGroup>
void dispatch_kind(QuantKind kind, const __nv_bfloat16* x, int64_t rows, int64_t k, int64_t rows_padded,
                   int64_t out_cols, int64_t windows, uint8_t* out, float* scale, cudaStream_t stream,
                   const QuantLaunchConfig& c) {
  if (kind == QuantKind::Int8)
    launch_quantize<true, kGroup>(x, rows, k, rows_padded, out_cols, windows, out, scale, stream, c);
  else
    launch_quantize<false, kGroup>(x, rows, k, rows_padded, out_cols, windows, out, scale, stream, c);
}

void check_arguments(int64_t rows, int64_t k, int64_t rows_padded, int64_t out_cols, const QuantLaunchConfig& c) {
  require(rows >= 0 && k >= 1 && rows_padded >= rows && out_cols >= k && out_cols % 16 == 0,
          "quantize: invalid shape rows=" + std::to_string(rows) + " k=" + std::to_string(k) +
              " rows_padded=" + std::to_string(rows_padded) + " out_cols=" + std::to_string(out_cols));
  require(c.threads >= 32 && c.threads <= kMaxThreads && c.threads % 32 == 0 && c.rows_per_block >= 1,
          "quantize: invalid launch config");
  require(k * 2 <= 200 * 1024 && out_cols < (int64_t{1} << 31),
          "quantize: K=" + std::to_string(k) + " exceeds the shared-memory row buffer");
}

template <typename Acc>
__device__ __forceinline__ float load_acc(const Acc* p) {
  if constexpr (std::is_same_v<Acc, __nv_bfloat16>) return __bfloat162float(*p);
  else return static_cast<float>(*p);
}

// y = bf16((acc * sx) * sw), 8 outputs per thread per step.
template <typename Acc>
__global__ void dequantize_kernel(const Acc* __restrict__ acc, int64_t rows, int64_t n, const float* __restrict__ sx,
                                  const float* __restrict__ sw, __nv_bfloat16* y) {
  const int64_t groups_per_row = (n + 7) / 8;
  const int64_t total = rows * groups_per_row;
  for (int64_t g = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; g < total; g += int64_t{gridDim.x} * blockDim.x) {
    const int64_t row = g / groups_per_row;
    const int64_t col = (g - row * groups_per_row) * 8;
    const float s = sx[row];
    const int64_t base = row * n + col;
    const int count = static_cast<int>(n - col < 8 ? n - col : 8);
    float v[8];
#pragma unroll
    for (int i = 0; i < 8; ++i)
      if (i < count) v[i] = __fmul_rn(load_acc(acc + base + i), s);
    if (sw) {
#pragma unroll
      for (int i = 0; i < 8; ++i)
        if (i < count) v[i] = __fmul_rn(v[i], sw[col + i]);
    }
#pragma unroll
    for (int i = 0; i < 8; ++i)
      if (i < count) y[base + i] = __float2bfloat16_rn(v[i]);
  }
}

}  // namespace

std::vector<QuantLaunchConfig> quant_launch_candidates() {
  return {{128, 1}, {64, 1}, {256, 1}, {512, 1}, {64, 2}, {128, 2}, {64, 4}};
}

void quantize_rows_gpu(QuantKind kind, const __nv_bfloat16* x, int64_t rows, int64_t k, int64_t rows_padded,
                       int64_t out_cols, uint8_t* out, float* scale, cudaStream_t stream,
                       const QuantLaunchConfig& config) {
  check_arguments(rows, k, rows_padded, out_cols, config);
  if (rows_padded == 0) return;
  dispatch_kind<0>(kind, x, rows, k, rows_padded, out_cols, out_cols / 4, out, scale, stream, config);
}

void quantize_slide_rows_gpu(QuantKind kind, const SlideGeometry& g, const __nv_bfloat16* x, int64_t rows,
                             int64_t rows_padded, uint8_t* out, float* scale, cudaStream_t stream,
                             const QuantLaunchConfig& config) {
  check_arguments(rows, g.k, rows_padded, g.k_slid, config);
  if (rows_padded == 0) return;
  const int64_t windows = g.k_raw / 4;
  switch (g.group) {
    case 4: return dispatch_kind<4>(kind, x, rows, g.k, rows_padded, g.k_slid, windows, out, scale, stream, config);
    case 6: return dispatch_kind<6>(kind, x, rows, g.k, rows_padded, g.k_slid, windows, out, scale, stream, config);
    case 8: return dispatch_kind<8>(kind, x, rows, g.k, rows_padded, g.k_slid, windows, out, scale, stream, config);
    case 10: return dispatch_kind<10>(kind, x, rows, g.k, rows_padded, g.k_slid, windows, out, scale, stream, config);
    case 12: return dispatch_kind<12>(kind, x, rows, g.k, rows_padded, g.k_slid, windows, out, scale, stream, config);
    case 14: return dispatch_kind<14>(kind, x, rows, g.k, rows_padded, g.k_slid, windows, out, scale, stream, config);
    case 16: return dispatch_kind<16>(kind, x, rows, g.k, rows_padded, g.k_slid, windows, out, scale, stream, config);
    default: fail("quantize_slide: no kernel for L=" + std::to_string(g.group) + " (L must be even in 4..16)");
  }
}

void dequantize_rows_gpu(AccumulatorType type, const void* acc, int64_t rows, int64_t n, const float* scale_x,
                         const float* scale_w, __nv_bfloat16* y, cudaStream_t stream) {
  if (rows == 0 || n == 0) return;
  constexpr int kThreads = 256;
  const int64_t work = rows * ((n + 7) / 8);
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((work + kThreads - 1) / kThreads, 132 * 32));
  switch (type) {
    case AccumulatorType::Int32:
      dequantize_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const int32_t*>(acc), rows, n, scale_x, scale_w, y);
      break;
    case AccumulatorType::Float32:
      dequantize_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const float*>(acc), rows, n, scale_x, scale_w, y);
      break;
    case AccumulatorType::BFloat16:
      dequantize_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(acc), rows, n, scale_x,
                                                         scale_w, y);
      break;
  }
  CUDA_CHECK_LAUNCH();
}

}  // namespace slidesparse
