// `slidesparse eval` and the pipeline's perplexity task: a text file's sliding-window perplexity
// (math/perplexity.h) on a checkpoint, through its tokenizer, on the GPU engine or the CPU
// reference model; the result as JSON (results/eval/<checkpoint>.json in a pipeline run).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "math/perplexity.h"
#include "runtime/llm_engine.h"

namespace slidesparse {

struct PerplexityEvalOptions {
  std::filesystem::path model, text_file;
  std::filesystem::path tokenizer;  // empty: the model directory
  int context = 1024, stride = 512;
  bool cpu_reference = false;
  EngineOptions engine;  // GPU: its runner limits are raised to one window per step
};

struct PerplexityEval {
  PerplexityResult result;
  int64_t text_tokens = 0;
  double seconds = 0;  // scoring only (not loading)
  nlohmann::json to_json(const PerplexityEvalOptions& o) const;
};

// Throws Error for an unreadable file, a missing tokenizer, ids past the model's vocabulary, or
// window settings perplexity() refuses.
PerplexityEval evaluate_perplexity(const PerplexityEvalOptions& options);

}  // namespace slidesparse
