// CUTLASS 3 sm_90a structured-sparse GEMMs on E4M3 codes for tools/sparse_fp8_probe: the engine's
// sparse scaled GEMM (gemm/sparse_scaled_gemm_kernels.cuh, the weight as the sparse operand A, the
// problem transposed) with fp32 accumulation and the plain epilogue, bf16((acc * scale_x[token]) *
// scale_w[n]). Each tile compresses the weight into its own mainloop's layout.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gemm/sparse_scaled_gemm_kernels.cuh"  // the kernels, their launch and CUTLASS's headers
#include "gpu/device_buffer.h"
#include "tools/sparse_fp8_probe_tiles.h"

#include "cutlass/transform/device/transform_universal_adapter.hpp"
#include "cutlass/transform/kernel/sparse_gemm_compressor.hpp"

namespace slidesparse::sparse_fp8_probe {

using namespace cute;
using sparse_probe::SparseTile;
using sparse_probe::TileOrder;
namespace detail = sparse_scaled_gemm_detail;

template <class TileShape, class ClusterShape, class MainloopSchedule>
class Fp8SparseTile final : public SparseTile {
  using G = detail::Gemm<TileShape, ClusterShape, detail::DequantizeOutput, MainloopSchedule,
                         cutlass::epilogue::TmaWarpSpecializedCooperative,
                         cutlass::epilogue::collective::EpilogueTileAuto, cutlass::float_e4m3_t, float>;
  using Config = typename G::Mainloop::SparseConfig;
  using StrideA = cutlass::gemm::TagToStrideA_t<detail::LayoutA>;
  using Compressor = cutlass::transform::device::TransformUniversalAdapter<
      cutlass::transform::kernel::StructuredSparseCompressor<detail::ProblemShape, cutlass::float_e4m3_t,
                                                             detail::LayoutA, Config, cutlass::arch::Sm90>>;
  using Utility = cutlass::transform::kernel::StructuredSparseCompressorUtility<detail::ProblemShape,
                                                                                cutlass::float_e4m3_t,
                                                                                detail::LayoutA, Config>;

 public:
  explicit Fp8SparseTile(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Epilogue epilogue() const override { return Epilogue::Plain; }

  void compress(const void* w, int64_t n, int64_t k, int sm_count, cudaStream_t stream) override {
    n_ = n, k_ = k, sm_count_ = sm_count;
    const detail::ProblemShape shape{static_cast<int>(n), 8, static_cast<int>(k), 1};
    const StrideA stride =
        cutlass::make_cute_packed_stride(StrideA{}, make_shape(static_cast<int>(n), static_cast<int>(k), 1));
    Utility utility(shape, stride);
    a_ = DeviceBuffer(static_cast<size_t>(n) * static_cast<size_t>(utility.get_tensorA_k_physical()),
                      "compressed weight");
    e_ = DeviceBuffer(static_cast<size_t>(utility.get_metadata_m_physical()) *
                          static_cast<size_t>(utility.get_metadata_k_physical()) *
                          sizeof(typename G::Mainloop::ElementE),
                      "weight metadata");
    cutlass::KernelHardwareInfo hw;
    hw.sm_count = sm_count;
    typename Compressor::Arguments args{shape, {w, stride, a_.data(), e_.data()}, {hw}};
    Compressor compressor;
    require(compressor.can_implement(args) == cutlass::Status::kSuccess, name_ + ": cannot compress this weight");
    DeviceBuffer workspace(std::max<size_t>(Compressor::get_workspace_size(args), 16), "compressor workspace");
    require(compressor.initialize(args, workspace.data(), stream) == cutlass::Status::kSuccess &&
                compressor.run(stream) == cutlass::Status::kSuccess,
            name_ + ": compression failed");
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  void run(const void* x, const float* scale_x, const float* scale_w, void* d, int64_t m, TileOrder order,
           cudaStream_t stream) override {
    using detail::RasterOrder;
    const RasterOrder raster = order.raster == TileOrder::Raster::AlongWeightRows ? RasterOrder::AlongM
                               : order.raster == TileOrder::Raster::AlongTokens   ? RasterOrder::AlongN
                                                                                   : RasterOrder::Heuristic;
    detail::launch<G>({x, a_.data(), e_.data(), scale_x, scale_w, static_cast<__nv_bfloat16*>(d), m, n_, k_,
                       sm_count_},
                      raster, order.swizzle, stream);
  }

 private:
  std::string name_;
  int64_t n_ = 0, k_ = 0;
  int sm_count_ = 0;
  DeviceBuffer a_, e_;
};

}  // namespace slidesparse::sparse_fp8_probe
