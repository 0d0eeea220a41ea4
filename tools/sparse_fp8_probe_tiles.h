// The FP8 tiles tools/sparse_fp8_probe measures (tools/sparse_fp8_probe_kernels.cuh), as the probe
// sees them: sparse GEMM tiles of tools/sparse_gemm_probe_tiles.h whose codes are E4M3.
#pragma once

#include <memory>
#include <vector>

#include "tools/sparse_gemm_probe_tiles.h"

namespace slidesparse::sparse_fp8_probe {

// Each translation unit adds its tiles (two units, compiled side by side on two cores).
void add_fast_accumulation_tiles(std::vector<std::unique_ptr<sparse_probe::SparseTile>>& tiles);
void add_promoting_tiles(std::vector<std::unique_ptr<sparse_probe::SparseTile>>& tiles);

}  // namespace slidesparse::sparse_fp8_probe
