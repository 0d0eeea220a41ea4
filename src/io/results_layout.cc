#include "io/results_layout.h"

#include <charconv>

namespace slidesparse::results_layout {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDense = "cublaslt";
constexpr const char* kSparseRoot = "cusparselt";
constexpr const char* kThroughputSparse = "cusparselt/2_";
constexpr const char* kKernelSparse = "cusparselt_2_";
constexpr const char* kLayersSuffix = "_layers.csv";

std::string sparse_name(const char* prefix, Sparsity sparsity) {
  return prefix + (sparsity.is_inf() ? std::string("inf") : std::to_string(sparsity.group()));
}

// The sparsity spelled after `prefix` ("8", "inf"): an even L in [4, 16] or infinity.
std::optional<Sparsity> sparsity_after(const std::string& text, const std::string& prefix) {
  if (!text.starts_with(prefix)) return std::nullopt;
  const std::string rest = text.substr(prefix.size());
  if (rest == "inf") return Sparsity::two_of_inf();
  int group = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), group);
  if (ec == std::errc() && end == rest.data() + rest.size() && group >= kMinGroup && group <= kMaxGroup &&
      group % 2 == 0)
    return Sparsity::two_of(group);
  return std::nullopt;
}

}  // namespace

fs::path results_dir(const fs::path& run_dir) { return run_dir / "results"; }
fs::path prepare_dir(const fs::path& results) { return results / "prepare"; }
fs::path convert_dir(const fs::path& results) { return results / "convert"; }
fs::path tuning_dir(const fs::path& results) { return results / "tuning"; }
fs::path tuning_db(const fs::path& results) { return tuning_dir(results) / "tuning_db.json"; }
fs::path tuning_summary(const fs::path& results) { return tuning_dir(results) / "summary.json"; }
fs::path throughput_dir(const fs::path& results) { return results / "throughput_bench"; }
fs::path kernel_dir(const fs::path& results) { return results / "kernel_bench"; }
fs::path eval_dir(const fs::path& results) { return results / "eval"; }

std::string throughput_backend_folder(Sparsity sparsity) {
  return sparsity.is_dense() ? kDense : sparse_name(kThroughputSparse, sparsity);
}

std::string throughput_sparse_root() { return kSparseRoot; }

std::string kernel_backend_label(Sparsity sparsity) {
  return sparsity.is_dense() ? kDense : sparse_name(kKernelSparse, sparsity);
}

std::optional<Sparsity> backend_sparsity(const std::string& name) {
  if (name == kDense) return Sparsity::dense();
  for (const char* prefix : {kThroughputSparse, kKernelSparse})
    if (const auto sparsity = sparsity_after(name, prefix)) return sparsity;
  return std::nullopt;
}

std::optional<Sparsity> sparsity_of_text(const std::string& text) { return sparsity_after(text, "2:"); }

std::string throughput_csv_name(const std::string& stage) { return "BitNet-2B_" + stage + ".csv"; }

fs::path point_json_dir(const fs::path& dir) { return dir / "json"; }

fs::path throughput_point_json(const fs::path& dir, int64_t m) {
  return point_json_dir(dir) / (kThroughputPointPrefix + std::to_string(m) + ".json");
}

fs::path kernel_point_json(const fs::path& dir, const std::string& mode, const std::string& label, int64_t m) {
  return point_json_dir(dir) / (mode + "_" + label + "_M" + std::to_string(m) + ".json");
}

std::string kernel_layers_csv_name(const std::string& label, const std::string& mode) {
  // Square mode gets its own name: the report and the model-mode sweep own <label>_layers.csv.
  return label + (mode == "square" ? "_square.csv" : kLayersSuffix);
}

std::string kernel_totals_csv_name(const std::string& mode) { return "totals_" + mode + ".csv"; }

std::optional<std::string> kernel_label_of_layers_csv(const std::string& file_name) {
  const std::string suffix = kLayersSuffix;
  if (!file_name.ends_with(suffix) || file_name.size() == suffix.size()) return std::nullopt;
  return file_name.substr(0, file_name.size() - suffix.size());
}

}  // namespace slidesparse::results_layout
