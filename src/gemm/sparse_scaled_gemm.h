// Structured-sparse (2:4) INT8 GEMM with both dequantization scales in its epilogue, on CUTLASS's
// Hopper (sm_90a) sparse warp-specialized kernels (gemm/sparse_scaled_gemm_kernels.cuh):
//   d[m, n] = bf16((float(sum_k x[m, k] * w[n, k]) * scale_x[m]) * scale_w[n])
// for a weight w whose every group of four along k holds at most two non-zeros (the slid 2:L
// weight of SlideSparse, or a plain 2:4 one): the bits of the dense scaled GEMM (gemm/scaled_gemm.h)
// on the same weight, with the same three epilogues (plain, relu2 * up, residual add), which
// cuSPARSELt cannot run (it takes no epilogue of ours; docs/PERF.md). Layout as the dense scaled
// GEMM's: x row-major [m, k], w row-major [n, k] (compressed here into CUTLASS's own layout), d
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

#include "gpu/device_buffer.h"

namespace slidesparse {

// The compiled kernel variants (cooperative schedule; tile = weight rows x tokens x k, then the
// cluster, CTAs along the weight's rows x along the tokens); the tuner picks one per row count.
enum class SparseScaledGemmTile {
  Coop128x256,            // large M, 1x1 cluster
  Coop128x256Cluster2x1,  // large M; the two CTAs of a cluster share each activation tile's load
  Coop128x256Cluster1x2,  // large M; the two CTAs of a cluster share each weight tile's load
  Coop128x128,            // decode and small prefill, 1x1 cluster
};
std::span<const SparseScaledGemmTile> sparse_scaled_gemm_tiles();
std::string_view sparse_scaled_gemm_tile_name(SparseScaledGemmTile tile);  // "coop-128x256-1x1", ...
// Throws Error for an unknown name.
SparseScaledGemmTile parse_sparse_scaled_gemm_tile(std::string_view name);

// Which way the persistent scheduler walks the output tiles first (a launch argument: every tile
// runs in each order), and how many tiles it groups along the other way (swizzle 1, 2, 4 or 8).
enum class SparseTileRaster { WeightRows, Tokens };
std::string_view sparse_tile_raster_name(SparseTileRaster raster);  // "weight-rows", "tokens"
SparseTileRaster parse_sparse_tile_raster(std::string_view name);   // throws Error for an unknown name

struct SparseScaledGemmSchedule {
  SparseScaledGemmTile tile = SparseScaledGemmTile::Coop128x256;
  SparseTileRaster raster = SparseTileRaster::WeightRows;
  int swizzle = 1;
  bool operator==(const SparseScaledGemmSchedule&) const = default;
};
// "coop-128x256-1x1 weight-rows/1".
std::string describe_sparse_scaled_gemm_schedule(const SparseScaledGemmSchedule& schedule);
// Throws Error unless swizzle is 1, 2, 4 or 8.
void check_sparse_scaled_gemm_swizzle(int swizzle);

// A default per padded row count m and weight rows n, before tuning: the 256-token tile where it
// still gives every SM a tile, else the 128-token one; walking the weight's rows first.
SparseScaledGemmSchedule default_sparse_scaled_gemm_schedule(int64_t m, int64_t n, int sm_count);
// What `tune` times at m rows: every tile in the default order and, where the tile leaves more
// output tiles than SMs (so the order decides which tiles run together), in the other orders too.
std::vector<SparseScaledGemmSchedule> sparse_scaled_gemm_candidates(int64_t m, int64_t n, int sm_count);

// Whether this build holds the kernels (compiled for sm_90a) and the current device runs them.
bool sparse_scaled_gemm_available();
// Whether the kernels take a weight [n, k]: n a multiple of 64 (the metadata's row block), k of 128
// (the K tile).
bool sparse_scaled_gemm_takes(int64_t n, int64_t k);

// Name under which `tune` stores the tile for one weight shape (its K is the entry's K):
// "sparse_scaled_gemm_int8_n3840".
std::string sparse_scaled_gemm_kernel_name(int64_t n);

// The gate_up row order run_relu2_mul's weight needs: blocks of 16 rows, gate_8b .. gate_8b+7 then
// up_8b .. up_8b+7 (interleave_gate_up_rows with a block of this many rows).
inline constexpr int64_t kSparseGateUpBlock = 8;

// One weight shape [n, k] and any number of weights of that shape (one slot of every layer),
// compressed at add_weight(); the kernel variant and its order are chosen per padded row count. run*() allocate
// nothing and only launch, so they can be captured in a CUDA graph.
class SparseScaledGemm {
 public:
  // Throws Error when the kernels are not available here, or for a shape they do not take (n a
  // multiple of 64, k of 128).
  SparseScaledGemm(int64_t n, int64_t k);

  int64_t n() const { return n_; }
  int64_t k() const { return k_; }
  // Compresses w [n, k] (device int8 codes, 2:4 along k; not needed afterwards) and returns its
  // index. Synchronizes the stream.
  int add_weight(const void* w, cudaStream_t stream);
  void set_schedule(int64_t m, const SparseScaledGemmSchedule& schedule);
  SparseScaledGemmSchedule schedule(int64_t m) const;

  // d [m, n] bf16 from x [m, k] (int8 codes), weight `index`, scale_x [m], scale_w [n]; m is the
  // padded row count.
  void run(int index, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* d, int64_t m,
           cudaStream_t stream) const;
  // gate_up with its activation in the epilogue: the weight's rows (and scale_w) in blocks of
  // kSparseGateUpBlock gate rows then as many up rows; out [m, n / 2] receives
  // bf16(bf16(relu(g)^2) * u) as ScaledGemm::run_relu2_mul writes it.
  void run_relu2_mul(int index, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* out,
                     int64_t m, cudaStream_t stream) const;
  // o_proj / down_proj: residual [m, n] (bf16, in place) becomes bf16(float(residual) + float(d)).
  void run_residual_add(int index, const void* x, const float* scale_w, const float* scale_x,
                        __nv_bfloat16* residual, int64_t m, cudaStream_t stream) const;

 private:
  struct Compressed {
    DeviceBuffer values, metadata;
  };
  int64_t n_ = 0, k_ = 0;
  int sm_count_ = 0;
  std::vector<Compressed> weights_;
  std::map<int64_t, SparseScaledGemmSchedule> schedules_;
};

}  // namespace slidesparse
