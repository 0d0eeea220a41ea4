// GenerationBackend on the CPU reference model (reference/reference_model.h): every step runs each
// running request's whole sequence through the float forward and samples its next token with the
// engine's Sampler. Quadratic in the sequence length and meant for tiny checkpoints: the server's
// tests, and serving without a GPU for a look at a small model's behaviour.
#pragma once

#include <deque>
#include <filesystem>
#include <memory>

#include "reference/reference_model.h"
#include "sequences/sampler.h"
#include "serve/generation_backend.h"

namespace slidesparse {

class ReferenceBackend : public GenerationBackend {
 public:
  // max_running: requests advanced per step (the rest wait, in arrival order).
  ReferenceBackend(const std::filesystem::path& checkpoint, int max_running);

  int64_t vocab_size() const override;
  int max_model_len() const override;
  int64_t add(std::vector<int32_t> prompt, const SamplingParams& params) override;
  void abort(int64_t request) override;
  bool idle() const override { return requests_.empty(); }
  std::vector<TokenEvent> step() override;
  BackendLoad load() const override;

 private:
  ReferenceModel model_;
  Sampler sampler_;
  int max_running_;
  int eos_;
  int64_t next_id_ = 0;
  std::deque<Sequence> requests_;  // arrival order; the first max_running_ run
};

}  // namespace slidesparse
