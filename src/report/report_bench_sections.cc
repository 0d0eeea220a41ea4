#include <functional>

#include "report/report_format.h"
#include "report/report_sections.h"
#include "report/result_views.h"

namespace slidesparse::report {

namespace {

using SpeedupOf = std::function<std::optional<double>(const Sparsity&, int64_t)>;

std::string column_name(const Sparsity& b) { return b.is_dense() ? "cuBLASLt" : b.str(); }

std::string speedup_cell(const std::optional<double>& v) { return v ? format_speedup(*v) : kMissing; }

// Rows of M (after a theoretical L/(L-2) row), one column per sparse backend.
std::string speedup_table(const std::set<int64_t>& ms, const std::vector<Sparsity>& backends,
                          const SpeedupOf& speedup) {
  std::vector<std::string> header{"M"};
  std::vector<std::string> theory{"theoretical L/(L-2)"};
  for (const auto& b : backends)
    header.push_back(b.str()), theory.push_back(format_speedup(theoretical_speedup(b)));
  MarkdownTable table(header, std::string(header.size(), 'r'));
  table.add_row(theory);
  for (int64_t m : ms) {
    std::vector<std::string> row{std::to_string(m)};
    for (const auto& b : backends) row.push_back(speedup_cell(speedup(b, m)));
    table.add_row(row);
  }
  return table.text();
}

std::string plot_name(const std::string& what, const std::string& tag) { return what + "_" + tag + ".svg"; }

std::string throughput_block(const ThroughputTable& t, const std::string& stage, const std::string& subject,
                             std::vector<PlotFile>& plots) {
  std::string md = "Results: `results/throughput_bench/" + stage + "/" + t.tag + "/`\n\n";
  MarkdownTable table({"M", "backend", "requests/s", "tokens/s", "elapsed (s)"}, "rlrrr");
  for (int64_t m : t.ms)
    for (const auto& [backend, points] : t.by_backend) {
      const auto p = points.find(m);
      if (p == points.end()) {
        table.add_row({std::to_string(m), engine_label(backend), kMissing, kMissing, kMissing});
      } else if (p->second.failed()) {
        table.add_row({std::to_string(m), engine_label(backend), "failed", "failed", "failed"});
      } else {
        const ThroughputRow& r = p->second;
        table.add_row({std::to_string(m), engine_label(backend), format_grouped(r.requests_per_s, 2),
                       format_rate(r.tokens_per_s), format_grouped(r.elapsed_s, 3)});
      }
    }
  md += table.text() + "\n";
  std::string fallback;  // 2:L points where some linears ran the dense GEMM on their pruned weight
  for (const auto& [backend, points] : t.by_backend)
    for (const auto& [m, r] : points)
      if (!r.dense_gemm_layers.empty()) {
        std::string layers;
        for (const auto& l : r.dense_gemm_layers) layers += (layers.empty() ? "" : ", ") + l;
        fallback += "- " + backend.str() + " M=" + std::to_string(m) + ": " + layers + "\n";
      }
  if (!fallback.empty())
    md += "Linear layers that ran the dense GEMM on their pruned weight (the tuning database timed it faster than "
          "the sparse GEMM at that M, or at every M it timed both at; the others ran the sparse GEMM):\n\n" + fallback + "\n";
  const auto sparse = t.sparse_backends();
  if (t.by_backend.count(Sparsity::dense()) && !sparse.empty()) {
    md += "**Speedup over dense** (sparse tokens/s ÷ dense tokens/s at the same M):\n\n";
    md += speedup_table(t.ms, sparse, [&](const Sparsity& b, int64_t m) { return t.speedup(b, m); }) + "\n";
  }
  if (const auto plot = throughput_plot(t, stage, subject))
    md += add_plot(plots, plot_name(stage + "_throughput", t.tag), *plot);
  if (const auto plot = throughput_speedup_plot(t, stage, subject))
    md += add_plot(plots, plot_name(stage + "_speedup", t.tag), *plot);
  return md + "\n";
}

std::string kernel_block(const KernelTable& t, const std::string& subject, std::vector<PlotFile>& plots) {
  std::string md = "Results: `results/kernel_bench/" + t.tag + "/`\n\n";
  std::vector<std::string> header{"M"};
  for (const auto& [backend, totals] : t.by_backend) header.push_back(column_name(backend));
  const std::string align(header.size(), 'r');
  MarkdownTable latency(header, align), tops(header, align);
  for (int64_t m : t.ms) {
    std::vector<std::string> lat_row{std::to_string(m)}, tops_row{std::to_string(m)};
    for (const auto& [backend, totals] : t.by_backend) {
      const KernelTotal* total = t.find(backend, m);
      lat_row.push_back(total ? format_grouped(total->latency_us, 1) : kMissing);
      tops_row.push_back(total ? format_grouped(total->tops, 0) : kMissing);
    }
    latency.add_row(lat_row), tops.add_row(tops_row);
  }
  md += "**Model-total latency (µs):**\n\n" + latency.text() + "\n";
  md += "**Model-total TOPS** (dense-equivalent, 2·M·N·K / latency):\n\n" + tops.text() + "\n";
  const auto sparse = t.sparse_backends();
  if (t.by_backend.count(Sparsity::dense()) && !sparse.empty()) {
    md += "**Speedup over cuBLASLt** (cuBLASLt total latency ÷ sparse total latency):\n\n";
    md += speedup_table(t.ms, sparse, [&](const Sparsity& b, int64_t m) { return t.speedup(b, m); }) + "\n";
  }
  if (const auto plot = kernel_speedup_plot(t, subject))
    md += add_plot(plots, plot_name("kernel_speedup", t.tag), *plot);
  return md + "\n";
}

// One machine x dtype block per heading, with FP8 on older GPUs named as unsupported.
template <typename Block>
std::string per_machine(const Results& results, const Block& block) {
  std::string md;
  for (const auto& machine : machines(results)) {
    md += "### " + machine.title() + "\n\n";
    for (const auto& dtype : benchmark_dtypes(results)) {
      md += "#### " + dtype_name(dtype) + "\n\n";
      if (dtype != "INT8" && !machine.supports_fp8()) {
        md += "FP8: " + machine.fp8_not_supported() + ".\n\n";
        continue;
      }
      md += block(machine, dtype, machine.name() + ", " + dtype_name(dtype));
    }
  }
  return md;
}

// Cross-GPU: per M and backend, one (value, speedup) column pair per machine.
struct CrossColumns {
  std::string value_name;
  std::function<std::string(const Sparsity&)> label;  // the backend's name in this table
  std::function<std::optional<std::string>(size_t machine, const Sparsity&, int64_t)> value;
  std::function<std::optional<double>(size_t machine, const Sparsity&, int64_t)> speedup;
};

std::string cross_table(const std::vector<Machine>& ms, const std::string& dtype, const std::set<int64_t>& m_values,
                        const std::set<Sparsity>& backends, const CrossColumns& c) {
  std::vector<std::string> header{"M", "backend", "theoretical"};
  for (const auto& machine : ms)
    header.push_back(machine.name() + " " + c.value_name), header.push_back(machine.name() + " speedup");
  MarkdownTable table(header, "rlr" + std::string(2 * ms.size(), 'r'));
  for (int64_t m : m_values)
    for (const auto& b : backends) {
      std::vector<std::string> row{std::to_string(m), c.label(b),
                                   b.is_dense() ? kMissing : format_speedup(theoretical_speedup(b))};
      for (size_t i = 0; i < ms.size(); ++i) {
        if (dtype != "INT8" && !ms[i].supports_fp8()) {
          row.push_back(ms[i].fp8_not_supported()), row.push_back(kMissing);
          continue;
        }
        const auto value = c.value(i, b, m);
        row.push_back(value ? *value : kMissing);
        row.push_back(b.is_dense() ? (value ? "1.00" : kMissing) : speedup_cell(c.speedup(i, b, m)));
      }
      table.add_row(row);
    }
  return table.text() + "\n";
}

}  // namespace

std::string throughput_section(const Results& results, const std::string& stage, std::vector<PlotFile>& plots) {
  std::string md = "## " + stage_title(stage) + " throughput\n\n";
  md += stage == "prefill"
            ? "128 steps of exactly M prompt tokens (prompt_len = min(M, 1024), M/1024 sequences per step), "
              "output_len 1; tokens/s counts prompt and output tokens.\n\n"
            : "M concurrent sequences, 16-token prompts, 256 output tokens each (the prompts' prefill is inside "
              "the elapsed time); tokens/s counts prompt and output tokens.\n\n";
  md += "Dense is the engine's dense path (results folder `cublaslt`): its GEMMs run on cuBLASLt, or for INT8 on "
        "Hopper on its CUTLASS GEMM that applies both scales in the epilogue. SlideSparse 2:L is the sparse path "
        "(folders `cusparselt/2_L`): its GEMMs run on cuSPARSELt, or for INT8 on Hopper on its CUTLASS sparse GEMM "
        "with the dense path's epilogues. Each point's JSON names the GEMM that ran (`qkv_gemm`; points without the "
        "field ran cuBLASLt or cuSPARSELt).\n\n";
  bool any = false;
  for (const auto& s : results.throughput) any = any || s.stage == stage;
  if (!any) return md + no_results_note(results, stage + " results", {stage == "prefill" ? 4 : 5});
  return md + per_machine(results, [&](const Machine& machine, const std::string& dtype, const std::string& subject) {
           const ThroughputTable t = throughput_table(results, stage, machine.key, dtype);
           if (t.empty()) return "_No " + stage + " results for this GPU and dtype._\n\n";
           return throughput_block(t, stage, subject, plots);
         });
}

std::string kernel_section(const Results& results, std::vector<PlotFile>& plots) {
  std::string md =
      "## Kernel benchmark\n\n"
      "BitNet-2B's linear layers qkv (3840×2560), o (2560×2560), gate_up (13824×2560) and down (2560×6912); "
      "cuSPARSELt runs on the slid K'. The model total at each M is the sum of the four layer latencies "
      "(left out when a layer is missing); speedup = cuBLASLt total ÷ sparse total.\n\n";
  if (results.kernels.empty()) return md + no_results_note(results, "kernel results", {6, 7, 8});
  return md + per_machine(results, [&](const Machine& machine, const std::string& dtype, const std::string& subject) {
           const KernelTable t = kernel_table(results, machine.key, dtype);
           if (t.empty()) return std::string("_No kernel results for this GPU and dtype._\n\n");
           return kernel_block(t, subject, plots);
         });
}

std::string speedup_chain_section(const Results& results) {
  std::string body;
  for (const auto& machine : machines(results))
    for (const auto& dtype : benchmark_dtypes(results)) {
      const KernelTable kernels = kernel_table(results, machine.key, dtype);
      const ThroughputTable prefill = throughput_table(results, "prefill", machine.key, dtype);
      const ThroughputTable decode = throughput_table(results, "decode", machine.key, dtype);
      std::set<Sparsity> sparse;
      for (const auto& backends : {kernels.sparse_backends(), prefill.sparse_backends(), decode.sparse_backends()})
        sparse.insert(backends.begin(), backends.end());
      // Columns: the largest kernel M, the largest prefill M, the largest and smallest decode M.
      std::vector<std::string> header{"sparsity", "theoretical L/(L-2)"};
      std::vector<SpeedupOf> columns;
      auto add = [&](const std::string& name, int64_t m, const auto& table) {
        header.push_back(name + " M=" + std::to_string(m));
        columns.push_back([&table, m](const Sparsity& b, int64_t) { return table.speedup(b, m); });
      };
      if (!kernels.ms.empty()) add("kernel", *kernels.ms.rbegin(), kernels);
      if (!prefill.ms.empty()) add("prefill", *prefill.ms.rbegin(), prefill);
      if (!decode.ms.empty()) add("decode", *decode.ms.rbegin(), decode);
      if (decode.ms.size() > 1) add("decode", *decode.ms.begin(), decode);
      MarkdownTable table(header, "l" + std::string(header.size() - 1, 'r'));
      bool any = false;
      for (const auto& b : sparse) {
        std::vector<std::string> row{b.str(), format_speedup(theoretical_speedup(b))};
        for (const auto& column : columns) {
          const auto v = column(b, 0);
          any = any || v.has_value();
          row.push_back(speedup_cell(v));
        }
        table.add_row(row);
      }
      if (any) body += "### " + machine.title() + ", " + dtype_name(dtype) + "\n\n" + table.text() + "\n";
    }
  if (body.empty()) return "";
  return "## Speedup from kernel to end to end\n\n"
         "Each 2:L over the dense path of the same dtype: in theory, for the four linear layers' GEMMs alone "
         "(kernel benchmark, model totals, over cuBLASLt) and for whole engine steps (tokens/s, over the engine's "
         "dense path). What the prefill column "
         "loses against the kernel column is the share of a step that sparsity does not touch: attention, "
         "norms, quantization, embedding and lm_head.\n\n" +
         body;
}

std::string cross_gpu_section(const Results& results) {
  const std::vector<Machine> ms = machines(results);
  if (ms.size() < 2) return "";
  std::string md =
      "## Cross-GPU comparison\n\n"
      "The same M and backends side by side; speedups are over each GPU's own dense path. FP8 needs compute "
      "capability 8.9 or newer.\n\n";
  for (const std::string stage : {"prefill", "decode"}) {
    md += "### " + stage_title(stage) + " tokens/s\n\n";
    for (const auto& dtype : benchmark_dtypes(results)) {
      std::vector<ThroughputTable> tables;
      std::set<int64_t> m_values;
      std::set<Sparsity> backends;
      for (const auto& machine : ms) {
        tables.push_back(throughput_table(results, stage, machine.key, dtype));
        m_values.insert(tables.back().ms.begin(), tables.back().ms.end());
        for (const auto& [b, points] : tables.back().by_backend) backends.insert(b);
      }
      md += "#### " + dtype_name(dtype) + "\n\n";
      if (backends.empty()) {
        md += "_No " + stage + " results._\n\n";
        continue;
      }
      md += cross_table(ms, dtype, m_values, backends,
                        {"tokens/s", [](const Sparsity& b) { return engine_label(b); },
                         [&](size_t i, const Sparsity& b, int64_t m) -> std::optional<std::string> {
                           const ThroughputRow* r = tables[i].find(b, m);
                           if (!r) return std::nullopt;
                           return format_rate(r->tokens_per_s);
                         },
                         [&](size_t i, const Sparsity& b, int64_t m) { return tables[i].speedup(b, m); }});
    }
  }
  md += "### Kernel model totals\n\n";
  for (const auto& dtype : benchmark_dtypes(results)) {
    std::vector<KernelTable> tables;
    std::set<int64_t> m_values;
    std::set<Sparsity> backends;
    for (const auto& machine : ms) {
      tables.push_back(kernel_table(results, machine.key, dtype));
      m_values.insert(tables.back().ms.begin(), tables.back().ms.end());
      for (const auto& [b, totals] : tables.back().by_backend) backends.insert(b);
    }
    md += "#### " + dtype_name(dtype) + "\n\n";
    if (backends.empty()) {
      md += "_No kernel results._\n\n";
      continue;
    }
    md += cross_table(ms, dtype, m_values, backends,
                      {"µs", [](const Sparsity& b) { return backend_label(b); },
                       [&](size_t i, const Sparsity& b, int64_t m) -> std::optional<std::string> {
                         const KernelTotal* t = tables[i].find(b, m);
                         if (!t) return std::nullopt;
                         return format_grouped(t->latency_us, 1);
                       },
                       [&](size_t i, const Sparsity& b, int64_t m) { return tables[i].speedup(b, m); }});
  }
  return md;
}

}  // namespace slidesparse::report
