// CUTLASS 3 sm_90a structured-sparse GEMMs on E4M3 codes for tools/sparse_fp8_probe: the engine's
// sparse scaled GEMM (gemm/sparse_scaled_gemm_kernels.cuh, the weight as the sparse operand A, the
// problem transposed) with fp32 accumulation and the plain epilogue, bf16((acc * scale_x[token]) *
// scale_w[n]), with the fast-accumulation mainloop (the whole K summed in the tensor cores' own
// accumulators, as the engine's cuBLASLt FP8 runs by default) and the promoting one (partial sums
// added into fp32 registers every four MMAs). Each tile compresses the weight into its own
// mainloop's layout.
#include "tools/sparse_fp8_probe_tiles.h"
#include "tools/sparse_gemm_probe_kernels.cuh"  // the tile base, the engine's kernels and CUTLASS's headers

#include "cutlass/transform/device/transform_universal_adapter.hpp"
#include "cutlass/transform/kernel/sparse_gemm_compressor.hpp"

namespace slidesparse::sparse_fp8_probe {

namespace {

using namespace cute;
namespace detail = sparse_scaled_gemm_detail;
using sparse_probe::SparseTile;

template <class TileShape, class ClusterShape, class MainloopSchedule>
using Fp8Gemm = detail::Gemm<TileShape, ClusterShape, detail::DequantizeOutput, MainloopSchedule,
                             cutlass::epilogue::TmaWarpSpecializedCooperative,
                             cutlass::epilogue::collective::EpilogueTileAuto, cutlass::float_e4m3_t, float>;

template <class TileShape, class ClusterShape, class MainloopSchedule>
class Fp8SparseTile final
    : public sparse_probe::CompressedSparseTile<Fp8Gemm<TileShape, ClusterShape, MainloopSchedule>> {
  using G = Fp8Gemm<TileShape, ClusterShape, MainloopSchedule>;
  using Config = typename G::Mainloop::SparseConfig;
  using StrideA = cutlass::gemm::TagToStrideA_t<detail::LayoutA>;
  using Compressor = cutlass::transform::device::TransformUniversalAdapter<
      cutlass::transform::kernel::StructuredSparseCompressor<detail::ProblemShape, cutlass::float_e4m3_t,
                                                             detail::LayoutA, Config, cutlass::arch::Sm90>>;
  using Utility = cutlass::transform::kernel::StructuredSparseCompressorUtility<detail::ProblemShape,
                                                                                cutlass::float_e4m3_t,
                                                                                detail::LayoutA, Config>;

 public:
  using sparse_probe::CompressedSparseTile<G>::CompressedSparseTile;
  SparseTile::Epilogue epilogue() const override { return SparseTile::Epilogue::Plain; }

  void compress(const void* w, int64_t n, int64_t k, int sm_count, cudaStream_t stream) override {
    this->n_ = n, this->k_ = k, this->sm_count_ = sm_count;
    const detail::ProblemShape shape{static_cast<int>(n), 8, static_cast<int>(k), 1};
    const StrideA stride =
        cutlass::make_cute_packed_stride(StrideA{}, make_shape(static_cast<int>(n), static_cast<int>(k), 1));
    Utility utility(shape, stride);
    this->a_ = DeviceBuffer(static_cast<size_t>(n) * static_cast<size_t>(utility.get_tensorA_k_physical()),
                            "compressed weight");
    this->e_ = DeviceBuffer(static_cast<size_t>(utility.get_metadata_m_physical()) *
                                static_cast<size_t>(utility.get_metadata_k_physical()) *
                                sizeof(typename G::Mainloop::ElementE),
                            "weight metadata");
    cutlass::KernelHardwareInfo hw;
    hw.sm_count = sm_count;
    typename Compressor::Arguments args{shape, {w, stride, this->a_.data(), this->e_.data()}, {hw}};
    Compressor compressor;
    require(compressor.can_implement(args) == cutlass::Status::kSuccess,
            this->name_ + ": cannot compress this weight");
    DeviceBuffer workspace(std::max<size_t>(Compressor::get_workspace_size(args), 16), "compressor workspace");
    require(compressor.initialize(args, workspace.data(), stream) == cutlass::Status::kSuccess &&
                compressor.run(stream) == cutlass::Status::kSuccess,
            this->name_ + ": compression failed");
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(stream));
  }
};

template <class TileShape, class ClusterShape, class MainloopSchedule>
void add(std::vector<std::unique_ptr<sparse_probe::SparseTile>>& tiles, const std::string& name) {
  tiles.push_back(std::make_unique<Fp8SparseTile<TileShape, ClusterShape, MainloopSchedule>>(name));
}

}  // namespace

void add_tiles(std::vector<std::unique_ptr<sparse_probe::SparseTile>>& tiles) {
  using Fast = cutlass::gemm::KernelTmaWarpSpecializedCooperativeFP8FastAccum;
  using Promoting = cutlass::gemm::KernelTmaWarpSpecializedCooperative;
  add<Shape<_128, _64, _128>, Shape<_1, _1, _1>, Fast>(tiles, "fast coop-128x64x128-1x1");
  add<Shape<_128, _128, _128>, Shape<_1, _1, _1>, Fast>(tiles, "fast coop-128x128x128-1x1");
  add<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Fast>(tiles, "fast coop-128x256x128-1x1");
  add<Shape<_128, _256, _128>, Shape<_2, _1, _1>, Fast>(tiles, "fast coop-128x256x128-2x1");
  add<Shape<_128, _128, _128>, Shape<_1, _1, _1>, Promoting>(tiles, "promoting coop-128x128x128-1x1");
  add<Shape<_128, _256, _128>, Shape<_1, _1, _1>, Promoting>(tiles, "promoting coop-128x256x128-1x1");
}

}  // namespace slidesparse::sparse_fp8_probe
