// The FP8 sparse tiles with the fast-accumulation mainloop (the whole K summed in the tensor cores'
// own accumulators, as the engine's cuBLASLt FP8 runs by default).
#include "tools/sparse_fp8_probe_kernels.cuh"

namespace slidesparse::sparse_fp8_probe {

void add_fast_accumulation_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  using Fast = cutlass::gemm::KernelTmaWarpSpecializedCooperativeFP8FastAccum;
  tiles.push_back(std::make_unique<Fp8SparseTile<Shape<_128, _64, _128>, Shape<_1, _1, _1>, Fast>>(
      "fast coop-128x64x128-1x1"));
  tiles.push_back(std::make_unique<Fp8SparseTile<Shape<_128, _128, _128>, Shape<_1, _1, _1>, Fast>>(
      "fast coop-128x128x128-1x1"));
  tiles.push_back(std::make_unique<Fp8SparseTile<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Fast>>(
      "fast coop-128x256x128-1x1"));
  tiles.push_back(std::make_unique<Fp8SparseTile<Shape<_128, _256, _128>, Shape<_2, _1, _1>, Fast>>(
      "fast coop-128x256x128-2x1"));
}

}  // namespace slidesparse::sparse_fp8_probe
