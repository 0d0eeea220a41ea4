// The whole linear operator (quantize [+ slide] -> GEMM -> scales) timed per BitNet layer, dense
// against each SlideSparse pattern, with the default (fastest correct) configuration of each.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "math/sparsity.h"
#include "math/weight_code.h"
#include "tuning/tuning_db.h"

namespace slidesparse {

struct LinearBenchRow {
  std::string backend;  // "cublaslt" or "cusparselt_2_L"
  int64_t m = 0;
  double total_us = 0;  // sum over qkv, o, gate_up, down
};

// `db` (may be null) supplies the tuned GEMM algorithms and quantization launch configs.
std::vector<LinearBenchRow> run_linear_bench(QuantKind kind, const std::vector<int64_t>& ms,
                                             const std::vector<Sparsity>& sparsities, int warmup, int repeat,
                                             const TuningDatabase* db);

}  // namespace slidesparse
