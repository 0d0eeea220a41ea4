// The CUTLASS 3 kernels of the sparse scaled GEMM (gemm/sparse_scaled_gemm.h), included only by its
// sm_90a translation units. Hopper's sparse tensor cores take the structured operand as A, so the
// weight is A and the problem runs transposed: rows = the weight's n, columns = the tokens, and D
// column-major [n, tokens] is d [tokens, n] row-major. The epilogues are the dense scaled GEMM's
// (gemm/scaled_gemm_kernels.cuh) with the broadcasts on the other sides, so on the same pruned
// weight the output bits equal the dense scaled GEMM's.
#pragma once

#include <string>
#include <type_traits>

#include "core/error.h"
#include "gemm/relu2_mul_store.cuh"
#include "gemm/scaled_gemm_common.cuh"
#include "gemm/sparse_scaled_gemm_launch.h"
#include "gpu/cuda_check.h"

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/util/packed_stride.hpp"

namespace slidesparse::sparse_scaled_gemm_detail {

using namespace cute;

// The dense scaled GEMM's epilogues, transposed (gemm/scaled_gemm_common.cuh).
using DequantizeOutput = scaled_gemm_detail::DequantizeOutput<true>;
using ResidualAddOutput = scaled_gemm_detail::ResidualAddOutput<true>;
using Relu2MulOutput = scaled_gemm_detail::Relu2MulOutput<scaled_gemm_detail::Sm90Relu2MulTransposedStore, true>;

using ProblemShape = Shape<int, int, int, int>;
using LayoutA = cutlass::layout::RowMajor;     // w [n, k]
using LayoutB = cutlass::layout::ColumnMajor;  // x [tokens, k] read as [k, tokens] column-major
using LayoutD = cutlass::layout::ColumnMajor;  // d [tokens, n] written as [n, tokens] column-major

// The engine's kernels are cooperative with CUTLASS's epilogue subtile on INT8 codes; tools/ probes
// also build other schedules, subtiles and (tools/sparse_fp8_probe) E4M3 codes with fp32
// accumulation from this.
template <class TileShape, class ClusterShape, class Output,
          class MainloopSchedule = cutlass::gemm::KernelTmaWarpSpecializedCooperative,
          class EpilogueSchedule = cutlass::epilogue::TmaWarpSpecializedCooperative,
          class EpilogueTile = cutlass::epilogue::collective::EpilogueTileAuto, class ElementCode = int8_t,
          class ElementAccumulator = int32_t>
struct Gemm {
  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassSparseTensorOp, TileShape, ClusterShape, EpilogueTile,
      ElementAccumulator, float, typename Output::ElementC, LayoutD, 8, typename Output::ElementD, LayoutD, 8,
      EpilogueSchedule, typename Output::template Fusion<TileShape>>::CollectiveOp;
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassSparseTensorOp, ElementCode, LayoutA, 32, ElementCode, LayoutB, 16,
      ElementAccumulator, TileShape, ClusterShape,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename Epilogue::SharedStorage))>,
      MainloopSchedule>::CollectiveOp;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<ProblemShape, Mainloop, Epilogue>;
  using Device = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
  using Out = Output;
  using Code = ElementCode;
};

// The compressed layout every tile reads: it depends on the element type and the K tile (128 for
// all of ours), not on the cluster; the static_assert in launch() holds to it.
using CompressedMainloop = typename Gemm<Shape<_128, _128, _128>, Shape<_1, _1, _1>, DequantizeOutput>::Mainloop;
using CompressedConfig = typename CompressedMainloop::SparseConfig;
using ElementE = typename CompressedMainloop::ElementE;

using RasterOrder = cutlass::gemm::kernel::detail::RasterOrderOptions;

// The transposed problem's M is the weight's rows, its N the tokens.
inline RasterOrder raster_order(SparseTileRaster raster) {
  return raster == SparseTileRaster::WeightRows ? RasterOrder::AlongM : RasterOrder::AlongN;
}

template <class G>
void launch(const Problem& p, RasterOrder raster, int swizzle, cudaStream_t stream) {
  using Device = typename G::Device;
  using Kernel = typename G::Kernel;
  using Code = typename G::Code;
  using Config = typename G::Mainloop::SparseConfig;
  static_assert(!std::is_same_v<Code, int8_t> || std::is_same_v<Config, CompressedConfig>,
                "every INT8 tile must read the one compressed layout");
  const int rows = static_cast<int>(p.n), tokens = static_cast<int>(p.m), k = static_cast<int>(p.k);
  const ProblemShape shape{rows, tokens, k, 1};
  const auto stride_b = cutlass::make_cute_packed_stride(typename Kernel::StrideB{}, make_shape(tokens, k, 1));
  const auto stride_d = cutlass::make_cute_packed_stride(typename Kernel::StrideD{}, make_shape(rows, tokens, 1));
  typename Device::Arguments args{
      cutlass::gemm::GemmUniversalMode::kGemm,
      shape,
      {static_cast<const Code*>(p.values), Config::fill_layoutA(shape), static_cast<const Code*>(p.x), stride_b,
       static_cast<const typename G::Mainloop::ElementE*>(p.metadata), Config::fill_layoutE(shape)},
      {{}, nullptr, stride_d, nullptr, stride_d}};
  scaled_gemm_detail::set_epilogue_arguments<typename G::Out, true>(args.epilogue, p.scale_x, p.scale_w, p.d,
                                                                     p.n / 2);
  args.hw_info.sm_count = p.sm_count;
  args.scheduler.raster_order = raster;
  args.scheduler.max_swizzle_size = swizzle;
  scaled_gemm_detail::run_gemm<Device>(args, "the sparse scaled GEMM", p.m, p.n, p.k, stream);
}

template <class Output>
void launch_schedule(const SparseScaledGemmSchedule& s, const Problem& p, cudaStream_t stream) {
  const RasterOrder raster = raster_order(s.raster);
  switch (s.tile) {
    case SparseScaledGemmTile::Coop128x256:
      return launch<Gemm<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Output>>(p, raster, s.swizzle, stream);
    case SparseScaledGemmTile::Coop128x256Cluster2x1:
      return launch<Gemm<Shape<_128, _256, _128>, Shape<_2, _1, _1>, Output>>(p, raster, s.swizzle, stream);
    case SparseScaledGemmTile::Coop128x256Cluster1x2:
      return launch<Gemm<Shape<_128, _256, _128>, Shape<_1, _2, _1>, Output>>(p, raster, s.swizzle, stream);
    case SparseScaledGemmTile::Coop128x128:
      return launch<Gemm<Shape<_128, _128, _128>, Shape<_1, _1, _1>, Output>>(p, raster, s.swizzle, stream);
  }
}

}  // namespace slidesparse::sparse_scaled_gemm_detail
