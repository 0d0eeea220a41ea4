// Fused RMSNorm + quantization kernel benchmarks: achieved GB/s of the kernels in
// kernels/norm_quant.h against the device-to-device copy bandwidth, in the rows of the
// activation-quantization benchmark.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "bench/quant_bench.h"
#include "kernels/norm_quant.h"

namespace slidesparse {

// Two rows per (K, sparsity, M) (dense: no slide, codes into ceil32(K) columns): "<kind>+norm" with
// the residual fused: bytes = M*K*2 x read + M*K*2 residual read + M*K*2 residual written +
// rows_padded*(out_cols + 4) codes and scales written; "<kind>+tensor_norm" on x alone (attn_sub,
// ffn_sub, and the input and post norms after a GEMM that added into the residual stream): bytes =
// M*K*2 read + the codes and scales. The weight (K*2, cache-resident) is not counted. Each point screens quant_launch_candidates() and times the
// fastest, launches rotating among input sets larger than the L2 cache.
std::vector<BandwidthRow> bench_rmsnorm_quantize(QuantKind kind, const std::vector<int64_t>& ms,
                                                 const std::vector<int64_t>& ks, const std::vector<Sparsity>& sparsities,
                                                 double copy_gbps, int warmup, int repeat, cudaStream_t stream);

// The accumulator-fed norms of the engine's forward at BitNet-2B's shapes (bitnet_layer_shapes():
// hidden K = 2560, intermediate 6912), one row per (kernel, sparsity, M):
//   "<kind>+residual_norm[<form>]"  residual_rmsnorm_quantize_gpu, delta [M, K]: bytes = delta read +
//                                   M*4 scale_x + M*K*2 residual read and again written + codes and
//                                   scales written (rows_padded * (out_cols + 4));
//   "<kind>+relu2_norm[<form>]"     relu2_mul_rmsnorm_quantize_gpu, gate_up [M, 2 * 6912]: bytes =
//                                   gate_up read + M*4 scale_x + codes and scales written;
//   "residual_norm_rows[<form>]"    residual_rmsnorm_rows_gpu on M gathered rows (no slide): bytes = delta
//                                   read + M*4 scale_x + M*4 row index + M*K*2 residual read + M*K*2 out.
// The accumulator form is the one the engine's linear layer leaves on this GPU (default_linear_config):
// dense INT8 bf16 from the scaled GEMM where it runs, else int32 + both scales; dense FP8 bf16 + scale_x
// where cuBLASLt offers the weight scale as an alpha vector, else bf16 + both scales; 2:L INT8 bf16 +
// scale_x; 2:L FP8 bf16 + both scales. Weight scales are one per part of the accumulator (the engine's
// checkpoints have one per tensor; "/part" after the form), and for the forms that carry them also
// one per column in rows of their own. scale_w and the norm weight (cache-resident) are not counted.
// Quantizing kernels screen quant_launch_candidates() and time the fastest; launches rotate among
// operand sets larger than the L2 cache.
std::vector<BandwidthRow> bench_fused_norms(QuantKind kind, const std::vector<int64_t>& ms,
                                            const std::vector<Sparsity>& sparsities, double copy_gbps, int warmup,
                                            int repeat, cudaStream_t stream);

// The fastest quant_launch_candidates() entry for one of the engine's quantizing norms on rows of
// k values (the tensor norm feeds o_proj at the hidden size and, with gate_up's relu2*up epilogue,
// down_proj at the intermediate size; the others have one width each): what `slidesparse tune`
// records under fused_norm_tuning_name(). Each candidate is timed replayed from a CUDA graph, as the
// engine's decode steps run these kernels.
QuantLaunchConfig best_fused_norm_config(FusedNormKernel norm, QuantKind kind, Sparsity sparsity, int64_t m, int64_t k,
                                         int warmup, int repeat, cudaStream_t stream);

// fused_norm_kernel_name() of the norm the engine runs for this type and weight pattern on this GPU:
// the accumulator-fed norms with the form the engine's linears leave (their default configuration).
std::string fused_norm_tuning_name(FusedNormKernel norm, QuantKind kind, Sparsity sparsity);

}  // namespace slidesparse
