// Activation-quantization kernel benchmark (`slidesparse bench quant`) and launch-config search
// (`slidesparse tune`): achieved GB/s = (bytes read + bytes written) / time, against the
// device-to-device copy bandwidth measured on the spot.
#pragma once

#include <cuda_runtime.h>

#include <functional>
#include <string>
#include <vector>

#include "bench/bandwidth_rows.h"
#include "bench/device_ceilings.h"
#include "kernels/activation_quant.h"

namespace slidesparse {

// One row per (K, sparsity, M) (kernel "int8" / "fp8", rows M, cols K), dense being plain
// quantization (quantize_rows_gpu), 2:L quantize + slide, its GB/s also as a fraction of copy_gbps (measure_copy_bandwidth_gbps,
// measured once by the caller): each point screens the launch candidates, then times the fastest
// over `repeat` launches that rotate among input sets larger than the L2 cache.
// Bytes = M*K*2 read + rows_padded*(out_cols + 4) written.
std::vector<BandwidthRow> bench_activation_quant(QuantKind kind, const std::vector<int64_t>& ms,
                                                 const std::vector<int64_t>& ks, const std::vector<Sparsity>& sparsities,
                                                 double copy_gbps, int warmup, int repeat, cudaStream_t stream);

// The quant_launch_candidates() entry for which time_us is shortest (the norm kernels share the
// quantization kernels' launch shapes, so their benchmarks screen the same way).
QuantLaunchConfig fastest_launch_config(const std::function<double(const QuantLaunchConfig&)>& time_us);

// Times every quant_launch_candidates() entry and returns the fastest.
QuantLaunchConfig best_quant_config(QuantKind kind, Sparsity sparsity, int64_t m, int64_t k, int warmup, int repeat,
                                    cudaStream_t stream);

}  // namespace slidesparse
