// FP8 scaled GEMM with the fast-accumulation mainloop (tools/fp8_gemm_probe_kernels.h).
#include "gemm/scaled_gemm_kernels.cuh"
#include "tools/fp8_gemm_probe_kernels.h"

namespace slidesparse::fp8_probe {

void launch_fast(ScaledGemmTile tile, const scaled_gemm_detail::Problem& p, cudaStream_t stream) {
  scaled_gemm_detail::launch_tile<cutlass::float_e4m3_t, float,
                                  cutlass::gemm::KernelTmaWarpSpecializedCooperativeFP8FastAccum,
                                  cutlass::gemm::KernelTmaWarpSpecializedPingpongFP8FastAccum,
                                  scaled_gemm_detail::DequantizeOutput<false>>(tile, p, stream);
}

}  // namespace slidesparse::fp8_probe
