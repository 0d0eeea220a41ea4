#include "gemm/sparse_scaled_gemm.h"

#include "core/error.h"
#include "gemm/sparse_scaled_gemm_launch.h"
#include "gpu/device_info.h"

namespace slidesparse {

namespace {

constexpr SparseScaledGemmTile kTiles[] = {SparseScaledGemmTile::Coop128x256, SparseScaledGemmTile::Coop128x128};

}  // namespace

std::span<const SparseScaledGemmTile> sparse_scaled_gemm_tiles() { return kTiles; }

std::string_view sparse_scaled_gemm_tile_name(SparseScaledGemmTile tile) {
  switch (tile) {
    case SparseScaledGemmTile::Coop128x256: return "coop-128x256";
    case SparseScaledGemmTile::Coop128x128: return "coop-128x128";
  }
  return "?";
}

SparseScaledGemmTile parse_sparse_scaled_gemm_tile(std::string_view name) {
  for (SparseScaledGemmTile t : kTiles)
    if (sparse_scaled_gemm_tile_name(t) == name) return t;
  std::string known;
  for (SparseScaledGemmTile t : kTiles)
    known += (known.empty() ? "" : ", ") + std::string(sparse_scaled_gemm_tile_name(t));
  fail("unknown sparse scaled GEMM tile '" + std::string(name) + "' (" + known + ")");
}

SparseScaledGemmTile default_sparse_scaled_gemm_tile(int64_t m, int64_t n, int sm_count) {
  // Measured on the H200 (docs/PERF.md, "A CUTLASS structured-sparse GEMM"): the 256-token tile is
  // the faster at M=4096 and 32768 on every BitNet shape, and at M=512 on gate_up (216 tiles) but
  // not on down (40 tiles): with fewer tiles than SMs the smaller tile's parallelism wins.
  const int64_t wide_tiles = (n + 127) / 128 * ((m + 255) / 256);
  return wide_tiles >= sm_count ? SparseScaledGemmTile::Coop128x256 : SparseScaledGemmTile::Coop128x128;
}

bool sparse_scaled_gemm_available() {
  return sparse_scaled_gemm_detail::kernels_built() && cuda_device_available() &&
         query_device().compute_capability() == 90;
}

bool sparse_scaled_gemm_takes(int64_t n, int64_t k) { return n > 0 && k > 0 && n % 64 == 0 && k % 128 == 0; }

std::string sparse_scaled_gemm_kernel_name(int64_t n) { return "sparse_scaled_gemm_int8_n" + std::to_string(n); }

SparseScaledGemm::SparseScaledGemm(int64_t n, int64_t k) : n_(n), k_(k) {
  require(sparse_scaled_gemm_takes(n, k),
          "sparse scaled GEMM: N must be a multiple of 64 and K of 128, got N=" + std::to_string(n) +
              " K=" + std::to_string(k));
  require(sparse_scaled_gemm_available(),
          "the sparse scaled GEMM needs a Hopper GPU (compute capability 9.0) and a build for sm_90a");
  sm_count_ = query_device().sm_count;
}

int SparseScaledGemm::add_weight(const void* w, cudaStream_t stream) {
  const auto bytes = sparse_scaled_gemm_detail::compressed_bytes(n_, k_);
  Compressed c{DeviceBuffer(bytes.values, "compressed sparse weight"),
               DeviceBuffer(bytes.metadata, "sparse weight metadata")};
  sparse_scaled_gemm_detail::compress(w, n_, k_, c.values.data(), c.metadata.data(), sm_count_, stream);
  weights_.push_back(std::move(c));
  return static_cast<int>(weights_.size()) - 1;
}

void SparseScaledGemm::set_tile(int64_t m, SparseScaledGemmTile tile) { tiles_[m] = tile; }

SparseScaledGemmTile SparseScaledGemm::tile(int64_t m) const {
  const auto it = tiles_.find(m);
  return it != tiles_.end() ? it->second : default_sparse_scaled_gemm_tile(m, n_, sm_count_);
}

void SparseScaledGemm::run(int index, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* d,
                           int64_t m, cudaStream_t stream) const {
  const Compressed& w = weights_.at(static_cast<size_t>(index));
  sparse_scaled_gemm_detail::launch_int8(
      tile(m), {x, w.values.data(), w.metadata.data(), scale_x, scale_w, d, m, n_, k_, sm_count_}, stream);
}

void SparseScaledGemm::run_relu2_mul(int index, const void* x, const float* scale_w, const float* scale_x,
                                     __nv_bfloat16* out, int64_t m, cudaStream_t stream) const {
  const Compressed& w = weights_.at(static_cast<size_t>(index));
  sparse_scaled_gemm_detail::launch_int8_relu2_mul(
      tile(m), {x, w.values.data(), w.metadata.data(), scale_x, scale_w, out, m, n_, k_, sm_count_}, stream);
}

void SparseScaledGemm::run_residual_add(int index, const void* x, const float* scale_w, const float* scale_x,
                                        __nv_bfloat16* residual, int64_t m, cudaStream_t stream) const {
  const Compressed& w = weights_.at(static_cast<size_t>(index));
  sparse_scaled_gemm_detail::launch_int8_residual_add(
      tile(m), {x, w.values.data(), w.metadata.data(), scale_x, scale_w, residual, m, n_, k_, sm_count_}, stream);
}

}  // namespace slidesparse
