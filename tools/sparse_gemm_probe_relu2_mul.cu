// Tiles of the sparse GEMM probe with relu2 * up in the epilogue, timed on gate_up
// (tools/sparse_gemm_probe_kernels.cuh).
#include "tools/sparse_gemm_probe_kernels.cuh"

namespace slidesparse::sparse_probe {

void add_relu2_mul_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  add_epilogue_tiles<sparse_scaled_gemm_detail::Relu2MulOutput>(tiles, "+relu2*up");
}

}  // namespace slidesparse::sparse_probe
