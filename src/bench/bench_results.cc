#include "bench/bench_results.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "io/csv_writer.h"
#include "io/model_config.h"
#include "io/results_layout.h"
#include "io/staged_directory.h"

namespace slidesparse {

namespace fs = std::filesystem;

namespace {

// JSON files in <dir>/json whose names start with `prefix` and end with ".json".
std::vector<fs::path> point_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(results_layout::point_json_dir(dir), ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.starts_with(prefix) && name.ends_with(".json")) files.push_back(entry.path());
  }
  return files;
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const fs::path& file) {
  require(j.is_object() && j.contains(key), file.string() + ": missing field '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(file.string() + ": field '" + key + "' has the wrong type");
  }
}

// cublaslt first, then cuSPARSELt by L, 2:inf last (Sparsity's order), unknown labels after them.
std::pair<bool, Sparsity> backend_rank(const std::string& label) {
  const auto sparsity = results_layout::backend_sparsity(label);
  return {!sparsity, sparsity.value_or(Sparsity::dense())};
}

}  // namespace

void write_throughput_csv(const fs::path& dir, const std::string& stage) {
  const bool prefill = stage == "prefill";
  std::vector<std::string> header{"M_prefill", "prompt_len",     "max_num_seqs", "num_prompts",
                                  "N_prefill", "requests_per_s", "tokens_per_s", "elapsed_time_s"};
  if (!prefill)
    header = {"M_decode",   "prompt_len",     "max_num_seqs", "num_prompts",   "N_decode",
              "output_len", "requests_per_s", "tokens_per_s", "elapsed_time_s"};
  std::map<int64_t, std::vector<std::string>> rows;
  for (const fs::path& file : point_files(dir, results_layout::kThroughputPointPrefix)) {
    const nlohmann::json j = read_json_file(file);
    const int64_t m = field<int64_t>(j, "M", file);
    auto integer = [&](const char* key) { return std::to_string(field<int64_t>(j, key, file)); };
    auto real = [&](const char* key) { return std::to_string(field<double>(j, key, file)); };
    std::vector<std::string> row{std::to_string(m), integer("prompt_len"), integer("max_num_seqs"),
                                 integer("num_requests"), integer("steps")};
    if (!prefill) row.push_back(integer("output_len"));
    for (const char* key : {"requests_per_second", "tokens_per_second", "elapsed_time"}) row.push_back(real(key));
    rows[m] = std::move(row);
  }
  CsvWriter csv(dir / results_layout::throughput_csv_name(stage), header);
  for (const auto& [m, row] : rows) csv.add_row(row);
  csv.save();
}

void write_kernel_csvs(const fs::path& dir, const std::string& mode) {
  std::map<std::string, std::map<int64_t, nlohmann::json>> by_label;  // label -> M -> point
  for (const fs::path& file : point_files(dir, mode + "_")) {
    const nlohmann::json j = read_json_file(file);
    by_label[field<std::string>(j, "backend", file)][field<int64_t>(j, "M", file)] = j;
    require(j.contains("layers") && j["layers"].is_array(), file.string() + ": missing field 'layers'");
  }
  std::vector<std::string> labels;
  for (const auto& [label, _] : by_label) labels.push_back(label);
  std::stable_sort(labels.begin(), labels.end(),
                   [](const std::string& a, const std::string& b) { return backend_rank(a) < backend_rank(b); });

  std::map<int64_t, std::map<std::string, double>> totals_us;  // M -> label -> summed layer latency
  for (const std::string& label : labels) {
    CsvWriter layers(dir / results_layout::kernel_layers_csv_name(label, mode),
                     {"M", "N", "K", "K_gemm", "layer", "latency_us", "tops", "algorithm", "candidates"});
    for (const auto& [m, point] : by_label[label]) {
      double& total_us = totals_us[m][label];
      for (const auto& layer : point.at("layers")) {
        const fs::path file = results_layout::kernel_point_json(dir, mode, label, m);
        const int64_t n = field<int64_t>(layer, "N", file), k = field<int64_t>(layer, "K", file);
        const double latency = field<double>(layer, "latency_us", file);
        layers.add_row({std::to_string(m), std::to_string(n), std::to_string(k),
                        std::to_string(field<int64_t>(layer, "K_gemm", file)), field<std::string>(layer, "layer", file),
                        format_fixed(latency, 2), format_fixed(field<double>(layer, "tops", file), 1),
                        field<std::string>(layer, "algorithm", file),
                        std::to_string(field<int64_t>(layer, "candidates", file))});
        total_us += latency;
      }
    }
    layers.save();
  }
  if (labels.empty()) return;

  const std::string dense_label = results_layout::kernel_backend_label(Sparsity::dense());
  const bool dense = labels.front() == dense_label;
  std::vector<std::string> header{"M"};
  for (const auto& label : labels) header.push_back(label + "_us");
  for (const auto& label : labels)
    if (dense && label != dense_label) header.push_back(label + "_speedup");
  CsvWriter csv(dir / results_layout::kernel_totals_csv_name(mode), header);
  for (const auto& [m, by_backend] : totals_us) {
    std::vector<std::string> row{std::to_string(m)};
    for (const auto& label : labels) {
      const auto it = by_backend.find(label);
      row.push_back(it == by_backend.end() ? "" : format_fixed(it->second, 2));
    }
    const auto base = by_backend.find(dense_label);
    for (const auto& label : labels) {
      if (!dense || label == dense_label) continue;
      const auto it = by_backend.find(label);
      row.push_back(base == by_backend.end() || it == by_backend.end() ? ""
                                                                       : format_fixed(base->second / it->second, 3));
    }
    csv.add_row(row);
  }
  csv.save();
}

}  // namespace slidesparse
