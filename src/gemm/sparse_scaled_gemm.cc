#include "gemm/sparse_scaled_gemm.h"

#include "core/error.h"
#include "gemm/sparse_scaled_gemm_launch.h"
#include "gpu/device_info.h"

namespace slidesparse {

namespace {

constexpr SparseScaledGemmTile kTiles[] = {
    SparseScaledGemmTile::Coop128x256, SparseScaledGemmTile::Coop128x256Cluster2x1,
    SparseScaledGemmTile::Coop128x256Cluster1x2, SparseScaledGemmTile::Coop128x128};
constexpr SparseTileRaster kRasters[] = {SparseTileRaster::WeightRows, SparseTileRaster::Tokens};

// Output tiles of a tile with `tokens` columns on m rows of tokens and n weight rows.
int64_t output_tiles(int64_t m, int64_t n, int64_t tokens) { return (n + 127) / 128 * ((m + tokens - 1) / tokens); }

int64_t tile_tokens(SparseScaledGemmTile tile) { return tile == SparseScaledGemmTile::Coop128x128 ? 128 : 256; }

template <class T, size_t N>
T parse_name(std::string_view name, const T (&values)[N], std::string_view (*name_of)(T), const char* what) {
  for (T v : values)
    if (name_of(v) == name) return v;
  std::string known;
  for (T v : values) known += (known.empty() ? "" : ", ") + std::string(name_of(v));
  fail("unknown " + std::string(what) + " '" + std::string(name) + "' (" + known + ")");
}

}  // namespace

std::span<const SparseScaledGemmTile> sparse_scaled_gemm_tiles() { return kTiles; }

std::string_view sparse_scaled_gemm_tile_name(SparseScaledGemmTile tile) {
  switch (tile) {
    case SparseScaledGemmTile::Coop128x256: return "coop-128x256-1x1";
    case SparseScaledGemmTile::Coop128x256Cluster2x1: return "coop-128x256-2x1";
    case SparseScaledGemmTile::Coop128x256Cluster1x2: return "coop-128x256-1x2";
    case SparseScaledGemmTile::Coop128x128: return "coop-128x128-1x1";
  }
  return "?";
}

SparseScaledGemmTile parse_sparse_scaled_gemm_tile(std::string_view name) {
  return parse_name(name, kTiles, sparse_scaled_gemm_tile_name, "sparse scaled GEMM tile");
}

std::string_view sparse_tile_raster_name(SparseTileRaster raster) {
  return raster == SparseTileRaster::WeightRows ? "weight-rows" : "tokens";
}

SparseTileRaster parse_sparse_tile_raster(std::string_view name) {
  return parse_name(name, kRasters, sparse_tile_raster_name, "sparse scaled GEMM tile order");
}

std::string describe_sparse_scaled_gemm_schedule(const SparseScaledGemmSchedule& schedule) {
  return std::string(sparse_scaled_gemm_tile_name(schedule.tile)) + " " +
         std::string(sparse_tile_raster_name(schedule.raster)) + "/" + std::to_string(schedule.swizzle);
}

void check_sparse_scaled_gemm_swizzle(int swizzle) {
  require(swizzle == 1 || swizzle == 2 || swizzle == 4 || swizzle == 8,
          "sparse scaled GEMM swizzle must be 1, 2, 4 or 8, got " + std::to_string(swizzle));
}

SparseScaledGemmSchedule default_sparse_scaled_gemm_schedule(int64_t m, int64_t n, int sm_count) {
  // Measured on the H100 and H200 (docs/PERF.md, "The sparse scaled GEMM's tiles, clusters and
  // orders"): the 256-token tile is the faster at M >= 4096 on every BitNet shape, the 128-token one
  // where the wide tile leaves SMs idle; walking the weight's rows first is never far from the best
  // order, while CUTLASS's own choice walks the tokens first at M=4096 and loses up to 30% there.
  const bool wide = output_tiles(m, n, 256) >= sm_count;
  return {wide ? SparseScaledGemmTile::Coop128x256 : SparseScaledGemmTile::Coop128x128, SparseTileRaster::WeightRows,
          1};
}

std::vector<SparseScaledGemmSchedule> sparse_scaled_gemm_candidates(int64_t m, int64_t n, int sm_count) {
  std::vector<SparseScaledGemmSchedule> candidates;
  for (SparseScaledGemmTile tile : kTiles) {
    candidates.push_back({tile, SparseTileRaster::WeightRows, 1});
    if (output_tiles(m, n, tile_tokens(tile)) <= sm_count) continue;  // one wave: the order changes nothing
    for (SparseTileRaster raster : kRasters)
      for (int swizzle : {1, 2, 4})
        if (raster != SparseTileRaster::WeightRows || swizzle != 1) candidates.push_back({tile, raster, swizzle});
  }
  return candidates;
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

void SparseScaledGemm::set_schedule(int64_t m, const SparseScaledGemmSchedule& schedule) {
  check_sparse_scaled_gemm_swizzle(schedule.swizzle);
  schedules_[m] = schedule;
}

SparseScaledGemmSchedule SparseScaledGemm::schedule(int64_t m) const {
  const auto it = schedules_.find(m);
  return it != schedules_.end() ? it->second : default_sparse_scaled_gemm_schedule(m, n_, sm_count_);
}

void SparseScaledGemm::run(int index, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* d,
                           int64_t m, cudaStream_t stream) const {
  const Compressed& w = weights_.at(static_cast<size_t>(index));
  sparse_scaled_gemm_detail::launch_int8(
      schedule(m), {x, w.values.data(), w.metadata.data(), scale_x, scale_w, d, m, n_, k_, sm_count_}, stream);
}

void SparseScaledGemm::run_relu2_mul(int index, const void* x, const float* scale_w, const float* scale_x,
                                     __nv_bfloat16* out, int64_t m, cudaStream_t stream) const {
  const Compressed& w = weights_.at(static_cast<size_t>(index));
  sparse_scaled_gemm_detail::launch_int8_relu2_mul(
      schedule(m), {x, w.values.data(), w.metadata.data(), scale_x, scale_w, out, m, n_, k_, sm_count_}, stream);
}

void SparseScaledGemm::run_residual_add(int index, const void* x, const float* scale_w, const float* scale_x,
                                        __nv_bfloat16* residual, int64_t m, cudaStream_t stream) const {
  const Compressed& w = weights_.at(static_cast<size_t>(index));
  sparse_scaled_gemm_detail::launch_int8_residual_add(
      schedule(m), {x, w.values.data(), w.metadata.data(), scale_x, scale_w, residual, m, n_, k_, sm_count_}, stream);
}

}  // namespace slidesparse
