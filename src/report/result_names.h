// The names the benchmark result folders carry: hardware tags
// ("{GPU}_cc{XY}_{INT8|FP8E4M3}_cu{XY}_{arch}", tuning/tuning_db.h result_folder_tag) and backends
// (io/results_layout.h spells them), parsed back into what the report shows.
#pragma once

#include <compare>
#include <filesystem>
#include <string>

#include "io/results_layout.h"

namespace slidesparse::report {

struct HardwareFolder {
  std::string tag;             // "H100_cc90_INT8_cu130_x86_64"
  std::string gpu;             // "H100"
  int compute_capability = 0;  // 90
  std::string dtype;           // "INT8" | "FP8E4M3"
  std::string cuda;            // "13.0"
  std::string arch;            // "x86_64"

  // The GPU and software the results came from, without the dtype: results of one machine share it.
  std::string machine_key() const {
    return gpu + "_cc" + std::to_string(compute_capability) + "_cu" + cuda + "_" + arch;
  }
  std::string cc_text() const;  // "9.0"
  bool supports_fp8() const { return compute_capability >= 89; }
};

// "INT8" -> "INT8", "FP8E4M3" -> "FP8": the dtype of a tag as the report names it.
std::string dtype_name(const std::string& tag_dtype);

// Throws Error "<where>: '<tag>' is not a hardware tag ({GPU}_cc{XY}_{INT8|FP8E4M3}_cu{XY}_{arch})".
HardwareFolder parse_hardware_folder(const std::string& tag, const std::filesystem::path& where);

// A result's backend is named by its weights' Sparsity (math/sparsity.h): dense runs cuBLASLt in the
// kernel benchmark and the engine's dense GEMM in throughput results, 2:L and 2:inf cuSPARSELt in the
// kernel benchmark and the engine's sparse GEMM (cuSPARSELt or CUTLASS's) in throughput results.
std::string backend_label(Sparsity s);       // "cuBLASLt", "cuSPARSELt 2:8": the kernel benchmark's backends
std::string engine_label(Sparsity s);        // "dense", "SlideSparse 2:8": the engine's (throughput results)
double theoretical_speedup(Sparsity s);      // L / (L - 2); 1.0 for 2:inf and dense

// "cublaslt" | "cusparselt/2_L" (throughput folders) and "cublaslt" | "cusparselt_2_L" (kernel file
// labels); anything else throws Error "<where>: unknown backend '<name>' ...".
Sparsity parse_backend(const std::string& name, const std::filesystem::path& where);
// "2:L" or "2:inf" as the conversion results spell it; Error "<where>: unknown sparsity '<text>'".
Sparsity parse_sparsity(const std::string& text, const std::filesystem::path& where);

}  // namespace slidesparse::report
