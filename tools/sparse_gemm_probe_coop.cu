// Cooperative tiles of the sparse GEMM probe (tools/sparse_gemm_probe_kernels.cuh).
#include "tools/sparse_gemm_probe_kernels.cuh"

namespace slidesparse::sparse_probe {

void add_cooperative_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  add_cooperative<Shape<_128, _128, _128>, Shape<_1, _2, _1>>(tiles, "coop-128x128x128-1x2");
  add_cooperative<Shape<_128, _256, _128>, Shape<_1, _2, _1>>(tiles, "coop-128x256x128-1x2");
}

}  // namespace slidesparse::sparse_probe
