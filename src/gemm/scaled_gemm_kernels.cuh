// The CUTLASS 3 kernels of the scaled GEMM (gemm/scaled_gemm.h), included only by its sm_90a
// translation unit (SLIDESPARSE_HAVE_SM90A_GEMM; see src/CMakeLists.txt).
#pragma once

#include <string>

#include "core/error.h"
#include "gemm/relu2_mul_store.cuh"
#include "gemm/scaled_gemm_common.cuh"
#include "gemm/scaled_gemm_launch.h"
#include "gpu/cuda_check.h"

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/util/packed_stride.hpp"

namespace slidesparse::scaled_gemm_detail {

using namespace cute;

template <class Element, class Accumulator, class TileShape, class ClusterShape, class MainloopSchedule,
          class EpilogueSchedule, class Output>
struct Gemm {
  using LayoutA = cutlass::layout::RowMajor;     // x [m, k]
  using LayoutB = cutlass::layout::ColumnMajor;  // w [n, k] read as [k, n] column-major
  using LayoutD = cutlass::layout::RowMajor;     // d [m, n]
  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
      cutlass::epilogue::collective::EpilogueTileAuto, Accumulator, float, typename Output::ElementC, LayoutD, 8,
      typename Output::ElementD, LayoutD, 8, EpilogueSchedule, typename Output::template Fusion<TileShape>>::CollectiveOp;
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, Element, LayoutA, 16, Element, LayoutB, 16, Accumulator,
      TileShape, ClusterShape,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename Epilogue::SharedStorage))>,
      MainloopSchedule>::CollectiveOp;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<Shape<int, int, int, int>, Mainloop, Epilogue>;
  using Device = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
  using Out = Output;
};

template <class G>
void launch(const Problem& p, cudaStream_t stream) {
  using Device = typename G::Device;
  using Kernel = typename G::Kernel;
  using ElementA = typename Kernel::ElementA;
  const int m = static_cast<int>(p.m), n = static_cast<int>(p.n), k = static_cast<int>(p.k);
  const auto stride_a = cutlass::make_cute_packed_stride(typename Kernel::StrideA{}, make_shape(m, k, 1));
  const auto stride_b = cutlass::make_cute_packed_stride(typename Kernel::StrideB{}, make_shape(n, k, 1));
  const auto stride_d = cutlass::make_cute_packed_stride(typename Kernel::StrideD{}, make_shape(m, n, 1));
  typename Device::Arguments args{
      cutlass::gemm::GemmUniversalMode::kGemm,
      {m, n, k, 1},
      {static_cast<const ElementA*>(p.x), stride_a, static_cast<const ElementA*>(p.w), stride_b},
      {{}, nullptr, stride_d, nullptr, stride_d}};
  set_epilogue_arguments<typename G::Out, false>(args.epilogue, p.scale_x, p.scale_w, p.d, p.n / 2);
  if constexpr (requires { args.mainloop.mma_promotion_interval; }) {
    args.mainloop.mma_promotion_interval = p.fp8_promotion_interval;
  }
  args.hw_info.sm_count = p.sm_count;
  run_gemm<Device>(args, "the scaled GEMM", p.m, p.n, p.k, stream);
}

// The tiles for one input type, its mainloop schedules and one of the epilogues.
template <class Element, class Accumulator, class CoopSchedule, class PingpongSchedule, class Output>
void launch_tile(ScaledGemmTile tile, const Problem& p, cudaStream_t stream) {
  using CoopEpilogue = cutlass::epilogue::TmaWarpSpecializedCooperative;
  using PingpongEpilogue = cutlass::epilogue::TmaWarpSpecialized;
  switch (tile) {
    case ScaledGemmTile::Coop128x256:
      return launch<Gemm<Element, Accumulator, Shape<_128, _256, _128>, Shape<_2, _1, _1>, CoopSchedule,
                         CoopEpilogue, Output>>(p, stream);
    case ScaledGemmTile::Coop128x128:
      return launch<Gemm<Element, Accumulator, Shape<_128, _128, _128>, Shape<_2, _1, _1>, CoopSchedule,
                         CoopEpilogue, Output>>(p, stream);
    case ScaledGemmTile::Pingpong64x128:
      return launch<Gemm<Element, Accumulator, Shape<_64, _128, _128>, Shape<_1, _1, _1>, PingpongSchedule,
                         PingpongEpilogue, Output>>(p, stream);
    case ScaledGemmTile::Pingpong128x128:
      return launch<Gemm<Element, Accumulator, Shape<_128, _128, _128>, Shape<_2, _1, _1>, PingpongSchedule,
                         PingpongEpilogue, Output>>(p, stream);
  }
}

}  // namespace slidesparse::scaled_gemm_detail
