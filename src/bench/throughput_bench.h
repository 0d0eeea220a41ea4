// End-to-end throughput (docs/PROTOCOLS.md, the reference's vllm bench throughput protocol) on the native
// engine: a fresh engine per point (load and graph capture excluded from the timed region), random
// prompt token ids, EOS ignored, tokens/s counting prompt + output tokens. Results go to
// <out>/<prefill|decode>/<hardware tag>/<cublaslt | cusparselt/2_L>/BitNet-2B_<stage>.csv plus
// json/BitNet-2B_M<M>.json per point, with the reference's CSV columns; the CSV is rebuilt from the
// JSONs after every point (bench_results.h), so it also holds points of earlier sweeps in that folder.
// Ctrl-C stops the sweep between points (Error "interrupted"); finished points stay written.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "gemm/gemm_types.h"
#include "runtime/llm_engine.h"

namespace slidesparse {

struct ThroughputOptions {
  std::string stage = "prefill";  // prefill | decode
  // The checkpoint, backend, tuning database and runtime switches. Its sizing (sequences and
  // tokens per step, context, chunked prefill) is replaced per point by the protocol.
  EngineOptions engine;
  std::vector<int64_t> ms;
  std::filesystem::path out_dir;
  uint64_t seed = 0;
  bool profile = false;  // after each point, one more step phase by phase (docs/PERF.md breakdown)
  // The protocol samples greedily. With temperature > 0, sampled_share of the requests (spread
  // evenly over them) sample at that temperature with top-k / top-p, each from its own seed; the
  // others stay greedy.
  float temperature = 0.0f;
  int top_k = 0;
  float top_p = 1.0f;
  double sampled_share = 1.0;
};

// Throws Error for a temperature below 0, top_k below 0, top_p outside (0, 1] or a share outside [0, 1].
void check_sampling_options(const ThroughputOptions& options);

struct ThroughputPoint {
  int64_t m = 0;
  int prompt_len = 0, max_num_seqs = 0, num_prompts = 0, steps = 0, output_len = 0;
  double requests_per_s = 0, tokens_per_s = 0, elapsed_s = 0, startup_s = 0;
};

// Called after each point's JSON and the CSV are written (the pipeline records the point as done).
using ThroughputPointDone = std::function<void(const ThroughputPoint&)>;

std::vector<ThroughputPoint> run_throughput_bench(const ThroughputOptions& options,
                                                 const ThroughputPointDone& on_point = {});

}  // namespace slidesparse
