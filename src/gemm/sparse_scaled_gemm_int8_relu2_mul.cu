// The sparse scaled GEMM's kernels with the MLP epilogue (relu2(gate) * up,
// gemm/relu2_mul_store.cuh); their own translation unit so the epilogues' instantiations compile in
// parallel.
#include "gemm/sparse_scaled_gemm_launch.h"

#include "core/error.h"

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "gemm/sparse_scaled_gemm_kernels.cuh"
#endif

namespace slidesparse::sparse_scaled_gemm_detail {

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
void launch_int8_relu2_mul(const SparseScaledGemmSchedule& schedule, const Problem& p, cudaStream_t stream) {
  launch_schedule<Relu2MulOutput>(schedule, p, stream);
}
#else
void launch_int8_relu2_mul(const SparseScaledGemmSchedule&, const Problem&, cudaStream_t) {
  fail("this build has no sparse scaled GEMM kernels (built without sm_90a)");
}
#endif

}  // namespace slidesparse::sparse_scaled_gemm_detail
