#include "bench/perplexity_eval.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/stopwatch.h"
#include "reference/reference_model.h"
#include "text/text_model.h"

namespace slidesparse {

PerplexityEval evaluate_perplexity(const PerplexityEvalOptions& o) {
  std::ifstream in(o.text_file, std::ios::binary);
  require(in.good(), "eval: cannot read " + o.text_file.string());
  std::stringstream text;
  text << in.rdbuf();
  const TextModel tokenizer = TextModel::load(o.tokenizer.empty() ? o.model : o.tokenizer);
  const std::vector<int32_t> tokens = tokenizer.encode_prompt(text.str());

  std::function<std::vector<float>(const std::vector<int32_t>&)> logits_of;
  std::unique_ptr<ReferenceModel> reference;
  std::unique_ptr<LlmEngine> engine;
  int64_t vocab = 0;
  if (o.cpu_reference) {
    reference = std::make_unique<ReferenceModel>(o.model);
    vocab = reference->config().vocab_size;
    require(o.context <= reference->config().max_position_embeddings,
            "eval: --context " + std::to_string(o.context) + " exceeds the model's " +
                std::to_string(reference->config().max_position_embeddings) + " positions");
    logits_of = [&](const std::vector<int32_t>& w) { return reference->forward(w); };
  } else {
    EngineOptions e = o.engine;
    e.model = o.model;
    // One window per step with every row sampled; no decode steps, so no CUDA graphs.
    e.runner.max_num_seqs = std::max(e.runner.max_num_seqs, o.context);
    e.runner.max_num_batched_tokens = std::max(e.runner.max_num_batched_tokens, o.context);
    if (e.runner.max_model_len < o.context) e.runner.max_model_len = o.context;
    e.runner.cuda_graphs = false;
    engine = std::make_unique<LlmEngine>(e);
    vocab = engine->config().vocab_size;
    logits_of = [&](const std::vector<int32_t>& w) { return engine->prompt_logits(w); };
  }
  for (int32_t t : tokens)
    require(t < vocab, "eval: the tokenizer gives id " + std::to_string(t) + ", outside the model's vocabulary of " +
                           std::to_string(vocab));
  PerplexityEval r;
  r.text_tokens = static_cast<int64_t>(tokens.size());
  const Stopwatch clock;
  r.result = sliding_window_perplexity(tokens, o.context, o.stride, vocab, logits_of);
  r.seconds = clock.seconds();
  return r;
}

nlohmann::json PerplexityEval::to_json(const PerplexityEvalOptions& o) const {
  return {{"model", o.model.filename().string()},
          {"text_file", o.text_file.filename().string()},
          {"context", o.context},
          {"stride", o.stride},
          {"tokens", text_tokens},
          {"scored_tokens", result.scored},
          {"windows", result.windows},
          {"nll_sum", result.nll_sum},
          {"perplexity", result.perplexity()},
          {"seconds", seconds},
          {"backend", o.cpu_reference ? "cpu-reference" : "gpu"}};
}

}  // namespace slidesparse
