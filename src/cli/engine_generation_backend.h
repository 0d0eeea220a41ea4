// GenerationBackend on the GPU engine (runtime/llm_engine.h): its continuous batching and paged
// KV cache, each step's new tokens reported per request.
#pragma once

#include <map>
#include <memory>

#include "runtime/llm_engine.h"
#include "serve/generation_backend.h"

namespace slidesparse {

class EngineGenerationBackend : public GenerationBackend {
 public:
  explicit EngineGenerationBackend(const EngineOptions& options);

  int64_t vocab_size() const override { return engine_.config().vocab_size; }
  int max_model_len() const override { return engine_.max_model_len(); }
  int64_t add(std::vector<int32_t> prompt, const SamplingParams& params) override;
  void abort(int64_t request) override;
  bool idle() const override { return engine_.idle(); }
  std::vector<TokenEvent> step() override;
  BackendLoad load() const override;
  const LlmEngine& engine() const { return engine_; }

 private:
  LlmEngine engine_;
  int eos_;
  std::map<int64_t, int> reported_;  // per request: generated tokens already reported
};

// The backend of the text commands: the GPU engine, or with `cpu_reference` the CPU reference model
// of the checkpoint advancing `options.runner.max_num_seqs` requests per step.
std::unique_ptr<GenerationBackend> make_generation_backend(const EngineOptions& options, bool cpu_reference);

}  // namespace slidesparse
