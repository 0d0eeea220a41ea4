// What the kernels of both scaled GEMMs share (gemm/scaled_gemm_kernels.cuh, dense: tokens are the
// tile's rows; gemm/sparse_scaled_gemm_kernels.cuh, transposed: tokens are its columns): the
// epilogue visitor trees, their arguments for one launch, and the launch. Included only by sm_90a
// translation units.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "gpu/cuda_check.h"

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"

namespace slidesparse::scaled_gemm_detail {

using namespace cute;
namespace fusion = cutlass::epilogue::fusion;

// The per-token scale broadcasts along the weight's channels and the per-channel one along the
// tokens; which mode is which depends on the orientation.
template <bool Transposed>
using TokenStride = std::conditional_t<Transposed, Stride<_0, _1, int64_t>, Stride<_1, _0, int64_t>>;
template <bool Transposed>
using ChannelStride = TokenStride<!Transposed>;
template <class TileShape, bool Transposed>
using TokenScale =
    std::conditional_t<Transposed, fusion::Sm90RowBroadcast<0, TileShape, float, float, TokenStride<Transposed>>,
                       fusion::Sm90ColBroadcast<0, TileShape, float, float, TokenStride<Transposed>>>;
template <class TileShape, bool Transposed>
using ChannelScale =
    std::conditional_t<Transposed, fusion::Sm90ColBroadcast<0, TileShape, float, float, ChannelStride<Transposed>>,
                       fusion::Sm90RowBroadcast<0, TileShape, float, float, ChannelStride<Transposed>>>;

// The dequantized accumulator: (float(acc) * scale_x[token]) * scale_w[channel], the order of the
// unfused dequantization (kernels/acc_view.cuh), so the bits agree; Compute rounds to Out.
template <class Out, class TileShape, bool Transposed>
using Dequantized = fusion::Sm90EVT<
    fusion::Sm90Compute<cutlass::multiplies, Out, float, cutlass::FloatRoundStyle::round_to_nearest>,
    fusion::Sm90EVT<fusion::Sm90Compute<cutlass::multiplies, float, float, cutlass::FloatRoundStyle::round_to_nearest>,
                    fusion::Sm90AccFetch, TokenScale<TileShape, Transposed>>,
    ChannelScale<TileShape, Transposed>>;

// The three epilogues: the dequantized values rounded once to bf16 and stored as the tile's D; the
// same added to the residual stream, read as the tile's C and written back in place as D,
// bf16(float(residual) + float(bf16(value))) as the residual norms compute it; or handed in float to
// an MLP store node (gemm/relu2_mul_store.cuh) that writes relu2(gate) * up itself, D void.
template <bool Transposed>
struct DequantizeOutput {
  using ElementC = void;
  using ElementD = cutlass::bfloat16_t;
  template <class TileShape>
  using Fusion = Dequantized<cutlass::bfloat16_t, TileShape, Transposed>;
};
template <bool Transposed>
struct ResidualAddOutput {
  using ElementC = cutlass::bfloat16_t;
  using ElementD = cutlass::bfloat16_t;
  template <class TileShape>
  using Fusion =
      fusion::Sm90EVT<fusion::Sm90Compute<cutlass::plus, cutlass::bfloat16_t, float,
                                          cutlass::FloatRoundStyle::round_to_nearest>,
                      fusion::Sm90SrcFetch<cutlass::bfloat16_t>, Dequantized<cutlass::bfloat16_t, TileShape, Transposed>>;
};
template <class Store, bool Transposed>
struct Relu2MulOutput {
  using ElementC = void;
  using ElementD = void;
  template <class TileShape>
  using Fusion = fusion::Sm90EVT<Store, Dequantized<float, TileShape, Transposed>>;
};

// Fills the collective epilogue's arguments for one launch: the scales, and d as D (plain), as C
// and D at once (residual: each tile reads its C before writing the same D), or as the MLP node's
// output of `features` columns per token. The tree's arguments nest as the tree, {children...,
// node}; the broadcasts take {pointer, default, stride}.
template <class Output, bool Transposed, class EpilogueArguments>
void set_epilogue_arguments(EpilogueArguments& e, const float* scale_x, const float* scale_w, __nv_bfloat16* d,
                            int64_t features) {
  const TokenStride<Transposed> x_stride{};
  const ChannelStride<Transposed> w_stride{};
  if constexpr (std::is_void_v<typename Output::ElementD>) {
    e.thread = {{{{}, {scale_x, 0.0f, x_stride}, {}}, {scale_w, 0.0f, w_stride}, {}}, {d, features}};
  } else if constexpr (std::is_void_v<typename Output::ElementC>) {
    e.thread = {{{}, {scale_x, 0.0f, x_stride}, {}}, {scale_w, 0.0f, w_stride}, {}};
    e.ptr_D = reinterpret_cast<cutlass::bfloat16_t*>(d);
  } else {
    e.thread = {{}, {{{}, {scale_x, 0.0f, x_stride}, {}}, {scale_w, 0.0f, w_stride}, {}}, {}};
    e.ptr_C = reinterpret_cast<const cutlass::bfloat16_t*>(d);
    e.ptr_D = reinterpret_cast<cutlass::bfloat16_t*>(d);
  }
}

// Sets up and launches one GEMM of the persistent data-parallel schedules (no split-K, so no
// workspace); Error naming `gemm` and the problem where CUTLASS refuses it. The message is built
// only on failure: this runs once per linear layer of every eager step.
template <class Device>
void run_gemm(const typename Device::Arguments& args, const char* gemm, int64_t m, int64_t n, int64_t k,
              cudaStream_t stream) {
  auto failed = [&](const char* what) {
    fail(std::string(gemm) + " " + what + " M=" + std::to_string(m) + " N=" + std::to_string(n) +
         " K=" + std::to_string(k));
  };
  Device device;
  if (device.can_implement(args) != cutlass::Status::kSuccess) failed("cannot run");
  if (Device::get_workspace_size(args) != 0) failed("unexpectedly needs a workspace for");
  if (device.initialize(args, nullptr, stream) != cutlass::Status::kSuccess) failed("could not be set up for");
  if (device.run(stream) != cutlass::Status::kSuccess) failed("failed to launch for");
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace slidesparse::scaled_gemm_detail
