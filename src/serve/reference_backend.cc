#include "serve/reference_backend.h"

#include <algorithm>

#include "core/error.h"

namespace slidesparse {

ReferenceBackend::ReferenceBackend(const std::filesystem::path& checkpoint, int max_running)
    : model_(checkpoint),
      sampler_(model_.config().vocab_size),
      max_running_(max_running),
      eos_(static_cast<int>(model_.config().eos_token_id)) {
  require(max_running > 0, "reference backend: max_running must be positive");
}

int64_t ReferenceBackend::vocab_size() const { return model_.config().vocab_size; }

int ReferenceBackend::max_model_len() const { return static_cast<int>(model_.config().max_position_embeddings); }

int64_t ReferenceBackend::add(std::vector<int32_t> prompt, const SamplingParams& params) {
  require(!prompt.empty(), "empty prompt");
  require(static_cast<int>(prompt.size()) < max_model_len(),
          "prompt of " + std::to_string(prompt.size()) + " tokens leaves no room in the context of " +
              std::to_string(max_model_len()));
  for (int32_t t : prompt)
    require(t >= 0 && t < vocab_size(), "token id " + std::to_string(t) + " outside the vocabulary");
  requests_.emplace_back(next_id_, std::move(prompt), params);
  requests_.back().status = SequenceStatus::Waiting;
  return next_id_++;
}

void ReferenceBackend::abort(int64_t request) {
  std::erase_if(requests_, [request](const Sequence& s) { return s.id == request; });
}

std::vector<TokenEvent> ReferenceBackend::step() {
  std::vector<TokenEvent> events;
  const size_t running = std::min(requests_.size(), static_cast<size_t>(max_running_));
  for (size_t i = 0; i < running; ++i) {
    Sequence& seq = requests_[i];
    seq.status = SequenceStatus::Running;
    const std::vector<float> logits = model_.forward(seq.tokens);
    const float* last = logits.data() + (logits.size() - static_cast<size_t>(vocab_size()));
    const int32_t token = sampler_.sample(last, seq.params, seq.id, seq.num_tokens());
    seq.tokens.push_back(token);
    TokenEvent e{seq.id, token};
    e.eos = token == eos_ && !seq.params.ignore_eos;
    e.finished = e.eos || seq.num_generated() >= seq.params.max_tokens || seq.num_tokens() >= max_model_len();
    if (e.finished) seq.status = SequenceStatus::Finished;
    events.push_back(e);
  }
  std::erase_if(requests_, [](const Sequence& s) { return s.status == SequenceStatus::Finished; });
  return events;
}

BackendLoad ReferenceBackend::load() const {
  const int n = static_cast<int>(requests_.size());
  return {std::min(n, max_running_), std::max(0, n - max_running_), 0.0};
}

}  // namespace slidesparse
