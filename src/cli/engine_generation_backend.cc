#include "cli/engine_generation_backend.h"

namespace slidesparse {

namespace {

int config_eos(const ModelConfig& c) {
  return c.raw.contains("eos_token_id") && c.raw["eos_token_id"].is_number_integer() ? c.raw["eos_token_id"].get<int>()
                                                                                      : -1;
}

}  // namespace

EngineGenerationBackend::EngineGenerationBackend(const EngineOptions& options)
    : engine_(options),
      max_model_len_(options.runner.max_model_len > 0 ? options.runner.max_model_len
                                                      : static_cast<int>(engine_.config().max_position_embeddings)),
      eos_(options.eos_token >= 0 ? options.eos_token : config_eos(engine_.config())) {}

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
  return {engine_.num_running(), engine_.num_waiting(), engine_.kv_cache_used()};
}

}  // namespace slidesparse
