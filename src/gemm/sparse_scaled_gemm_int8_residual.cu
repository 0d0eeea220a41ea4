// The sparse scaled GEMM's kernels with the residual add; their own
// translation unit so the epilogues' instantiations compile in parallel.
#include "gemm/sparse_scaled_gemm_launch.h"

#include "core/error.h"

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
#include "gemm/sparse_scaled_gemm_kernels.cuh"
#endif

namespace slidesparse::sparse_scaled_gemm_detail {

#if defined(SLIDESPARSE_HAVE_SM90A_GEMM)
void launch_int8_residual_add(const SparseScaledGemmSchedule& schedule, const Problem& p, cudaStream_t stream) {
  launch_schedule<ResidualAddOutput>(schedule, p, stream);
}
#else
void launch_int8_residual_add(const SparseScaledGemmSchedule&, const Problem&, cudaStream_t) {
  fail("this build has no sparse scaled GEMM kernels (built without sm_90a)");
}
#endif

}  // namespace slidesparse::sparse_scaled_gemm_detail
