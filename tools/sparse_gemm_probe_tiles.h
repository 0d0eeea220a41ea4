// The probe's view of one compiled sparse GEMM tile (tools/sparse_gemm_probe_kernels.cuh).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slidesparse::sparse_probe {

// The persistent scheduler's order over output tiles: which way it walks first (rows of the
// transposed problem = the weight's N, columns = tokens) and how many tiles it groups along the
// other way (CUTLASS's max_swizzle_size). Runtime arguments: the same kernel runs each.
struct TileOrder {
  enum class Raster { Heuristic, AlongWeightRows, AlongTokens } raster = Raster::Heuristic;
  int swizzle = 1;
};

class SparseTile {
 public:
  // The engine's epilogue the tile carries: its output is the plain one's (checked bit for bit) or
  // timed only (relu2 * up on gate_up, the residual add on o and down).
  enum class Epilogue { Plain, Relu2Mul, ResidualAdd };
  virtual ~SparseTile() = default;
  virtual std::string name() const = 0;
  virtual Epilogue epilogue() const = 0;
  // Compresses the 2:4 weight w [n, k] (int8 codes, device) into the tile's own layout.
  virtual void compress(const void* w, int64_t n, int64_t k, int sm_count, cudaStream_t stream) = 0;
  // d [m, n] bf16 = (float(x . w^T) * scale_x[m]) * scale_w[n].
  virtual void run(const void* x, const float* scale_x, const float* scale_w, void* d, int64_t m, TileOrder order,
                   cudaStream_t stream) = 0;
};

// Each translation unit adds its tiles (several units, so a 2-core build compiles them side by side).
void add_cooperative_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);
void add_cluster_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);
void add_shape_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);
void add_pingpong_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);
void add_relu2_mul_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);
void add_residual_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);

}  // namespace slidesparse::sparse_probe
