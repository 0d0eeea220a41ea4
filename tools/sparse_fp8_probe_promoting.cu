// The FP8 sparse tiles with the promoting mainloop (partial sums added into fp32 registers every
// four MMAs, CUTLASS's default interval).
#include "tools/sparse_fp8_probe_kernels.cuh"

namespace slidesparse::sparse_fp8_probe {

void add_promoting_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  using Promoting = cutlass::gemm::KernelTmaWarpSpecializedCooperative;
  tiles.push_back(std::make_unique<Fp8SparseTile<Shape<_128, _128, _128>, Shape<_1, _1, _1>, Promoting>>(
      "promoting coop-128x128x128-1x1"));
  tiles.push_back(std::make_unique<Fp8SparseTile<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Promoting>>(
      "promoting coop-128x256x128-1x1"));
}

}  // namespace slidesparse::sparse_fp8_probe
