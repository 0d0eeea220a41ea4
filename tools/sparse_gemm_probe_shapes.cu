// Cooperative tiles of the sparse GEMM probe in other shapes (tools/sparse_gemm_probe_kernels.cuh):
// 256 weight rows, 192 tokens (cuSPARSELt's choice for the BitNet shapes at large M on Hopper), and
// 64 tokens for decode row counts, where a wider tile computes mostly padding.
#include "tools/sparse_gemm_probe_kernels.cuh"

namespace slidesparse::sparse_probe {

void add_shape_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  add_cooperative<Shape<_256, _128, _128>, Shape<_1, _1, _1>>(tiles, "coop-256x128x128-1x1");
  add_cooperative<Shape<_128, _192, _128>, Shape<_1, _1, _1>>(tiles, "coop-128x192x128-1x1");
  add_cooperative<Shape<_128, _192, _128>, Shape<_2, _1, _1>>(tiles, "coop-128x192x128-2x1");
  add_cooperative<Shape<_128, _64, _128>, Shape<_1, _1, _1>>(tiles, "coop-128x64x128-1x1");
}

}  // namespace slidesparse::sparse_probe
