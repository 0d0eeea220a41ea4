// Dense INT8 GEMM with both dequantization scales in its epilogue, on CUTLASS's Hopper (sm_90a)
// warp-specialized TMA kernels (gemm/scaled_gemm_kernels.cuh):
//   d[m, n] = bf16((float(sum_k x[m, k] * w[n, k]) * scale_x[m]) * scale_w[n])
// the same value, rounded the same way, as cuBLASLt's int32 accumulator followed by the
// dequantization epilogue (kernels/acc_view.h), written as bf16 once instead of int32 written and
// read back (cuBLASLt's INT8 kernels on Hopper write int32 only: docs/PERF.md, "Where the scales
// go"). FP8 stays on cuBLASLt, which already writes bf16 (docs/PERF.md, "A dense GEMM that applies
// both scales").
// Layout as both libraries' ("TN", gemm/gemm_types.h): x row-major [m, k], w row-major [n, k], d
// row-major [m, n].
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slidesparse {

// The compiled kernel variants (tile shape, cluster, schedule); the tuner picks one per row count.
enum class ScaledGemmTile {
  Coop128x256,    // cooperative, 128x256x128 tile, 2x1 cluster: large M
  Coop128x128,    // cooperative, 128x128x128 tile, 2x1 cluster
  Pingpong64x128, // ping-pong, 64x128x128 tile, 1x1 cluster: small M
  // ping-pong, 128x128x128 tile per consumer warpgroup, 2x1 cluster: one warpgroup's epilogue runs
  // under the other's mainloop, so epilogue work leaves the critical path
  Pingpong128x128,
};
std::span<const ScaledGemmTile> scaled_gemm_tiles();
std::string_view scaled_gemm_tile_name(ScaledGemmTile tile);  // "coop-128x256", ...
// Throws Error for an unknown name.
ScaledGemmTile parse_scaled_gemm_tile(std::string_view name);
// A default per padded row count, before tuning.
ScaledGemmTile default_scaled_gemm_tile(int64_t m);

// Whether this build holds the kernels (compiled for sm_90a) and the current device runs them
// (compute capability 9.0).
bool scaled_gemm_available();

// Name under which `tune` stores the tile for one weight shape (its K is the entry's K):
// "scaled_gemm_int8_n3840".
std::string scaled_gemm_kernel_name(int64_t n);

// The row order run_relu2_mul's weight needs: rows [gate (n/2) | up (n/2)] of `width` bytes each
// (one row of codes, or one scale) to gate_0, up_0, gate_1, up_1, ... in blocks of `block` rows (1
// here; SparseScaledGemm's is kSparseGateUpBlock): block gate rows, then the same up rows. Throws
// Error when n is not a multiple of 2 * block or the size is not n rows.
std::vector<uint8_t> interleave_gate_up_rows(std::span<const uint8_t> rows, int64_t n, int64_t width,
                                             int64_t block = 1);

// One weight shape [n, k]; the kernel variant is chosen per padded row count (set_tile, else
// default_scaled_gemm_tile). run() allocates nothing and only launches, so it can be captured in a
// CUDA graph.
class ScaledGemm {
 public:
  // Throws Error when the kernels are not available here, or for a shape they do not take (n a
  // multiple of 8, k a multiple of 16).
  ScaledGemm(int64_t n, int64_t k);

  int64_t n() const { return n_; }
  int64_t k() const { return k_; }
  void set_tile(int64_t m, ScaledGemmTile tile);
  ScaledGemmTile tile(int64_t m) const;

  // d [m, n] bf16 from x [m, k] and w [n, k] (int8 codes), scale_x [m], scale_w [n]; m is the
  // padded row count.
  void run(const void* w, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* d, int64_t m,
           cudaStream_t stream) const;
  // BitNet's gate_up with its activation in the epilogue: w's rows (and scale_w) interleaved as
  // gate_0, up_0, gate_1, up_1, ... (interleave_gate_up_rows), and out [m, n / 2] receives
  //   bf16(bf16(relu(g)^2) * u)   for g, u the dequantized bf16 values of columns 2j, 2j + 1
  // (math/activation.h): the bits of run() followed by relu2_mul_rows_bf16, in half the bytes.
  // block: the interleaving's (interleave_gate_up_rows), 1 or kSparseGateUpBlock (the sparse scaled
  // GEMM's order, for the dense fallback of a linear stored for it).
  void run_relu2_mul(const void* w, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* out,
                     int64_t m, cudaStream_t stream, int64_t block = 1) const;
  // o_proj / down_proj with the residual add in the epilogue: residual [m, n] (bf16, in place) becomes
  //   bf16(float(residual) + float(d))   for d the bf16 value run() writes,
  // the residual norms' first step (kernels/norm_quant.h), so the norm after it reads one tensor.
  void run_residual_add(const void* w, const void* x, const float* scale_w, const float* scale_x,
                        __nv_bfloat16* residual, int64_t m, cudaStream_t stream) const;

 private:
  int64_t n_ = 0, k_ = 0;
  int sm_count_ = 0;
  std::map<int64_t, ScaledGemmTile> tiles_;
};

}  // namespace slidesparse
