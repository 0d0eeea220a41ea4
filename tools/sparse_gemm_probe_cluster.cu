// Cooperative tiles of the sparse GEMM probe in other cluster shapes (tools/sparse_gemm_probe_kernels.cuh).
// The cluster decides which operand a tile load multicasts: CTAs side by side along the tokens share
// the weight's tile (1x2), along the weight's rows they share the activations' tile (2x1), which is
// the larger of the two per k-step (256 tokens x 128 bytes against 128 rows x 64 bytes + metadata);
// 1x1 multicasts nothing and schedules each CTA alone.
#include "tools/sparse_gemm_probe_kernels.cuh"

namespace slidesparse::sparse_probe {

void add_cluster_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  add_cooperative<Shape<_128, _256, _128>, Shape<_2, _1, _1>>(tiles, "coop-128x256x128-2x1");
  add_cooperative<Shape<_128, _256, _128>, Shape<_1, _1, _1>>(tiles, "coop-128x256x128-1x1");
  add_cooperative<Shape<_128, _128, _128>, Shape<_2, _1, _1>>(tiles, "coop-128x128x128-2x1");
  add_cooperative<Shape<_128, _128, _128>, Shape<_1, _1, _1>>(tiles, "coop-128x128x128-1x1");
}

}  // namespace slidesparse::sparse_probe
