// The forms a linear layer's output takes when a fused kernel reads it (kernels/acc_view.h), for
// the GPU tests of those kernels: which accumulator type, which scales are still to apply.
#pragma once

#include "kernels/activation_quant.h"

namespace slidesparse::testing {

struct AccForm {
  AccumulatorType type;
  bool scale_x, scale_w;
  const char* name;
  bool scale_w_per_part = false;  // one weight scale per part the consumer reads (AccView::scale_w_run)
};

// Dense on the scaled GEMM (both scales applied: a plain bf16 tensor).
inline constexpr AccForm kBf16Plain{AccumulatorType::BFloat16, false, false, "bf16"};
// INT8 dense on cuBLASLt (and --exact-scales).
inline constexpr AccForm kInt32BothScales{AccumulatorType::Int32, true, true, "int32+both"};
// INT8 sparse, FP8 dense on cuBLASLt (the weight scale rode in the GEMM).
inline constexpr AccForm kBf16ScaleX{AccumulatorType::BFloat16, true, false, "bf16+scale_x"};
// FP8 dense and sparse (on a GPU where cuBLASLt offers no FP8 scale vector), weights with a scale
// per channel.
inline constexpr AccForm kBf16BothScales{AccumulatorType::BFloat16, true, true, "bf16+both"};
// The same with a scale per tensor, as the engine's checkpoints have them.
inline constexpr AccForm kBf16BothScalesPerPart{AccumulatorType::BFloat16, true, true, "bf16+both per part", true};
// Weight scales alone: no engine path writes it, but the kernels take it (as both scales with
// scale_x = 1, which must give the same bits).
inline constexpr AccForm kBf16ScaleW{AccumulatorType::BFloat16, false, true, "bf16+scale_w"};
// An fp32 accumulator (the 4-byte path int32 shares).
inline constexpr AccForm kFloat32BothScales{AccumulatorType::Float32, true, true, "fp32+both"};

// Every form the engine feeds its fused kernels.
inline constexpr AccForm kEngineAccForms[] = {kBf16Plain, kInt32BothScales, kBf16ScaleX, kBf16BothScales,
                                               kBf16BothScalesPerPart};

}  // namespace slidesparse::testing
