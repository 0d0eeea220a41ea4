// Tasks 3..9 on the GPU: offline tuning (one unit per phase), prefill and decode throughput and the
// kernel benchmarks (one unit per M of one backend), perplexity (one unit per checkpoint). The benchmark libraries write the per-point JSON
// and rebuild the CSVs themselves (bench/bench_results.h); here each finished point is recorded.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/kernel_bench.h"
#include "bench/perplexity_eval.h"
#include "bench/throughput_bench.h"
#include "bench/tuner.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "io/model_config.h"
#include "io/results_layout.h"
#include "io/staged_directory.h"
#include "pipeline/pipeline_tasks.h"

namespace slidesparse {

namespace fs = std::filesystem;

namespace {

std::string m_key(int64_t m) { return "M=" + std::to_string(m); }

// The backend part of a benchmark unit's key: "cublaslt" | "cusparselt/2:L" (pipeline status keys,
// not the results layout's folder names).
std::string unit_backend(Sparsity s) { return s.is_dense() ? "cublaslt" : "cusparselt/" + s.str(); }

// What identifies the evaluation text in a unit's options: its name, size and FNV-1a hash (an edited
// text reruns the task).
nlohmann::json text_identity(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  require(in.good(), "--eval-text: cannot read " + file.string());
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string s = bytes.str();
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return {{"file", file.filename().string()}, {"bytes", s.size()}, {"fnv1a", hex}};
}

fs::path tuning_db_path(const PipelineLayout& layout) { return results_layout::tuning_db(layout.results); }

nlohmann::json kinds_json(const PipelineOptions& o) {
  nlohmann::json kinds = nlohmann::json::array();
  for (QuantKind kind : o.kinds) kinds.push_back(std::string(quant_kind_name(kind)));
  return kinds;
}

// Adds one phase to results/tuning/summary.json (replacing an earlier entry of that phase).
void record_tuning_phase(const PipelineLayout& layout, const GpuContext& gpu, const std::string& phase,
                         const PipelineOptions& o, double seconds) {
  const fs::path file = results_layout::tuning_summary(layout.results);
  nlohmann::json summary = fs::exists(file) ? read_json_file(file) : nlohmann::json::object();
  summary["hardware"] = gpu.hardware;
  nlohmann::json phases = nlohmann::json::array();
  const nlohmann::json earlier = summary.value("phases", nlohmann::json::array());
  for (const auto& p : earlier)
    if (p.value("name", "") != phase) phases.push_back(p);
  const nlohmann::json db = read_json_file(tuning_db_path(layout));
  const std::string backend = phase == "coarse" ? "cublaslt" : "cusparselt";
  int64_t entries = 0, rejected = 0;
  // Each value() result is bound to a name: a range-for over `.items()` of a temporary would
  // iterate a json already destroyed.
  const nlohmann::json gemms = db.value("gemms", nlohmann::json::array());
  for (const auto& g : gemms) {
    if (g.value("backend", "") != backend) continue;
    const nlohmann::json by_m = g.value("by_m", nlohmann::json::object());
    for (const auto& [m, entry] : by_m.items()) {
      ++entries;
      rejected += static_cast<int64_t>(entry.value("rejected", nlohmann::json::array()).size());
    }
  }
  std::string dtypes;
  for (const auto& k : kinds_json(o)) dtypes += (dtypes.empty() ? "" : ",") + k.get<std::string>();
  phases.push_back(
      {{"name", phase}, {"dtype", dtypes}, {"seconds", seconds}, {"entries", entries}, {"rejected", rejected}});
  summary["phases"] = phases;
  write_file_atomic(file, summary.dump(2) + "\n");
}

}  // namespace

std::vector<UnitBatch> plan_tuning(const PipelineLayout& layout, const PipelineOptions& o, const GpuContext& gpu) {
  std::vector<UnitBatch> batches;
  std::vector<std::string> phases{"coarse"};
  if (o.tune_fine) phases.push_back("fine");
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& p : o.sparsities) groups.push_back(p.str());
  for (const std::string& phase : phases) {
    nlohmann::json options = {{"dtypes", kinds_json(o)}, {"coarse_ms", o.tune_coarse_ms}, {"decode_ms", o.decode_ms}};
    if (phase == "fine") options["fine_ms"] = o.tune_fine_ms, options["sparsities"] = groups;
    const UnitPlan unit{"tune/" + phase, options, {}, tuning_db_path(layout)};
    batches.push_back({{unit}, [&layout, &o, &gpu, phase](const std::vector<UnitPlan>& pending, const auto& done) {
                         const Stopwatch clock;
                         TuneOptions t;
                         t.kinds = o.kinds;  // run_tune skips FP8 itself below compute capability 8.9
                         t.sparsities = o.sparsities;
                         t.coarse_ms = o.tune_coarse_ms;
                         t.fine_ms = o.tune_fine_ms;
                         t.decode_ms = o.decode_ms;  // the batch sizes task 5 runs
                         // coarse: cuBLASLt, the scaled GEMM + quantize; fine: cuSPARSELt + quantize-slide
                         t.dense = phase == "coarse";
                         t.sparse = phase == "fine";
                         t.db_path = tuning_db_path(layout);
                         fs::create_directories(t.db_path.parent_path());
                         run_tune(t);
                         record_tuning_phase(layout, gpu, phase, o, clock.seconds());
                         done(pending.front());
                       }});
  }
  return batches;
}

std::vector<UnitBatch> plan_throughput(const PipelineLayout& layout, const PipelineOptions& o, const GpuContext& gpu,
                                       const std::string& stage) {
  const std::vector<int64_t>& ms = stage == "prefill" ? o.prefill_ms : o.decode_ms;
  const bool tuned = fs::exists(tuning_db_path(layout));  // planned after task 3 ran
  std::vector<UnitBatch> batches;
  for (QuantKind kind : o.kinds) {
    // cuBLASLt on the prepared checkpoint, then cuSPARSELt on each SlideSparse one.
    std::vector<Sparsity> backends{Sparsity::dense()};
    backends.insert(backends.end(), o.sparsities.begin(), o.sparsities.end());
    for (const Sparsity sparsity : backends) {
      const std::string backend = unit_backend(sparsity);
      const std::string checkpoint_key = layout.checkpoint_key(kind, sparsity);
      const nlohmann::json checkpoint = layout.checkpoint_options(kind, sparsity);
      const fs::path model = layout.checkpoints / layout.checkpoint_name(kind, sparsity);
      UnitBatch batch;
      for (int64_t m : ms) {
        UnitPlan unit{stage + "/" + std::string(quant_kind_label(kind)) + "/" + backend + "/" + m_key(m),
                      {{"checkpoint", checkpoint}, {"tuned", tuned}, {"seed", o.seed}},
                      {checkpoint_key}};
        if (kind == QuantKind::Fp8E4M3) unit.skip = gpu.fp8_skip;
        batch.units.push_back(unit);
      }
      batch.run = [&layout, &o, stage, model, sparsity](const std::vector<UnitPlan>& pending, const auto& done) {
        ThroughputOptions t;
        t.stage = stage;
        t.engine.model = model;
        t.engine.backend = sparsity.is_dense() ? GemmBackend::CublasLt : GemmBackend::CusparseLt;
        std::map<int64_t, const UnitPlan*> by_m;
        for (const UnitPlan& unit : pending) {
          const int64_t m = std::stoll(unit.key.substr(unit.key.rfind('=') + 1));
          t.ms.push_back(m);
          by_m[m] = &unit;
        }
        t.out_dir = results_layout::throughput_dir(layout.results);
        if (fs::exists(tuning_db_path(layout))) t.engine.tuning_db = tuning_db_path(layout);
        t.seed = o.seed;
        // One call for all its points: a cuBLASLt checkpoint is loaded once, a cuSPARSELt one per point
        // (run_throughput_bench says why).
        run_throughput_bench(t, [&](const ThroughputPoint& p) { done(*by_m.at(p.m)); });
      };
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

std::vector<UnitBatch> plan_kernels(const PipelineLayout& layout, const PipelineOptions& o, const GpuContext& gpu,
                                    const std::string& group) {
  std::vector<Sparsity> backends;
  if (group == "dense") backends.push_back(Sparsity::dense());
  if (group != "dense")
    for (const Sparsity p : group == "high" ? o.sparsities : o.low_sparsities) backends.push_back(p);
  const nlohmann::json protocol = {{"warmup", o.kernel_warmup}, {"repeat", o.kernel_repeat}};
  std::vector<UnitBatch> batches;
  for (QuantKind kind : o.kinds)
    for (const Sparsity sparsity : backends) {
      const std::string backend = unit_backend(sparsity);
      UnitBatch batch;
      for (int64_t m : o.kernel_ms) {
        UnitPlan unit{"kernel/" + std::string(quant_kind_label(kind)) + "/" + backend + "/" + m_key(m), {{"protocol", protocol}}};
        if (kind == QuantKind::Fp8E4M3) unit.skip = gpu.fp8_skip;
        batch.units.push_back(unit);
      }
      batch.run = [&layout, &o, kind, sparsity](const std::vector<UnitPlan>& pending, const auto& done) {
        KernelBenchOptions k;
        k.kind = kind;
        k.backends = {sparsity};
        std::map<int64_t, const UnitPlan*> by_m;
        for (const UnitPlan& unit : pending) {
          const int64_t m = std::stoll(unit.key.substr(unit.key.rfind('=') + 1));
          k.ms.push_back(m);
          by_m[m] = &unit;
        }
        k.protocol.warmup = o.kernel_warmup;
        k.protocol.repeat = o.kernel_repeat;
        k.out_dir = results_layout::kernel_dir(layout.results);
        run_kernel_bench(k, [&](const std::string&, int64_t m) { done(*by_m.at(m)); });
      };
      batches.push_back(std::move(batch));
    }
  return batches;
}

std::vector<UnitBatch> plan_perplexity(const PipelineLayout& layout, const PipelineOptions& o, const GpuContext& gpu) {
  std::vector<UnitBatch> batches;
  if (o.eval_text.empty()) return batches;
  const nlohmann::json text = text_identity(o.eval_text);
  for (QuantKind kind : o.kinds) {
    std::vector<Sparsity> checkpoints{Sparsity::dense()};  // the dense prepared one, then each 2:L
    checkpoints.insert(checkpoints.end(), o.sparsities.begin(), o.sparsities.end());
    for (const Sparsity sparsity : checkpoints) {
      const std::string name = layout.checkpoint_name(kind, sparsity);
      const fs::path result = results_layout::eval_dir(layout.results) / (name + ".json");
      UnitPlan unit{"eval/" + std::string(quant_kind_label(kind)) + "/" + sparsity.str(),
                    {{"checkpoint", layout.checkpoint_options(kind, sparsity)},
                     {"text", text},
                     {"context", o.eval_context},
                     {"stride", o.eval_stride}},
                    {layout.checkpoint_key(kind, sparsity)},
                    result};
      if (kind == QuantKind::Fp8E4M3) unit.skip = gpu.fp8_skip;
      batches.push_back({{unit}, [&layout, &o, kind, name, sparsity, result](const std::vector<UnitPlan>& pending,
                                                                             const auto& done) {
                           PerplexityEvalOptions e;
                           e.model = layout.checkpoints / name;
                           e.text_file = o.eval_text;
                           e.context = o.eval_context;
                           e.stride = o.eval_stride;
                           e.engine.backend = sparsity.is_dense() ? GemmBackend::CublasLt : GemmBackend::CusparseLt;
                           if (fs::exists(tuning_db_path(layout))) e.engine.tuning_db = tuning_db_path(layout);
                           const PerplexityEval r = evaluate_perplexity(e);
                           std::printf("perplexity %s: %.4f over %lld tokens\n", name.c_str(), r.result.perplexity(),
                                       static_cast<long long>(r.result.scored));
                           fs::create_directories(result.parent_path());
                           nlohmann::json j = r.to_json(e);
                           j["dtype"] = std::string(quant_kind_label(kind));
                           j["sparsity"] = sparsity.str();
                           write_file_atomic(result, j.dump(2) + "\n");
                           done(pending.front());
                         }});
    }
  }
  return batches;
}

}  // namespace slidesparse
