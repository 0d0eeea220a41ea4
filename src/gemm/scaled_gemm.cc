#include "gemm/scaled_gemm.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "gemm/scaled_gemm_launch.h"
#include "gemm/sparse_scaled_gemm.h"
#include "gpu/device_info.h"

namespace slidesparse {

namespace {

constexpr ScaledGemmTile kTiles[] = {ScaledGemmTile::Coop128x256, ScaledGemmTile::Coop128x128,
                                     ScaledGemmTile::Pingpong64x128, ScaledGemmTile::Pingpong128x128};

}  // namespace

std::span<const ScaledGemmTile> scaled_gemm_tiles() { return kTiles; }

std::string_view scaled_gemm_tile_name(ScaledGemmTile tile) {
  switch (tile) {
    case ScaledGemmTile::Coop128x256: return "coop-128x256";
    case ScaledGemmTile::Coop128x128: return "coop-128x128";
    case ScaledGemmTile::Pingpong64x128: return "pingpong-64x128";
    case ScaledGemmTile::Pingpong128x128: return "pingpong-128x128";
  }
  return "?";
}

ScaledGemmTile parse_scaled_gemm_tile(std::string_view name) {
  for (ScaledGemmTile t : kTiles)
    if (scaled_gemm_tile_name(t) == name) return t;
  std::string known;
  for (ScaledGemmTile t : kTiles) known += (known.empty() ? "" : ", ") + std::string(scaled_gemm_tile_name(t));
  fail("unknown scaled GEMM tile '" + std::string(name) + "' (" + known + ")");
}

ScaledGemmTile default_scaled_gemm_tile(int64_t m) {
  // The fastest over the four BitNet-2B shapes on the H200 (docs/PERF.md): the 64-row ping-pong
  // tile up to 512 rows, the 128x128 ping-pong tile above.
  return m <= 512 ? ScaledGemmTile::Pingpong64x128 : ScaledGemmTile::Pingpong128x128;
}

bool scaled_gemm_available() {
  return scaled_gemm_detail::kernels_built() && cuda_device_available() && query_device().compute_capability() == 90;
}

std::string scaled_gemm_kernel_name(int64_t n) { return "scaled_gemm_int8_n" + std::to_string(n); }

std::vector<uint8_t> interleave_gate_up_rows(std::span<const uint8_t> rows, int64_t n, int64_t width,
                                             int64_t block) {
  const std::string multiple = block == 1 ? "even" : "a multiple of " + std::to_string(2 * block);
  require(block > 0 && n > 0 && n % (2 * block) == 0 && width > 0 && rows.size() == static_cast<size_t>(n * width),
          "interleave_gate_up_rows: " + std::to_string(rows.size()) + " bytes are not " + std::to_string(n) +
              " rows of " + std::to_string(width) + " (n must be " + multiple + ")");
  std::vector<uint8_t> out(rows.size());
  const int64_t half = n / 2, run = block * width;
  for (int64_t b = 0; b < half / block; ++b) {
    std::copy_n(rows.data() + b * run, run, out.data() + (2 * b) * run);
    std::copy_n(rows.data() + (half * width) + b * run, run, out.data() + (2 * b + 1) * run);
  }
  return out;
}

ScaledGemm::ScaledGemm(int64_t n, int64_t k) : n_(n), k_(k) {
  require(n > 0 && k > 0 && n % 8 == 0 && k % 16 == 0,
          "scaled GEMM: N must be a multiple of 8 and K of 16, got N=" + std::to_string(n) + " K=" + std::to_string(k));
  require(scaled_gemm_available(), "the scaled GEMM needs a Hopper GPU (compute capability 9.0) and a build for sm_90a");
  sm_count_ = query_device().sm_count;
}

void ScaledGemm::set_tile(int64_t m, ScaledGemmTile tile) { tiles_[m] = tile; }

ScaledGemmTile ScaledGemm::tile(int64_t m) const {
  const auto it = tiles_.find(m);
  return it != tiles_.end() ? it->second : default_scaled_gemm_tile(m);
}

void ScaledGemm::run(const void* w, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* d,
                     int64_t m, cudaStream_t stream) const {
  scaled_gemm_detail::launch_int8(tile(m), {x, w, scale_x, scale_w, d, m, n_, k_, sm_count_}, stream);
}

void ScaledGemm::run_relu2_mul(const void* w, const void* x, const float* scale_w, const float* scale_x,
                               __nv_bfloat16* out, int64_t m, cudaStream_t stream, int64_t block) const {
  const scaled_gemm_detail::Problem p{x, w, scale_x, scale_w, out, m, n_, k_, sm_count_};
  if (block == 1) return scaled_gemm_detail::launch_int8_relu2_mul(tile(m), p, stream);
  if (block != kSparseGateUpBlock || n_ % (2 * block) != 0)  // the message only on failure: this is the hot path
    fail("the scaled GEMM's relu2*up epilogue takes gate_up rows one by one or in blocks of " +
         std::to_string(kSparseGateUpBlock) + ", not " + std::to_string(block) + " (N=" + std::to_string(n_) + ")");
  scaled_gemm_detail::launch_int8_relu2_mul_block(tile(m), p, stream);
}

void ScaledGemm::run_residual_add(const void* w, const void* x, const float* scale_w, const float* scale_x,
                                  __nv_bfloat16* residual, int64_t m, cudaStream_t stream) const {
  scaled_gemm_detail::launch_int8_residual_add(tile(m), {x, w, scale_x, scale_w, residual, m, n_, k_, sm_count_},
                                               stream);
}

}  // namespace slidesparse
