#include "report/result_names.h"

#include <charconv>
#include <optional>
#include <regex>

#include "core/error.h"

namespace slidesparse::report {

namespace {

std::string dotted(int digits) { return std::to_string(digits / 10) + "." + std::to_string(digits % 10); }

}  // namespace

std::string HardwareFolder::cc_text() const { return dotted(compute_capability); }

std::string dtype_name(const std::string& tag_dtype) { return tag_dtype == "FP8E4M3" ? "FP8" : tag_dtype; }

HardwareFolder parse_hardware_folder(const std::string& tag, const std::filesystem::path& where) {
  static const std::regex pattern("^([^_]+)_cc([0-9]{2,3})_(INT8|FP8E4M3)_cu([0-9]{2,3})_(.+)$");
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

std::string ResultBackend::sparsity() const {
  if (dense()) return "dense";
  return group == kInfinite ? "2:inf" : "2:" + std::to_string(group);
}

std::string ResultBackend::label() const { return dense() ? "cuBLASLt" : "cuSPARSELt " + sparsity(); }

double ResultBackend::theoretical_speedup() const {
  if (dense() || group == kInfinite) return 1.0;
  return double(group) / double(group - 2);
}

namespace {

// The L of "2:L" spelled after its prefix ("8", "inf"); nullopt when it is not one.
std::optional<ResultBackend> group_after(const std::string& text, const std::string& prefix) {
  if (!text.starts_with(prefix)) return std::nullopt;
  const std::string rest = text.substr(prefix.size());
  if (rest == "inf") return ResultBackend{ResultBackend::kInfinite};
  int group = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), group);
  if (ec == std::errc() && end == rest.data() + rest.size() && group >= 4 && group % 2 == 0)
    return ResultBackend{group};
  return std::nullopt;
}

}  // namespace

ResultBackend parse_backend(const std::string& name, const std::filesystem::path& where) {
  if (name == "cublaslt") return {0};
  for (const std::string prefix : {"cusparselt/2_", "cusparselt_2_"})
    if (const auto backend = group_after(name, prefix)) return *backend;
  fail(where.string() + ": unknown backend '" + name + "' (expected cublaslt or cusparselt 2_L)");
}

ResultBackend parse_sparsity(const std::string& text, const std::filesystem::path& where) {
  if (const auto backend = group_after(text, "2:")) return *backend;
  fail(where.string() + ": unknown sparsity '" + text + "' (expected 2:L)");
}

}  // namespace slidesparse::report
