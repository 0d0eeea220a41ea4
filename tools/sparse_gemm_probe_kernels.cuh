// CUTLASS 3 sm_90a structured-sparse INT8 GEMMs for tools/sparse_gemm_probe: the 2:4 weight is the
// sparse operand A, so the problem runs transposed (rows = the weight's N, columns = tokens) and
// writes d [tokens, N] row-major as a column-major D. The epilogue applies both scales as the scaled
// GEMM does, (float(acc) * scale_x[token]) * scale_w[n] rounded once to bf16, so on the same pruned
// weight the output bits equal the dense scaled GEMM's.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gemm/sparse_scaled_gemm_kernels.cuh"  // the kernels, their launch and CUTLASS's headers
#include "gpu/device_buffer.h"
#include "tools/sparse_gemm_probe_tiles.h"

namespace slidesparse::sparse_probe {

using namespace cute;

// A tile running kernel G (a sparse_scaled_gemm_detail::Gemm) on a weight that a derived class
// compresses into G's layout (a_ values, e_ metadata) at compress().
template <class G>
class CompressedSparseTile : public SparseTile {
 public:
  explicit CompressedSparseTile(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }

  void run(const void* x, const float* scale_x, const float* scale_w, void* d, int64_t m, TileOrder order,
           cudaStream_t stream) override {
    using sparse_scaled_gemm_detail::RasterOrder;
    const RasterOrder raster = order.raster == TileOrder::Raster::AlongWeightRows ? RasterOrder::AlongM
                               : order.raster == TileOrder::Raster::AlongTokens   ? RasterOrder::AlongN
                                                                                   : RasterOrder::Heuristic;
    sparse_scaled_gemm_detail::launch<G>({x, a_.data(), e_.data(), scale_x, scale_w, static_cast<__nv_bfloat16*>(d),
                                          m, n_, k_, sm_count_},
                                         raster, order.swizzle, stream);
  }

 protected:
  std::string name_;
  int64_t n_ = 0, k_ = 0;
  int sm_count_ = 0;
  DeviceBuffer a_, e_;
};

// On INT8 codes, compressed as the engine compresses them. Output: one of the engine's epilogues
// (gemm/scaled_gemm_common.cuh, transposed); the plain one unless named. EpilogueTile: the subtile
// the epilogue walks the output tile in (CUTLASS's choice, 128x32 for these tiles, unless named).
// The kernel and its launch are the engine's (gemm/sparse_scaled_gemm_kernels.cuh), with the
// schedules given here.
template <class TileShape, class ClusterShape, class MainloopSchedule, class EpilogueSchedule,
          class Output = sparse_scaled_gemm_detail::DequantizeOutput,
          class EpilogueTile = cutlass::epilogue::collective::EpilogueTileAuto>
class CutlassSparseTile final
    : public CompressedSparseTile<sparse_scaled_gemm_detail::Gemm<TileShape, ClusterShape, Output, MainloopSchedule,
                                                                  EpilogueSchedule, EpilogueTile>> {
  using Base = CompressedSparseTile<sparse_scaled_gemm_detail::Gemm<TileShape, ClusterShape, Output, MainloopSchedule,
                                                                     EpilogueSchedule, EpilogueTile>>;

 public:
  using Base::Base;
  SparseTile::Epilogue epilogue() const override {
    if constexpr (std::is_same_v<Output, sparse_scaled_gemm_detail::Relu2MulOutput>)
      return SparseTile::Epilogue::Relu2Mul;
    if constexpr (std::is_same_v<Output, sparse_scaled_gemm_detail::ResidualAddOutput>)
      return SparseTile::Epilogue::ResidualAdd;
    return SparseTile::Epilogue::Plain;
  }

  void compress(const void* w, int64_t n, int64_t k, int sm_count, cudaStream_t stream) override {
    this->n_ = n;
    this->k_ = k;
    this->sm_count_ = sm_count;
    const auto bytes = sparse_scaled_gemm_detail::compressed_bytes(n, k);
    this->a_ = DeviceBuffer(bytes.values, "compressed weight");
    this->e_ = DeviceBuffer(bytes.metadata, "weight metadata");
    sparse_scaled_gemm_detail::compress(w, n, k, this->a_.data(), this->e_.data(), sm_count, stream);
  }
};

// Adds one cooperative tile (both consumer warpgroups on one output tile, the epilogue after its
// mainloop) with the given output.
template <class TileShape, class ClusterShape, class Output = sparse_scaled_gemm_detail::DequantizeOutput,
          class EpilogueTile = cutlass::epilogue::collective::EpilogueTileAuto>
void add_cooperative(std::vector<std::unique_ptr<SparseTile>>& tiles, const std::string& name) {
  using Tile = CutlassSparseTile<TileShape, ClusterShape, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
                                 cutlass::epilogue::TmaWarpSpecializedCooperative, Output, EpilogueTile>;
  tiles.push_back(std::make_unique<Tile>(name));
}

// The same for a ping-pong tile (each consumer warpgroup on its own output tile, one's epilogue
// overlapping the other's mainloop).
template <class TileShape, class ClusterShape, class Output = sparse_scaled_gemm_detail::DequantizeOutput>
void add_pingpong(std::vector<std::unique_ptr<SparseTile>>& tiles, const std::string& name) {
  using Tile = CutlassSparseTile<TileShape, ClusterShape, cutlass::gemm::KernelTmaWarpSpecializedPingpong,
                                 cutlass::epilogue::TmaWarpSpecialized, Output>;
  tiles.push_back(std::make_unique<Tile>(name));
}

// The tiles timed with one of the engine's fused epilogues (tools/sparse_gemm_probe_relu2_mul.cu,
// tools/sparse_gemm_probe_residual.cu).
template <class Output>
void add_epilogue_tiles(std::vector<std::unique_ptr<SparseTile>>& tiles, const std::string& suffix) {
  add_cooperative<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Output>(tiles, "coop-128x256x128-1x1" + suffix);
  add_cooperative<Shape<_128, _256, _128>, Shape<_2, _1, _1>, Output>(tiles, "coop-128x256x128-2x1" + suffix);
  add_pingpong<Shape<_128, _128, _128>, Shape<_1, _1, _1>, Output>(tiles, "pingpong-128x128x128-1x1" + suffix);
  add_pingpong<Shape<_64, _256, _128>, Shape<_1, _1, _1>, Output>(tiles, "pingpong-64x256x128-1x1" + suffix);
}

}  // namespace slidesparse::sparse_probe
