// How a fused kernel reads a GEMM's output before the scales are fully applied. The linear layer
// leaves its result in one of three forms (docs/PERF.md, "Where the scales go"): an int32 or fp32
// accumulator that still needs both scales, or a bf16 tensor that needs the per-token scale (the
// weight scale rode in the GEMM) or both. The value every consumer sees is the bf16 the unfused
// dequantize_rows_gpu would have written:
//   value(m, n) = bf16((float(acc[m, n]) * scale_x[m]) * scale_w[n])   (a null scale is skipped)
// so fusing never changes a bit. Host and device code may use this struct.
#pragma once

#include <cstdint>

#include "kernels/activation_quant.h"

namespace slidesparse {

struct AccView {
  AccumulatorType type = AccumulatorType::BFloat16;
  const void* data = nullptr;      // row-major, `ld` elements per row
  int64_t ld = 0;
  const float* scale_x = nullptr;  // [rows] per-token scale, nullable
  const float* scale_w = nullptr;  // [ld] per-output-channel scale, nullable
  // scale_w is constant over each run of this many columns from column 0 (0: not known to be): a
  // fused linear whose parts each carry one scale (BitNet's per-tensor weight scales). A consumer
  // whose parts start at multiples of the run may then read one scale per part instead of one per
  // column; the values are the same.
  int64_t scale_w_run = 0;
};

}  // namespace slidesparse
