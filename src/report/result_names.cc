#include "report/result_names.h"

#include <charconv>
#include <optional>
#include <regex>

#include "core/error.h"
#include "io/results_layout.h"
#include "math/weight_code.h"

namespace slidesparse::report {

namespace {

std::string dotted(int digits) { return std::to_string(digits / 10) + "." + std::to_string(digits % 10); }

}  // namespace

std::string HardwareFolder::cc_text() const { return dotted(compute_capability); }

std::string dtype_name(const std::string& tag_dtype) {
  for (QuantKind kind : {QuantKind::Int8, QuantKind::Fp8E4M3})
    if (tag_dtype == quant_kind_tag(kind)) return std::string(quant_kind_label(kind));
  return tag_dtype;
}

HardwareFolder parse_hardware_folder(const std::string& tag, const std::filesystem::path& where) {
  static const std::regex pattern("^([^_]+)_cc([0-9]{2,3})_(" + std::string(quant_kind_tag(QuantKind::Int8)) + "|" +
                                  std::string(quant_kind_tag(QuantKind::Fp8E4M3)) + ")_cu([0-9]{2,3})_(.+)$");
  std::smatch m;
  require(std::regex_match(tag, m, pattern),
          where.string() + ": '" + tag + "' is not a hardware tag ({GPU}_cc{XY}_{INT8|FP8E4M3}_cu{XY}_{arch})");
  HardwareFolder h;
  h.tag = tag;
  h.gpu = m[1];
  h.compute_capability = std::stoi(m[2]);
  h.dtype = m[3];
  h.cuda = dotted(std::stoi(m[4]));
  h.arch = m[5];
  return h;
}

std::string backend_label(Sparsity s) { return s.is_dense() ? "cuBLASLt" : "cuSPARSELt " + s.str(); }
std::string engine_label(Sparsity s) { return s.is_dense() ? "dense" : "SlideSparse " + s.str(); }

double theoretical_speedup(Sparsity s) {
  if (!s.is_finite_sparse()) return 1.0;
  return double(s.group()) / double(s.group() - 2);
}

Sparsity parse_backend(const std::string& name, const std::filesystem::path& where) {
  if (const auto s = results_layout::backend_sparsity(name)) return *s;
  fail(where.string() + ": unknown backend '" + name + "' (expected cublaslt or cusparselt 2_L)");
}

Sparsity parse_sparsity(const std::string& text, const std::filesystem::path& where) {
  if (const auto s = results_layout::sparsity_of_text(text)) return *s;
  fail(where.string() + ": unknown sparsity '" + text + "' (expected 2:L)");
}

}  // namespace slidesparse::report
