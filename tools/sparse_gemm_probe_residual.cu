// Tiles of the sparse GEMM probe with the residual add in the epilogue, timed on o and down
// (tools/sparse_gemm_probe_kernels.cuh).
#include "tools/sparse_gemm_probe_kernels.cuh"

namespace slidesparse::sparse_probe {

void add_residual_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  add_epilogue_tiles<sparse_scaled_gemm_detail::ResidualAddOutput>(tiles, "+residual");
}

}  // namespace slidesparse::sparse_probe
