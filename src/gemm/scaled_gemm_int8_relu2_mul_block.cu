// The scaled GEMM's INT8 kernels with the MLP epilogue on the sparse GEMM's gate_up order
// (Sm90Relu2MulBlockStore, gemm/relu2_mul_store.cuh); their own translation unit so the epilogues'
// instantiations compile in parallel.
#include "gemm/scaled_gemm_launch.h"

#include "core/error.h"

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "gemm/scaled_gemm_kernels.cuh"
#endif

namespace slidesparse::scaled_gemm_detail {

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
void launch_int8_relu2_mul_block(ScaledGemmTile tile, const Problem& p, cudaStream_t stream) {
  launch_tile<int8_t, int32_t, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
              cutlass::gemm::KernelTmaWarpSpecializedPingpong, Relu2MulOutput<Sm90Relu2MulBlockStore, false>>(
      tile, p, stream);
}
#else
void launch_int8_relu2_mul_block(ScaledGemmTile, const Problem&, cudaStream_t) {
  fail("this build has no scaled GEMM kernels (built without sm_90a)");
}
#endif

}  // namespace slidesparse::scaled_gemm_detail
