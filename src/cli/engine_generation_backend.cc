#include "cli/engine_generation_backend.h"

#include "serve/reference_backend.h"

namespace slidesparse {

EngineGenerationBackend::EngineGenerationBackend(const EngineOptions& options)
    : engine_(options),
      eos_(options.eos_token >= 0 ? options.eos_token : static_cast<int>(engine_.config().eos_token_id)) {}

int64_t EngineGenerationBackend::add(std::vector<int32_t> prompt, const SamplingParams& params) {
  const int64_t id = engine_.add_request(std::move(prompt), params);
  reported_[id] = 0;
  return id;
}

void EngineGenerationBackend::abort(int64_t request) {
  engine_.abort_request(request);
  reported_.erase(request);
}

std::vector<TokenEvent> EngineGenerationBackend::step() {
  engine_.step();
  std::vector<TokenEvent> events;
  for (const auto& seq : engine_.requests()) {
    const auto it = reported_.find(seq->id);
    if (it == reported_.end()) continue;
    const bool finished = seq->status == SequenceStatus::Finished;
    for (int i = it->second; i < seq->num_generated(); ++i) {
      TokenEvent e{seq->id, seq->tokens[static_cast<size_t>(seq->num_prompt_tokens + i)]};
      e.finished = finished && i == seq->num_generated() - 1;
      e.eos = e.finished && e.token == eos_ && !seq->params.ignore_eos;
      events.push_back(e);
    }
    it->second = seq->num_generated();
    if (finished) reported_.erase(it);
  }
  return events;
}

BackendLoad EngineGenerationBackend::load() const {
  return {engine_.num_running(), engine_.num_waiting(), engine_.kv_cache_used(),
          engine_.stats().prefix_cached_tokens, engine_.stats().preemptions};
}

std::unique_ptr<GenerationBackend> make_generation_backend(const EngineOptions& options, bool cpu_reference) {
  if (cpu_reference) return std::make_unique<ReferenceBackend>(options.model, options.runner.max_num_seqs);
  return std::make_unique<EngineGenerationBackend>(options);
}

}  // namespace slidesparse
