// The scaled GEMM's INT8 kernels that add their output to the residual stream in place (o_proj and
// down_proj); their own translation unit so the epilogues' instantiations compile in parallel.
#include "gemm/scaled_gemm_launch.h"

#include "core/error.h"

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "gemm/scaled_gemm_kernels.cuh"
#endif

namespace slidesparse::scaled_gemm_detail {

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
void launch_int8_residual_add(ScaledGemmTile tile, const Problem& p, cudaStream_t stream) {
  launch_tile<int8_t, int32_t, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
              cutlass::gemm::KernelTmaWarpSpecializedPingpong, ResidualAddOutput<false>>(tile, p, stream);
}
#else
void launch_int8_residual_add(ScaledGemmTile, const Problem&, cudaStream_t) {
  fail("this build has no scaled GEMM kernels (built without sm_90a)");
}
#endif

}  // namespace slidesparse::scaled_gemm_detail
