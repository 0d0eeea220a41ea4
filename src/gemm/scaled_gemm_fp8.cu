// The scaled GEMM's FP8 E4M3 kernels (fp32 accumulation with periodic promotion out of the tensor
// core's reduced-precision accumulator); see gemm/scaled_gemm_launch.h.
#include "gemm/scaled_gemm_launch.h"

#include "core/error.h"

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "gemm/scaled_gemm_kernels.cuh"
#endif

namespace slidesparse::scaled_gemm_detail {

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
void launch_fp8(ScaledGemmTile tile, const Problem& p, cudaStream_t stream) {
  launch_tile<cutlass::float_e4m3_t, float, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
              cutlass::gemm::KernelTmaWarpSpecializedPingpong>(tile, p, stream);
}
#else
void launch_fp8(ScaledGemmTile, const Problem&, cudaStream_t) {
  fail("this build has no scaled GEMM kernels (built without sm_90a)");
}
#endif

}  // namespace slidesparse::scaled_gemm_detail
