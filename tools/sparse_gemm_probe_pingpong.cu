// Ping-pong tiles of the sparse GEMM probe (tools/sparse_gemm_probe_kernels.cuh): one warpgroup's
// epilogue overlaps the other's mainloop; 64 weight rows per tile double the CTAs at decode.
#include "tools/sparse_gemm_probe_kernels.cuh"

namespace slidesparse::sparse_probe {

void add_pingpong_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles) {
  add_pingpong<Shape<_128, _128, _128>, Shape<_1, _1, _1>>(tiles, "pingpong-128x128x128-1x1");
  add_pingpong<Shape<_64, _64, _256>, Shape<_1, _1, _1>>(tiles, "pingpong-64x64x256-1x1");
}

}  // namespace slidesparse::sparse_probe
