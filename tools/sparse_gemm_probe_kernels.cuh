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

#include "core/error.h"
#include "gemm/sparse_scaled_gemm_kernels.cuh"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "tools/sparse_gemm_probe_tiles.h"

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/util/packed_stride.hpp"

namespace slidesparse::sparse_probe {

using namespace cute;

// Output: one of the engine's epilogues (gemm/scaled_gemm_common.cuh, transposed); the plain one
// unless named. EpilogueTile: the subtile the epilogue walks the output tile in (CUTLASS's choice,
// 128x32 for these tiles, unless named).
template <class TileShape, class ClusterShape, class MainloopSchedule, class EpilogueSchedule,
          class Output = sparse_scaled_gemm_detail::DequantizeOutput,
          class EpilogueTile = cutlass::epilogue::collective::EpilogueTileAuto>
class CutlassSparseTile final : public SparseTile {
  using LayoutA = cutlass::layout::RowMajor;     // w [n, k]
  using LayoutB = cutlass::layout::ColumnMajor;  // x [tokens, k] read as [k, tokens] column-major
  using LayoutD = cutlass::layout::ColumnMajor;  // d [tokens, n] written as [n, tokens] column-major
  using CollectiveEpilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassSparseTensorOp, TileShape, ClusterShape,
      EpilogueTile, int32_t, float, typename Output::ElementC, LayoutD, 8,
      typename Output::ElementD, LayoutD, 8, EpilogueSchedule,
      typename Output::template Fusion<TileShape>>::CollectiveOp;
  static constexpr int kEpilogueBytes = static_cast<int>(sizeof(typename CollectiveEpilogue::SharedStorage));
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassSparseTensorOp, int8_t, LayoutA, 32, int8_t, LayoutB, 16, int32_t,
      TileShape, ClusterShape, cutlass::gemm::collective::StageCountAutoCarveout<kEpilogueBytes>,
      MainloopSchedule>::CollectiveOp;
  using ProblemShape = Shape<int, int, int, int>;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<ProblemShape, Mainloop, CollectiveEpilogue>;
  using Device = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
  using SparseConfig = typename Mainloop::SparseConfig;
  using ElementE = typename Mainloop::ElementE;
  static_assert(std::is_same_v<SparseConfig, sparse_scaled_gemm_detail::CompressedConfig>,
                "the probe's tiles read the engine's compressed layout (gemm/sparse_scaled_gemm_kernels.cuh)");

 public:
  explicit CutlassSparseTile(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Epilogue epilogue() const override {
    if constexpr (std::is_same_v<Output, sparse_scaled_gemm_detail::Relu2MulOutput>) return Epilogue::Relu2Mul;
    if constexpr (std::is_same_v<Output, sparse_scaled_gemm_detail::ResidualAddOutput>) return Epilogue::ResidualAdd;
    return Epilogue::Plain;
  }

  void compress(const void* w, int64_t n, int64_t k, int sm_count, cudaStream_t stream) override {
    n_ = static_cast<int>(n);
    k_ = static_cast<int>(k);
    sm_count_ = sm_count;
    const auto bytes = sparse_scaled_gemm_detail::compressed_bytes(n, k);
    a_ = DeviceBuffer(bytes.values, "compressed weight");
    e_ = DeviceBuffer(bytes.metadata, "weight metadata");
    sparse_scaled_gemm_detail::compress(w, n, k, a_.data(), e_.data(), sm_count, stream);
  }

  void run(const void* x, const float* scale_x, const float* scale_w, void* d, int64_t m, TileOrder order,
           cudaStream_t stream) override {
    const ProblemShape shape{n_, static_cast<int>(m), k_, 1};
    const auto stride_b = cutlass::make_cute_packed_stride(typename Kernel::StrideB{}, make_shape(int(m), k_, 1));
    const auto stride_d = cutlass::make_cute_packed_stride(typename Kernel::StrideD{}, make_shape(n_, int(m), 1));
    typename Device::Arguments args{
        cutlass::gemm::GemmUniversalMode::kGemm,
        shape,
        {static_cast<const int8_t*>(a_.data()), SparseConfig::fill_layoutA(shape), static_cast<const int8_t*>(x),
         stride_b, static_cast<const ElementE*>(e_.data()), SparseConfig::fill_layoutE(shape)},
        {{}, nullptr, stride_d, nullptr, stride_d}};
    scaled_gemm_detail::set_epilogue_arguments<Output, true>(
        args.epilogue, scale_x, scale_w, static_cast<__nv_bfloat16*>(d), n_ / 2);
    args.hw_info.sm_count = sm_count_;
    using Raster = cutlass::gemm::kernel::detail::RasterOrderOptions;
    // The transposed problem's M is the weight's rows, its N the tokens.
    args.scheduler.raster_order = order.raster == TileOrder::Raster::AlongWeightRows ? Raster::AlongM
                                  : order.raster == TileOrder::Raster::AlongTokens   ? Raster::AlongN
                                                                                      : Raster::Heuristic;
    args.scheduler.max_swizzle_size = order.swizzle;
    Device gemm;
    require(gemm.can_implement(args) == cutlass::Status::kSuccess, name_ + ": cannot run this problem");
    require(Device::get_workspace_size(args) == 0, name_ + ": needs a workspace");
    require(gemm.initialize(args, nullptr, stream) == cutlass::Status::kSuccess &&
                gemm.run(stream) == cutlass::Status::kSuccess,
            name_ + ": launch failed");
    CUDA_CHECK(cudaGetLastError());
  }

 private:
  std::string name_;
  int n_ = 0, k_ = 0, sm_count_ = 0;
  DeviceBuffer a_, e_;
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
