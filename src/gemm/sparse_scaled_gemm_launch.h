// Between the host side of the sparse scaled GEMM (gemm/sparse_scaled_gemm.cc, plain C++) and its
// kernels (gemm/sparse_scaled_gemm_int8*.cu, built for sm_90a alone, as the dense scaled GEMM's).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "gemm/sparse_scaled_gemm.h"

namespace slidesparse::sparse_scaled_gemm_detail {

// Bytes of a weight [n, k] compressed into CUTLASS's layout: its kept values and their metadata.
struct CompressedBytes {
  size_t values = 0, metadata = 0;
};
CompressedBytes compressed_bytes(int64_t n, int64_t k);
// Compresses w [n, k] (int8 codes, 2:4 in every group of four along k; device) into values and
// metadata of compressed_bytes(n, k). Asynchronous on `stream`; workspace needs none.
void compress(const void* w, int64_t n, int64_t k, void* values, void* metadata, int sm_count, cudaStream_t stream);

struct Problem {
  const void* x = nullptr;          // [m, k] codes (the tokens)
  const void* values = nullptr;     // the compressed weight
  const void* metadata = nullptr;
  const float* scale_x = nullptr;   // [m]
  const float* scale_w = nullptr;   // [n]
  __nv_bfloat16* d = nullptr;       // [m, n] (read first by the residual epilogue), or [m, n / 2] for the MLP one
  int64_t m = 0, n = 0, k = 0;
  int sm_count = 0;
};

bool kernels_built();
void launch_int8(const SparseScaledGemmSchedule& schedule, const Problem& p, cudaStream_t stream);
void launch_int8_relu2_mul(const SparseScaledGemmSchedule& schedule, const Problem& p, cudaStream_t stream);
void launch_int8_residual_add(const SparseScaledGemmSchedule& schedule, const Problem& p, cudaStream_t stream);

}  // namespace slidesparse::sparse_scaled_gemm_detail
