#include "report/results.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/csv_reader.h"
#include "io/model_config.h"
#include "io/results_layout.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace slidesparse::report {

namespace {

// Field access with one-line errors: `where` is "<file>" or "<file>: tasks[2]".
const json& field(const json& j, const std::string& name, const std::string& where) {
  require(j.is_object() && j.contains(name), where + ": missing field '" + name + "'");
  return j.at(name);
}

std::string text_field(const json& j, const std::string& name, const std::string& where) {
  const json& v = field(j, name, where);
  require(v.is_string(), where + ": field '" + name + "' is not a string");
  return v.get<std::string>();
}

double number_field(const json& j, const std::string& name, const std::string& where) {
  const json& v = field(j, name, where);
  require(v.is_number(), where + ": field '" + name + "' is not a number");
  return v.get<double>();
}

int64_t integer_field(const json& j, const std::string& name, const std::string& where) {
  const json& v = field(j, name, where);
  require(v.is_number_integer(), where + ": field '" + name + "' is not an integer");
  return v.get<int64_t>();
}

// Fields a task that has not finished may leave out.
std::string optional_text(const json& j, const std::string& name, const std::string& where) {
  return j.contains(name) ? text_field(j, name, where) : "";
}
double optional_number(const json& j, const std::string& name, const std::string& where) {
  return j.contains(name) ? number_field(j, name, where) : 0.0;
}
int64_t optional_integer(const json& j, const std::string& name, const std::string& where) {
  return j.contains(name) ? integer_field(j, name, where) : 0;
}

// Visible entries of a directory, sorted; hidden ones are staging leftovers of atomic writes.
std::vector<fs::path> listing(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (!entry.path().filename().string().starts_with(".")) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> json_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& p : listing(dir))
    if (p.extension() == ".json" && fs::is_regular_file(p)) out.push_back(p);
  return out;
}

PipelineStatus read_status(const fs::path& file) {
  const json j = read_json_file(file);
  const std::string where = file.string();
  const int64_t version = integer_field(j, "version", where);
  require(version == 1, where + ": unsupported version " + std::to_string(version) + " (expected 1)");
  PipelineStatus s;
  s.model = text_field(j, "model", where);
  s.started_utc = optional_text(j, "started_utc", where);
  s.updated_utc = optional_text(j, "updated_utc", where);
  static const std::set<std::string> task_states = {"done", "failed", "skipped", "pending", "running", "interrupted"};
  const json& tasks = field(j, "tasks", where);
  require(tasks.is_array(), where + ": field 'tasks' is not an array");
  for (size_t i = 0; i < tasks.size(); ++i) {
    const std::string at = where + ": tasks[" + std::to_string(i) + "]";
    TaskRecord t;
    t.id = static_cast<int>(integer_field(tasks[i], "id", at));
    t.name = text_field(tasks[i], "name", at);
    t.status = text_field(tasks[i], "status", at);
    require(task_states.count(t.status) == 1, at + ": unknown status '" + t.status + "'");
    t.seconds = optional_number(tasks[i], "seconds", at);
    t.reason = optional_text(tasks[i], "reason", at);
    t.units_done = optional_integer(tasks[i], "units_done", at);
    t.units_total = optional_integer(tasks[i], "units_total", at);
    s.tasks.push_back(t);
  }
  std::sort(s.tasks.begin(), s.tasks.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (j.contains("units")) {
    const json& units = j.at("units");
    require(units.is_object(), where + ": field 'units' is not an object");
    for (const auto& [key, u] : units.items()) {  // nlohmann keeps object keys sorted
      const std::string at = where + ": units[\"" + key + "\"]";
      UnitRecord r;
      r.key = key;
      r.status = text_field(u, "status", at);
      r.seconds = optional_number(u, "seconds", at);
      r.error = optional_text(u, "error", at);
      s.units.push_back(r);
    }
  }
  return s;
}

std::vector<PreparedCheckpoint> read_prepared(const fs::path& dir) {
  std::vector<PreparedCheckpoint> out;
  for (const auto& file : json_files(dir)) {
    const json j = read_json_file(file);
    const std::string w = file.string();
    out.push_back({text_field(j, "name", w), text_field(j, "dtype", w), number_field(j, "seconds", w),
                   static_cast<uint64_t>(integer_field(j, "bytes", w)), integer_field(j, "tensors", w)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<ConvertedCheckpoint> read_converted(const fs::path& dir) {
  std::vector<ConvertedCheckpoint> out;
  for (const auto& file : json_files(dir)) {
    const json j = read_json_file(file);
    const std::string w = file.string();
    ConvertedCheckpoint c;
    c.name = text_field(j, "name", w);
    c.dtype = text_field(j, "dtype", w);
    c.sparsity = parse_sparsity(text_field(j, "sparsity", w), file);
    c.seconds = number_field(j, "seconds", w);
    c.bytes = static_cast<uint64_t>(integer_field(j, "bytes", w));
    c.expand_ratio = number_field(j, "expand_ratio", w);
    c.zero_fraction_before = number_field(j, "zero_fraction_before", w);
    c.zero_fraction_after = number_field(j, "zero_fraction_after", w);
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.dtype, a.sparsity, a.name) < std::tie(b.dtype, b.sparsity, b.name);
  });
  return out;
}

std::vector<PerplexityPoint> read_perplexity(const fs::path& dir) {
  std::vector<PerplexityPoint> out;
  for (const auto& file : json_files(dir)) {
    const json j = read_json_file(file);
    const std::string w = file.string();
    PerplexityPoint p;
    p.checkpoint = text_field(j, "model", w);
    p.dtype = text_field(j, "dtype", w);
    const std::string sparsity = text_field(j, "sparsity", w);
    if (sparsity != "dense") p.sparsity = parse_sparsity(sparsity, file);
    p.text_file = text_field(j, "text_file", w);
    p.perplexity = number_field(j, "perplexity", w);
    p.scored_tokens = integer_field(j, "scored_tokens", w);
    p.context = static_cast<int>(integer_field(j, "context", w));
    p.stride = static_cast<int>(integer_field(j, "stride", w));
    out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.dtype, a.sparsity, a.checkpoint) < std::tie(b.dtype, b.sparsity, b.checkpoint);
  });
  return out;
}

TuningSummary read_tuning(const fs::path& file) {
  const json j = read_json_file(file);
  const std::string where = file.string();
  TuningSummary s;
  s.hardware = text_field(j, "hardware", where);
  const json& phases = field(j, "phases", where);
  require(phases.is_array(), where + ": field 'phases' is not an array");
  for (size_t i = 0; i < phases.size(); ++i) {
    const std::string at = where + ": phases[" + std::to_string(i) + "]";
    s.phases.push_back({text_field(phases[i], "name", at), text_field(phases[i], "dtype", at),
                        number_field(phases[i], "seconds", at), integer_field(phases[i], "entries", at),
                        optional_integer(phases[i], "rejected", at)});
  }
  return s;
}

ThroughputSeries read_throughput_csv(const fs::path& file, const std::string& stage, const HardwareFolder& hardware,
                                     const Sparsity& backend) {
  const CsvTable t = read_csv(file);
  const std::string m_col = "M_" + stage, n_col = "N_" + stage;
  ThroughputSeries s{stage, hardware, backend, {}};
  std::set<int64_t> seen;
  for (size_t r = 0; r < t.rows(); ++r) {
    ThroughputRow row;
    row.m = t.integer(r, m_col);
    require(seen.insert(row.m).second,
            file.string() + ": line " + std::to_string(t.line(r)) + ": M " + std::to_string(row.m) + " appears twice");
    row.prompt_len = t.integer(r, "prompt_len");
    row.max_num_seqs = t.integer(r, "max_num_seqs");
    row.num_prompts = t.integer(r, "num_prompts");
    row.steps = t.integer(r, n_col);
    row.output_len = stage == "decode" ? t.integer(r, "output_len") : 1;  // prefill requests end at their prefill
    row.requests_per_s = t.number(r, "requests_per_s");
    row.tokens_per_s = t.number(r, "tokens_per_s");
    row.elapsed_s = t.number(r, "elapsed_time_s");
    const fs::path point = results_layout::throughput_point_json(file.parent_path(), row.m);
    if (fs::exists(point)) {
      const json j = read_json_file(point);
      if (const auto it = j.find("dense_fallback"); it != j.end() && it->is_object())
        for (const auto& [layer, plan] : it->items()) row.dense_gemm_layers.push_back(layer);
    }
    s.rows.push_back(row);
  }
  std::sort(s.rows.begin(), s.rows.end(), [](const auto& a, const auto& b) { return a.m < b.m; });
  return s;
}

// results/throughput_bench/<stage>/<hardware tag>/<cublaslt | cusparselt/2_L>/BitNet-2B_<stage>.csv
std::vector<ThroughputSeries> read_throughput(const fs::path& root) {
  std::vector<ThroughputSeries> out;
  for (const std::string stage : {"prefill", "decode"}) {
    const std::string csv_name = results_layout::throughput_csv_name(stage);
    for (const auto& tag_dir : listing(root / stage)) {
      if (!fs::is_directory(tag_dir)) continue;
      const HardwareFolder hardware = parse_hardware_folder(tag_dir.filename().string(), tag_dir);
      std::vector<std::pair<std::string, fs::path>> backends;
      const std::string dense = results_layout::throughput_backend_folder(Sparsity::dense());
      if (fs::exists(tag_dir / dense)) backends.push_back({dense, tag_dir / dense});
      const std::string sparse_root = results_layout::throughput_sparse_root();
      for (const auto& sparse : listing(tag_dir / sparse_root))
        backends.push_back({sparse_root + "/" + sparse.filename().string(), sparse});
      for (const auto& [name, dir] : backends) {
        const Sparsity backend = parse_backend(name, dir);
        if (fs::exists(dir / csv_name)) out.push_back(read_throughput_csv(dir / csv_name, stage, hardware, backend));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.stage, a.hardware.tag, a.backend) < std::tie(b.stage, b.hardware.tag, b.backend);
  });
  return out;
}

// results/kernel_bench/<hardware tag>/<label>_layers.csv
std::vector<KernelSeries> read_kernels(const fs::path& root) {
  std::vector<KernelSeries> out;
  for (const auto& tag_dir : listing(root)) {
    if (!fs::is_directory(tag_dir)) continue;
    const HardwareFolder hardware = parse_hardware_folder(tag_dir.filename().string(), tag_dir);
    for (const auto& file : listing(tag_dir)) {
      const auto label = results_layout::kernel_label_of_layers_csv(file.filename().string());
      if (!label) continue;
      KernelSeries s{hardware, parse_backend(*label, file), {}};
      const CsvTable t = read_csv(file);
      for (size_t r = 0; r < t.rows(); ++r)
        s.rows.push_back({t.integer(r, "M"), t.integer(r, "N"), t.integer(r, "K"), t.integer(r, "K_gemm"),
                          t.text(r, "layer"), t.number(r, "latency_us"), t.number(r, "tops")});
      out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.hardware.tag, a.backend) < std::tie(b.hardware.tag, b.backend);
  });
  return out;
}

}  // namespace

Results read_results(const fs::path& out_dir) {
  std::error_code ec;
  require(fs::is_directory(out_dir, ec), "results folder '" + out_dir.string() + "' does not exist");
  Results r;
  if (fs::exists(out_dir / "pipeline_status.json")) r.status = read_status(out_dir / "pipeline_status.json");
  const fs::path results = results_layout::results_dir(out_dir);
  r.prepared = read_prepared(results_layout::prepare_dir(results));
  r.converted = read_converted(results_layout::convert_dir(results));
  if (fs::exists(results_layout::tuning_summary(results))) r.tuning = read_tuning(results_layout::tuning_summary(results));
  r.throughput = read_throughput(results_layout::throughput_dir(results));
  r.kernels = read_kernels(results_layout::kernel_dir(results));
  r.perplexity = read_perplexity(results_layout::eval_dir(results));
  return r;
}

void add_other_machines(Results& into, const std::vector<Results>& others) {
  std::set<std::string> own;
  for (const auto& s : into.throughput) own.insert(s.hardware.machine_key());
  for (const auto& s : into.kernels) own.insert(s.hardware.machine_key());
  for (const Results& other : others) {
    for (const auto& s : other.throughput)
      if (!own.count(s.hardware.machine_key())) into.throughput.push_back(s);
    for (const auto& s : other.kernels)
      if (!own.count(s.hardware.machine_key())) into.kernels.push_back(s);
  }
}

}  // namespace slidesparse::report
