#include "gemm/cutlass_scaled_gemm.h"

#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"

// CUTLASS's Hopper collectives compile to real kernels only for sm_90a; this file is built for that
// architecture alone (src/CMakeLists.txt), and a build without it answers scaled_gemm_available() false.
#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/util/packed_stride.hpp"
#endif

namespace slidesparse {

namespace {

constexpr ScaledGemmTile kTiles[] = {ScaledGemmTile::Coop128x256, ScaledGemmTile::Coop128x128,
                                     ScaledGemmTile::Pingpong64x128};

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
using namespace cute;
namespace fusion = cutlass::epilogue::fusion;

// The epilogue as a visitor tree: (float(acc) * scale_x[m]) * scale_w[n], rounded once to bf16 —
// the order and rounding of the unfused dequantization (kernels/acc_view.cuh), so the bits agree.
template <class TileShape>
using ScaleEpilogue = fusion::Sm90EVT<
    fusion::Sm90Compute<cutlass::multiplies, cutlass::bfloat16_t, float, cutlass::FloatRoundStyle::round_to_nearest>,
    fusion::Sm90EVT<fusion::Sm90Compute<cutlass::multiplies, float, float, cutlass::FloatRoundStyle::round_to_nearest>,
                    fusion::Sm90AccFetch,
                    fusion::Sm90ColBroadcast<0, TileShape, float, float, Stride<_1, _0, int64_t>>>,
    fusion::Sm90RowBroadcast<0, TileShape, float, float, Stride<_0, _1, int64_t>>>;

template <class TileShape, class ClusterShape, class MainloopSchedule, class EpilogueSchedule>
struct Int8ScaledGemm {
  using LayoutA = cutlass::layout::RowMajor;     // x [m, k]
  using LayoutB = cutlass::layout::ColumnMajor;  // w [n, k] read as [k, n] column-major
  using LayoutD = cutlass::layout::RowMajor;     // d [m, n]
  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
      cutlass::epilogue::collective::EpilogueTileAuto, int32_t, float, void, LayoutD, 8, cutlass::bfloat16_t, LayoutD, 8,
      EpilogueSchedule, ScaleEpilogue<TileShape>>::CollectiveOp;
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, int8_t, LayoutA, 16, int8_t, LayoutB, 16, int32_t, TileShape,
      ClusterShape,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename Epilogue::SharedStorage))>,
      MainloopSchedule>::CollectiveOp;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<Shape<int, int, int, int>, Mainloop, Epilogue>;
  using Device = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
};

using Coop128x256 = Int8ScaledGemm<Shape<_128, _256, _128>, Shape<_2, _1, _1>,
                                   cutlass::gemm::KernelTmaWarpSpecializedCooperative,
                                   cutlass::epilogue::TmaWarpSpecializedCooperative>;
using Coop128x128 = Int8ScaledGemm<Shape<_128, _128, _128>, Shape<_2, _1, _1>,
                                   cutlass::gemm::KernelTmaWarpSpecializedCooperative,
                                   cutlass::epilogue::TmaWarpSpecializedCooperative>;
using Pingpong64x128 = Int8ScaledGemm<Shape<_64, _128, _128>, Shape<_1, _1, _1>,
                                      cutlass::gemm::KernelTmaWarpSpecializedPingpong,
                                      cutlass::epilogue::TmaWarpSpecialized>;

template <class G>
void launch(const int8_t* x, const int8_t* w, const float* scale_x, const float* scale_w, __nv_bfloat16* d, int64_t m,
            int64_t n, int64_t k, int sm_count, cudaStream_t stream) {
  using Device = typename G::Device;
  using Kernel = typename G::Kernel;
  const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
  const auto stride_a = cutlass::make_cute_packed_stride(typename Kernel::StrideA{}, make_shape(M, K, 1));
  const auto stride_b = cutlass::make_cute_packed_stride(typename Kernel::StrideB{}, make_shape(N, K, 1));
  const auto stride_d = cutlass::make_cute_packed_stride(typename Kernel::StrideD{}, make_shape(M, N, 1));
  typename Device::Arguments args{
      cutlass::gemm::GemmUniversalMode::kGemm,
      {M, N, K, 1},
      {x, stride_a, w, stride_b},
      {{{{}, {scale_x, 0.0f, {_1{}, _0{}, int64_t{0}}}, {}}, {scale_w, 0.0f, {_0{}, _1{}, int64_t{0}}}, {}},
       nullptr,
       stride_d,
       reinterpret_cast<cutlass::bfloat16_t*>(d),
       stride_d}};
  args.hw_info.sm_count = sm_count;
  Device gemm;
  require(gemm.can_implement(args) == cutlass::Status::kSuccess,
          "CUTLASS INT8 GEMM cannot run M=" + std::to_string(m) + " N=" + std::to_string(n) + " K=" + std::to_string(k));
  // The persistent data-parallel schedule (no split-K) needs no workspace.
  require(Device::get_workspace_size(args) == 0, "CUTLASS INT8 GEMM unexpectedly needs a workspace");
  require(gemm.initialize(args, nullptr, stream) == cutlass::Status::kSuccess, "CUTLASS INT8 GEMM: initialize failed");
  require(gemm.run(stream) == cutlass::Status::kSuccess, "CUTLASS INT8 GEMM: launch failed");
  CUDA_CHECK(cudaGetLastError());
}
#endif

}  // namespace

std::span<const ScaledGemmTile> scaled_gemm_tiles() { return kTiles; }

std::string_view scaled_gemm_tile_name(ScaledGemmTile tile) {
  switch (tile) {
    case ScaledGemmTile::Coop128x256: return "coop-128x256";
    case ScaledGemmTile::Coop128x128: return "coop-128x128";
    case ScaledGemmTile::Pingpong64x128: return "pingpong-64x128";
  }
  return "?";
}

ScaledGemmTile parse_scaled_gemm_tile(std::string_view name) {
  for (ScaledGemmTile t : kTiles)
    if (scaled_gemm_tile_name(t) == name) return t;
  fail("unknown CUTLASS GEMM tile '" + std::string(name) + "' (coop-128x256, coop-128x128, pingpong-64x128)");
}

ScaledGemmTile default_scaled_gemm_tile(int64_t m) {
  // The fastest on the BitNet-2B shapes on the H200 (docs/PERF.md): ping-pong up to 512 rows, the
  // 256-wide cooperative tile from 4096.
  return m <= 512 ? ScaledGemmTile::Pingpong64x128 : m < 4096 ? ScaledGemmTile::Coop128x128
                                                              : ScaledGemmTile::Coop128x256;
}

bool scaled_gemm_available() {
#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
  return cuda_device_available() && query_device().compute_capability() == 90;
#else
  return false;
#endif
}

ScaledGemmInt8::ScaledGemmInt8(int64_t n, int64_t k) : n_(n), k_(k) {
  require(n > 0 && k > 0 && n % 8 == 0 && k % 16 == 0,
          "CUTLASS INT8 GEMM: N must be a multiple of 8 and K of 16, got N=" + std::to_string(n) +
              " K=" + std::to_string(k));
  require(scaled_gemm_available(),
          "the CUTLASS INT8 GEMM needs a Hopper GPU (compute capability 9.0) and a build for sm_90a");
  sm_count_ = query_device().sm_count;
}

void ScaledGemmInt8::set_tile(int64_t m, ScaledGemmTile tile) { tiles_[m] = tile; }

ScaledGemmTile ScaledGemmInt8::tile(int64_t m) const {
  const auto it = tiles_.find(m);
  return it != tiles_.end() ? it->second : default_scaled_gemm_tile(m);
}

void ScaledGemmInt8::run(const void* w, const void* x, const float* scale_w, const float* scale_x, __nv_bfloat16* d,
                         int64_t m, cudaStream_t stream) const {
#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
  const auto* xi = static_cast<const int8_t*>(x);
  const auto* wi = static_cast<const int8_t*>(w);
  switch (tile(m)) {
    case ScaledGemmTile::Coop128x256:
      return launch<Coop128x256>(xi, wi, scale_x, scale_w, d, m, n_, k_, sm_count_, stream);
    case ScaledGemmTile::Coop128x128:
      return launch<Coop128x128>(xi, wi, scale_x, scale_w, d, m, n_, k_, sm_count_, stream);
    case ScaledGemmTile::Pingpong64x128:
      return launch<Pingpong64x128>(xi, wi, scale_x, scale_w, d, m, n_, k_, sm_count_, stream);
  }
#else
  (void)w, (void)x, (void)scale_w, (void)scale_x, (void)d, (void)m, (void)stream;
  fail("this build has no CUTLASS INT8 GEMM (built without sm_90a)");
#endif
}

}  // namespace slidesparse
