// The units of the nine tasks: their keys, options (each carries its inputs' options, so a changed
// input reruns everything downstream) and how to run them. Internal to the pipeline library.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "math/sparsity.h"
#include "math/weight_code.h"
#include "pipeline/pipeline_run.h"

namespace slidesparse {

// Where everything lives under OUT, and the options of the checkpoint units.
class PipelineLayout {
 public:
  explicit PipelineLayout(const PipelineOptions& options);

  std::string label;  // "BitNet-2B"
  std::filesystem::path checkpoints, results;

  std::string bf16_name() const { return label + "-BF16"; }
  std::string prepared_name(QuantKind kind) const;                              // "BitNet-2B-INT8"
  std::string slid_name(QuantKind kind, Sparsity pattern) const;  // "BitNet-2B-INT8-SlideSparse-2_4"

  std::string base_key() const { return "base/BF16"; }
  std::string prepare_key(QuantKind kind) const;                            // "base/INT8"
  std::string convert_key(QuantKind kind, Sparsity p) const;  // "convert/INT8/2:4"
  nlohmann::json base_options() const;
  nlohmann::json prepare_options(QuantKind kind) const;
  nlohmann::json convert_options(QuantKind kind, Sparsity p) const;
  // The checkpoint of a weight sparsity: the prepared one (dense) or its 2:L conversion.
  std::string checkpoint_name(QuantKind kind, Sparsity s) const;
  std::string checkpoint_key(QuantKind kind, Sparsity s) const;
  nlohmann::json checkpoint_options(QuantKind kind, Sparsity s) const;

 private:
  const PipelineOptions& options_;
};

// Task 1 (base models) and task 2 (conversion): CPU only.
std::vector<UnitBatch> plan_base_models(const PipelineLayout& layout, const PipelineOptions& options);
std::vector<UnitBatch> plan_conversions(const PipelineLayout& layout, const PipelineOptions& options);

// Tasks 3..9 on the GPU. `fp8_skip` non-empty: why FP8 units cannot run on this GPU.
struct GpuContext {
  std::string fp8_skip;
  std::string hardware;  // tuning database tag, for results/tuning/summary.json
};
std::vector<UnitBatch> plan_tuning(const PipelineLayout& layout, const PipelineOptions& options, const GpuContext& gpu);
std::vector<UnitBatch> plan_throughput(const PipelineLayout& layout, const PipelineOptions& options,
                                       const GpuContext& gpu, const std::string& stage);
// group: "dense" (task 6), "high" (task 7: options.sparsities), "low" (task 8: options.low_sparsities).
std::vector<UnitBatch> plan_kernels(const PipelineLayout& layout, const PipelineOptions& options, const GpuContext& gpu,
                                    const std::string& group);
// Task 9: the perplexity of the dense and every 2:L checkpoint on options.eval_text (none without it).
std::vector<UnitBatch> plan_perplexity(const PipelineLayout& layout, const PipelineOptions& options,
                                       const GpuContext& gpu);

}  // namespace slidesparse
