// The scaled GEMM's INT8 kernels with the dequantizing epilogue (int32 accumulation); see
// gemm/scaled_gemm_launch.h.
#include "gemm/scaled_gemm_launch.h"

#include "core/error.h"

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "gemm/scaled_gemm_kernels.cuh"
#endif

namespace slidesparse::scaled_gemm_detail {

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
bool kernels_built() { return true; }

void launch_int8(ScaledGemmTile tile, const Problem& p, cudaStream_t stream) {
  launch_tile<int8_t, int32_t, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
              cutlass::gemm::KernelTmaWarpSpecializedPingpong, DequantizeOutput<false>>(tile, p, stream);
}
#else
bool kernels_built() { return false; }

void launch_int8(ScaledGemmTile, const Problem&, cudaStream_t) {
  fail("this build has no scaled GEMM kernels (built without sm_90a)");
}
#endif

}  // namespace slidesparse::scaled_gemm_detail
