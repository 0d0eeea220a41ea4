// The probe's view of one compiled sparse GEMM tile (tools/sparse_gemm_probe_kernels.cuh).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slidesparse::sparse_probe {

class SparseTile {
 public:
  virtual ~SparseTile() = default;
  virtual std::string name() const = 0;
  // Compresses the 2:4 weight w [n, k] (int8 codes, device) into the tile's own layout.
  virtual void compress(const void* w, int64_t n, int64_t k, int sm_count, cudaStream_t stream) = 0;
  // d [m, n] bf16 = (float(x . w^T) * scale_x[m]) * scale_w[n].
  virtual void run(const void* x, const float* scale_x, const float* scale_w, void* d, int64_t m,
                   cudaStream_t stream) = 0;
};

// Each translation unit adds its tiles (two units, so a 2-core build compiles them side by side).
void add_cooperative_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);
void add_pingpong_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles);

}  // namespace slidesparse::sparse_probe
