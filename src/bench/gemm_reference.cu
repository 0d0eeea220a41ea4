#include "bench/gemm_reference.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"

namespace slidesparse {

namespace {

// 64 x 64 outputs per block of 256 threads, 4 x 4 per thread, K in steps of 32 through shared
// memory. Plain arithmetic on purpose: this is the reference, not a contender.
constexpr int kTile = 64, kStep = 32;

template <bool kInt8>
__device__ __forceinline__ float decode(uint8_t c) {
  if constexpr (kInt8) {
    return static_cast<float>(static_cast<int8_t>(c));
  } else {
    __nv_fp8_e4m3 v;
    v.__x = c;
    return static_cast<float>(v);
  }
}

template <bool kInt8>
__global__ void __launch_bounds__(256) reference_gemm_kernel(const uint8_t* x, const uint8_t* w, int64_t rows,
                                                             int64_t n, int64_t k, void* acc_out) {
  using Acc = std::conditional_t<kInt8, int32_t, float>;
  __shared__ uint8_t xs[kTile][kStep + 4], ws[kTile][kStep + 4];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t row0 = int64_t{blockIdx.y} * kTile, col0 = int64_t{blockIdx.x} * kTile;
  Acc acc[4][4] = {};
  for (int64_t k0 = 0; k0 < k; k0 += kStep) {
    for (int i = threadIdx.x; i < kTile * kStep; i += 256) {
      const int r = i / kStep, c = i % kStep;
      const int64_t kk = k0 + c;
      xs[r][c] = row0 + r < rows && kk < k ? x[(row0 + r) * k + kk] : 0;
      ws[r][c] = col0 + r < n && kk < k ? w[(col0 + r) * k + kk] : 0;
    }
    __syncthreads();
    for (int c = 0; c < kStep; ++c) {
      Acc a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if constexpr (kInt8) {
          a[i] = static_cast<int8_t>(xs[ty * 4 + i][c]);
          b[i] = static_cast<int8_t>(ws[tx * 4 + i][c]);
        } else {
          a[i] = decode<false>(xs[ty * 4 + i][c]);
          b[i] = decode<false>(ws[tx * 4 + i][c]);
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  Acc* out = static_cast<Acc*>(acc_out);
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t r = row0 + ty * 4 + i, c = col0 + tx * 4 + j;
      if (r < rows && c < n) out[r * n + c] = acc[i][j];
    }
}

struct CheckTotals {
  double sum_sq_want, sum_sq_diff;
  unsigned long long mismatches;
};

__device__ __forceinline__ double want_value(bool int8, int scales, const void* acc, int64_t i, int64_t r, int64_t c,
                                             const float* scale_w, const float* scale_x) {
  double v = int8 ? static_cast<double>(static_cast<const int32_t*>(acc)[i]) : static_cast<const float*>(acc)[i];
  if (scales >= 1) v = static_cast<float>(v * scale_w[c]);  // the libraries scale in fp32
  if (scales == 2) v = static_cast<float>(v * scale_x[r]);
  return v;
}

__device__ __forceinline__ double got_value(int output, const void* d, int64_t i) {
  if (output == 0) return static_cast<double>(static_cast<const int32_t*>(d)[i]);
  if (output == 1) return static_cast<const float*>(d)[i];
  return __bfloat162float(static_cast<const __nv_bfloat16*>(d)[i]);
}

__global__ void sum_sq_kernel(bool int8, int scales, const void* acc, int64_t rows, int64_t n, const float* scale_w,
                              const float* scale_x, CheckTotals* totals) {
  double local = 0;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < rows * n; i += int64_t{gridDim.x} * blockDim.x) {
    const double v = want_value(int8, scales, acc, i, i / n, i % n, scale_w, scale_x);
    local += v * v;
  }
  atomicAdd(&totals->sum_sq_want, local);
}

__global__ void compare_kernel(bool int8, int scales, int output, const void* d, const void* acc, int64_t rows,
                               int64_t n, const float* scale_w, const float* scale_x, double rel, double abs_tol,
                               CheckTotals* totals) {
  double local = 0;
  unsigned long long bad = 0;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < rows * n; i += int64_t{gridDim.x} * blockDim.x) {
    const double want = want_value(int8, scales, acc, i, i / n, i % n, scale_w, scale_x);
    const double got = got_value(output, d, i);
    const double diff = got - want;
    if (!isfinite(got) || fabs(diff) > rel * fabs(want) + abs_tol) ++bad;
    local += isfinite(diff) ? diff * diff : 1e300;
  }
  atomicAdd(&totals->sum_sq_diff, local);
  atomicAdd(&totals->mismatches, bad);
}

}  // namespace

void reference_gemm_gpu(QuantKind kind, const uint8_t* x, const uint8_t* w, int64_t rows, int64_t n, int64_t k,
                        void* acc, cudaStream_t stream) {
  require(rows > 0 && n > 0 && k > 0 && (rows + kTile - 1) / kTile < 65536, "reference GEMM: invalid shape");
  const dim3 grid(static_cast<unsigned>((n + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile));
  if (kind == QuantKind::Int8)
    reference_gemm_kernel<true><<<grid, 256, 0, stream>>>(x, w, rows, n, k, acc);
  else
    reference_gemm_kernel<false><<<grid, 256, 0, stream>>>(x, w, rows, n, k, acc);
  CUDA_CHECK_LAUNCH();
}

std::string GemmCheck::describe() const {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%lld of %lld outputs wrong, relative error %.1e", static_cast<long long>(mismatches),
                static_cast<long long>(elements), relative_error);
  return buf;
}

GemmCheck check_gemm_output_gpu(const GemmShape& shape, const void* d, const void* acc, int64_t rows,
                                const float* scale_w, const float* scale_x, cudaStream_t stream) {
  const bool int8 = shape.kind == QuantKind::Int8;
  const int scales = shape.scales == ScaleMode::Epilogue ? 0 : shape.scales == ScaleMode::WeightInGemm ? 1 : 2;
  const int output = shape.output == GemmOutput::Int32 ? 0 : shape.output == GemmOutput::Float32 ? 1 : 2;
  DeviceBuffer totals_d(sizeof(CheckTotals), "GEMM check totals");
  CUDA_CHECK(cudaMemsetAsync(totals_d.data(), 0, sizeof(CheckTotals), stream));
  auto* totals = totals_d.as<CheckTotals>();
  constexpr int kBlocks = 1024, kThreads = 256;
  sum_sq_kernel<<<kBlocks, kThreads, 0, stream>>>(int8, scales, acc, rows, shape.n, scale_w, scale_x, totals);
  CUDA_CHECK_LAUNCH();
  CheckTotals host{};
  CUDA_CHECK(cudaMemcpyAsync(&host, totals, sizeof host, cudaMemcpyDeviceToHost, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  const int64_t elements = rows * shape.n;
  const double rms = std::sqrt(host.sum_sq_want / static_cast<double>(elements));
  const double rel = output == 0 ? 0 : int8 ? 1.0 / 128 : 2e-2;
  const double abs_tol = output == 0 || int8 ? 0 : 2e-2 * rms;
  compare_kernel<<<kBlocks, kThreads, 0, stream>>>(int8, scales, output, d, acc, rows, shape.n, scale_w, scale_x, rel,
                                                   abs_tol, totals);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpyAsync(&host, totals, sizeof host, cudaMemcpyDeviceToHost, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  GemmCheck check;
  check.elements = elements;
  check.mismatches = static_cast<int64_t>(host.mismatches);
  check.relative_error = host.sum_sq_want > 0 ? std::sqrt(host.sum_sq_diff / host.sum_sq_want) : 0;
  return check;
}

}  // namespace slidesparse
