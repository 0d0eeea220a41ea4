// Everything a results folder (the pipeline's --out) holds, read back for the report. The layout is
// the pipeline's contract: pipeline_status.json, results/{prepare,convert,tuning}, and the benchmark
// folders `slidesparse bench throughput|kernel` write. Missing pieces are normal (a task that has not
// run): they read as empty. Malformed files throw Error naming the file (and line for CSVs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/result_names.h"

namespace slidesparse::report {

struct TaskRecord {
  int id = 0;
  std::string name, status, reason;  // status: done | failed | skipped | pending | running | interrupted
  double seconds = 0;
  int64_t units_done = 0, units_total = 0;
};

struct UnitRecord {
  std::string key, status, error;  // status: done | failed
  double seconds = 0;
};

struct PipelineStatus {
  std::string model, started_utc, updated_utc;
  std::vector<TaskRecord> tasks;  // by id
  std::vector<UnitRecord> units;  // by key
};

struct PreparedCheckpoint {
  std::string name, dtype;
  double seconds = 0;
  uint64_t bytes = 0;
  int64_t tensors = 0;
};

struct ConvertedCheckpoint {
  std::string name, dtype;
  Sparsity sparsity;
  double seconds = 0;
  uint64_t bytes = 0;
  double expand_ratio = 0, zero_fraction_before = 0, zero_fraction_after = 0;
};

// One results/eval/<checkpoint>.json of the pipeline's task 9.
struct PerplexityPoint {
  std::string checkpoint, dtype, text_file;
  Sparsity sparsity;  // dense for the prepared checkpoint
  double perplexity = 0;
  int64_t scored_tokens = 0;
  int context = 0, stride = 0;
};

struct TuningPhase {
  std::string name, dtype;
  double seconds = 0;
  int64_t entries = 0;
  int64_t rejected = 0;  // GEMM candidates the search dropped (refused, failed, wrong, crashed); 0 in older results
};

struct TuningSummary {
  std::string hardware;
  std::vector<TuningPhase> phases;
};

// One row of BitNet-2B_<stage>.csv. A point the benchmark could not run is written with -1 values.
struct ThroughputRow {
  int64_t m = 0, prompt_len = 0, max_num_seqs = 0, num_prompts = 0, steps = 0, output_len = 0;
  double requests_per_s = 0, tokens_per_s = 0, elapsed_s = 0;
  // 2:L points: the linear layers ("qkv", "o", ...) that ran the dense GEMM on their pruned weight at this M
  // (the point's JSON, field dense_fallback).
  std::vector<std::string> dense_gemm_layers;
  bool failed() const { return tokens_per_s < 0; }
};

struct ThroughputSeries {
  std::string stage;  // prefill | decode
  HardwareFolder hardware;
  Sparsity backend;
  std::vector<ThroughputRow> rows;  // ascending M
};

// One row of <label>_layers.csv.
struct KernelLayerRow {
  int64_t m = 0, n = 0, k = 0, k_gemm = 0;
  std::string layer;
  double latency_us = 0, tops = 0;
};

struct KernelSeries {
  HardwareFolder hardware;
  Sparsity backend;
  std::vector<KernelLayerRow> rows;  // file order
};

struct Results {
  std::optional<PipelineStatus> status;
  std::vector<PreparedCheckpoint> prepared;    // by name
  std::vector<ConvertedCheckpoint> converted;  // by dtype, then sparsity
  std::optional<TuningSummary> tuning;
  std::vector<ThroughputSeries> throughput;  // by stage, hardware tag, backend
  std::vector<KernelSeries> kernels;         // by hardware tag, backend
  std::vector<PerplexityPoint> perplexity;   // by dtype, then sparsity (dense first)
};

Results read_results(const std::filesystem::path& out_dir);

// Appends the throughput and kernel series of `others` (runs of other GPUs) for the machines `into`
// has no series of: the run of a machine owns that machine's numbers.
void add_other_machines(Results& into, const std::vector<Results>& others);

}  // namespace slidesparse::report
