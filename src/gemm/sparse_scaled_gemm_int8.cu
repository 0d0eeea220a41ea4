// The sparse scaled GEMM's weight compression and its kernels with the dequantizing epilogue; see
// gemm/sparse_scaled_gemm_launch.h.
#include "gemm/sparse_scaled_gemm_launch.h"

#include <algorithm>

#include "core/error.h"

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "gemm/sparse_scaled_gemm_kernels.cuh"
#include "gpu/device_buffer.h"

#include "cutlass/transform/device/transform_universal_adapter.hpp"
#include "cutlass/transform/kernel/sparse_gemm_compressor.hpp"
#endif

namespace slidesparse::sparse_scaled_gemm_detail {

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
namespace {

using StrideA = cutlass::gemm::TagToStrideA_t<LayoutA>;
using Compressor = cutlass::transform::device::TransformUniversalAdapter<
    cutlass::transform::kernel::StructuredSparseCompressor<ProblemShape, int8_t, LayoutA, CompressedConfig,
                                                           cutlass::arch::Sm90>>;
using CompressorUtility =
    cutlass::transform::kernel::StructuredSparseCompressorUtility<ProblemShape, int8_t, LayoutA, CompressedConfig>;

// The weight's problem: its rows and K; the token count does not enter the compressed layout.
ProblemShape weight_shape(int64_t n, int64_t k) { return {static_cast<int>(n), 8, static_cast<int>(k), 1}; }

StrideA weight_stride(int64_t n, int64_t k) {
  return cutlass::make_cute_packed_stride(StrideA{}, make_shape(static_cast<int>(n), static_cast<int>(k), 1));
}

}  // namespace

bool kernels_built() { return true; }

CompressedBytes compressed_bytes(int64_t n, int64_t k) {
  CompressorUtility utility(weight_shape(n, k), weight_stride(n, k));
  return {static_cast<size_t>(n) * static_cast<size_t>(utility.get_tensorA_k_physical()),
          static_cast<size_t>(utility.get_metadata_m_physical()) *
              static_cast<size_t>(utility.get_metadata_k_physical()) * sizeof(ElementE)};
}

void compress(const void* w, int64_t n, int64_t k, void* values, void* metadata, int sm_count, cudaStream_t stream) {
  cutlass::KernelHardwareInfo hw;
  hw.sm_count = sm_count;
  typename Compressor::Arguments args{weight_shape(n, k), {w, weight_stride(n, k), values, metadata}, {hw}};
  Compressor compressor;
  const std::string shape = " N=" + std::to_string(n) + " K=" + std::to_string(k);
  require(compressor.can_implement(args) == cutlass::Status::kSuccess,
          "the sparse scaled GEMM cannot compress a weight of" + shape);
  DeviceBuffer workspace(std::max<size_t>(Compressor::get_workspace_size(args), 16), "compressor workspace");
  require(compressor.initialize(args, workspace.data(), stream) == cutlass::Status::kSuccess &&
              compressor.run(stream) == cutlass::Status::kSuccess,
          "the sparse scaled GEMM failed to compress a weight of" + shape);
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaStreamSynchronize(stream));  // the workspace goes with this scope
}

void launch_int8(const SparseScaledGemmSchedule& schedule, const Problem& p, cudaStream_t stream) {
  launch_schedule<DequantizeOutput>(schedule, p, stream);
}
#else
bool kernels_built() { return false; }

CompressedBytes compressed_bytes(int64_t, int64_t) {
  fail("this build has no sparse scaled GEMM kernels (built without sm_90a)");
}

void compress(const void*, int64_t, int64_t, void*, void*, int, cudaStream_t) {
  fail("this build has no sparse scaled GEMM kernels (built without sm_90a)");
}

void launch_int8(const SparseScaledGemmSchedule&, const Problem&, cudaStream_t) {
  fail("this build has no sparse scaled GEMM kernels (built without sm_90a)");
}
#endif

}  // namespace slidesparse::sparse_scaled_gemm_detail
