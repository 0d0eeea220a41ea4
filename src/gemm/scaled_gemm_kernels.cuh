// The CUTLASS 3 kernels of the scaled GEMM (gemm/scaled_gemm.h), included only by its sm_90a
// translation unit (SLIDESPARSE_HAVE_SM90A_GEMM; see src/CMakeLists.txt).
#pragma once

#include <string>
#include <type_traits>

#include "core/error.h"
#include "gemm/relu2_mul_store.cuh"
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
namespace fusion = cutlass::epilogue::fusion;

// The dequantized accumulator as a visitor tree: (float(acc) * scale_x[m]) * scale_w[n], the order
// of the unfused dequantization (kernels/acc_view.cuh), so the bits agree; Compute rounds to Out.
template <class Out, class TileShape>
using Dequantized = fusion::Sm90EVT<
    fusion::Sm90Compute<cutlass::multiplies, Out, float, cutlass::FloatRoundStyle::round_to_nearest>,
    fusion::Sm90EVT<fusion::Sm90Compute<cutlass::multiplies, float, float, cutlass::FloatRoundStyle::round_to_nearest>,
                    fusion::Sm90AccFetch,
                    fusion::Sm90ColBroadcast<0, TileShape, float, float, Stride<_1, _0, int64_t>>>,
    fusion::Sm90RowBroadcast<0, TileShape, float, float, Stride<_0, _1, int64_t>>>;

// The three epilogues: the dequantized values rounded once to bf16 and stored as the tile's D; the
// same added to the residual stream, read as the tile's C and written back in place as D,
// bf16(float(residual) + float(bf16(value))) as the residual norms compute it; or handed in float to
// the relu2*up store (gemm/relu2_mul_store.cuh), D void.
struct DequantizeOutput {
  using ElementC = void;
  using ElementD = cutlass::bfloat16_t;
  template <class TileShape>
  using Fusion = Dequantized<cutlass::bfloat16_t, TileShape>;
};
struct ResidualAddOutput {
  using ElementC = cutlass::bfloat16_t;
  using ElementD = cutlass::bfloat16_t;
  template <class TileShape>
  using Fusion =
      fusion::Sm90EVT<fusion::Sm90Compute<cutlass::plus, cutlass::bfloat16_t, float,
                                          cutlass::FloatRoundStyle::round_to_nearest>,
                      fusion::Sm90SrcFetch<cutlass::bfloat16_t>, Dequantized<cutlass::bfloat16_t, TileShape>>;
};
struct Relu2MulOutput {
  using ElementC = void;
  using ElementD = void;
  template <class TileShape>
  using Fusion = fusion::Sm90EVT<Sm90Relu2MulStore, Dequantized<float, TileShape>>;
};

// The same on the sparse GEMM's gate_up order (Sm90Relu2MulBlockStore).
struct Relu2MulBlockOutput {
  using ElementC = void;
  using ElementD = void;
  template <class TileShape>
  using Fusion = fusion::Sm90EVT<Sm90Relu2MulBlockStore, Dequantized<float, TileShape>>;
};

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
  // The epilogue's arguments nest as its tree, {children..., node}; the broadcasts take {pointer,
  // default, stride}.
  auto& fusion_args = args.epilogue.thread;
  if constexpr (std::is_void_v<typename G::Out::ElementD>) {
    fusion_args = {{{{}, {p.scale_x, 0.0f, {_1{}, _0{}, int64_t{0}}}, {}}, {p.scale_w, 0.0f, {_0{}, _1{}, int64_t{0}}}, {}},
                   {p.d, p.n / 2}};
  } else if constexpr (std::is_void_v<typename G::Out::ElementC>) {
    fusion_args = {{{}, {p.scale_x, 0.0f, {_1{}, _0{}, int64_t{0}}}, {}}, {p.scale_w, 0.0f, {_0{}, _1{}, int64_t{0}}}, {}};
    args.epilogue.ptr_D = reinterpret_cast<cutlass::bfloat16_t*>(p.d);
  } else {
    // The residual stream is C and D at once: each tile reads its C before writing the same D.
    fusion_args = {{},
                   {{{}, {p.scale_x, 0.0f, {_1{}, _0{}, int64_t{0}}}, {}}, {p.scale_w, 0.0f, {_0{}, _1{}, int64_t{0}}}, {}},
                   {}};
    args.epilogue.ptr_C = reinterpret_cast<const cutlass::bfloat16_t*>(p.d);
    args.epilogue.ptr_D = reinterpret_cast<cutlass::bfloat16_t*>(p.d);
  }
  if constexpr (requires { args.mainloop.mma_promotion_interval; }) {
    args.mainloop.mma_promotion_interval = p.fp8_promotion_interval;
  }
  args.hw_info.sm_count = p.sm_count;
  // Messages are built only on failure: this runs once per linear layer of every eager step.
  auto failed = [&p](const char* what) {
    fail("the scaled GEMM " + std::string(what) + " M=" + std::to_string(p.m) + " N=" + std::to_string(p.n) +
         " K=" + std::to_string(p.k));
  };
  Device gemm;
  if (gemm.can_implement(args) != cutlass::Status::kSuccess) failed("cannot run");
  // The persistent data-parallel schedule (no split-K) needs no workspace.
  if (Device::get_workspace_size(args) != 0) failed("unexpectedly needs a workspace for");
  if (gemm.initialize(args, nullptr, stream) != cutlass::Status::kSuccess) failed("could not be set up for");
  if (gemm.run(stream) != cutlass::Status::kSuccess) failed("failed to launch for");
  CUDA_CHECK(cudaGetLastError());
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
