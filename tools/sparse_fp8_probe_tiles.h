// The FP8 tiles tools/sparse_fp8_probe measures (tools/sparse_fp8_probe_kernels.cu), as the probe
// sees them: sparse GEMM tiles of tools/sparse_gemm_probe_tiles.h whose codes are E4M3.
#pragma once

#include <memory>
#include <vector>

#include "tools/sparse_gemm_probe_tiles.h"

namespace slidesparse::sparse_fp8_probe {

// The fast-accumulation tiles (cooperative 128x64, 128x128, 128x256 and 128x256 in 2x1 clusters),
// then the promoting ones (128x128, 128x256).
void add_tiles(std::vector<std::unique_ptr<sparse_probe::SparseTile>>& tiles);

}  // namespace slidesparse::sparse_fp8_probe
