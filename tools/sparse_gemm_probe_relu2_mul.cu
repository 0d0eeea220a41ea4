// Tiles of the sparse GEMM probe with relu2 * up in the epilogue, timed on gate_up
// (tools/sparse_gemm_probe_kernels.cuh).
#include "tools/sparse_gemm_probe_kernels.cuh"

namespace slidesparse::sparse_probe {

void add_relu2_mul_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  using Output = sparse_scaled_gemm_detail::Relu2MulOutput;
  add_epilogue_tiles<Output>(tiles, "+relu2*up");
  // With no C to load and no D in shared memory, wider subtiles cost no shared memory and leave
  // fewer subtile iterations (two named barriers each) per output tile.
  add_cooperative<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Output, Shape<_128, _64>>(
      tiles, "coop-128x256x128-1x1+relu2*up-epi128x64");
  add_cooperative<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Output, Shape<_128, _128>>(
      tiles, "coop-128x256x128-1x1+relu2*up-epi128x128");
}

}  // namespace slidesparse::sparse_probe
