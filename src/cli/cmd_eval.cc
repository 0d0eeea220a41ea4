#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "engine/perplexity.h"
#include "engine/reference_model.h"
#include "io/staged_directory.h"
#include "runtime/llm_engine.h"
#include "text/text_model.h"

namespace slidesparse {

int run_eval(const CommandArgs& args) {
  ArgParser p("slidesparse eval",
              "Perplexity of a checkpoint on a text file, with the sliding-window protocol of transformers'\n"
              "perplexity guide: windows of --context tokens every --stride tokens, each scoring the tokens past\n"
              "the previous window (so every token after the first is scored once). Run it on the dense W8A8\n"
              "checkpoint and on each SlideSparse one to see what pruning to 2:L costs.");
  add_engine_options(p);
  p.option("text-file", "FILE", "UTF-8 text to score (tokenized whole, with the tokenizer's BOS)");
  p.option("context", "N", "tokens per window", "1024");
  p.option("stride", "N", "tokens between window starts (<= --context)", "512");
  p.option("tokenizer", "DIR", "directory with tokenizer.json (default: the model directory)");
  p.option("json", "FILE", "also write the result as JSON");
  p.flag("cpu-reference", "score with the CPU reference model instead of the GPU engine (tiny models)");
  if (!p.parse(args)) return 0;
  require(p.has("model"), "--model DIR is required");
  require(p.has("text-file"), "--text-file FILE is required");
  const std::filesystem::path model = p.get("model"), file = p.get("text-file");
  const int context = static_cast<int>(p.get_int("context")), stride = static_cast<int>(p.get_int("stride"));
  std::ifstream in(file, std::ios::binary);
  require(in.good(), "eval: cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  const TextModel tokenizer = TextModel::load(p.has("tokenizer") ? std::filesystem::path(p.get("tokenizer")) : model);
  const std::vector<int32_t> tokens = tokenizer.encode_prompt(text.str());

  std::function<std::vector<float>(const std::vector<int32_t>&)> logits_of;
  std::unique_ptr<ReferenceModel> reference;
  std::unique_ptr<LlmEngine> engine;
  int64_t vocab = 0;
  if (p.has("cpu-reference")) {
    reference = std::make_unique<ReferenceModel>(model);
    vocab = reference->config().vocab_size;
    require(context <= reference->config().max_position_embeddings,
            "eval: --context " + std::to_string(context) + " exceeds the model's " +
                std::to_string(reference->config().max_position_embeddings) + " positions");
    logits_of = [&](const std::vector<int32_t>& w) { return reference->forward(w); };
  } else {
    EngineOptions o = engine_options_from(p);
    // One window per step, every row sampled; no decode, so no CUDA graphs.
    o.runner.max_num_seqs = std::max(o.runner.max_num_seqs, context);
    o.runner.max_num_batched_tokens = std::max(o.runner.max_num_batched_tokens, context);
    if (o.runner.max_model_len <= 0 || o.runner.max_model_len < context) o.runner.max_model_len = context;
    o.runner.cuda_graphs = false;
    engine = std::make_unique<LlmEngine>(o);
    vocab = engine->config().vocab_size;
    logits_of = [&](const std::vector<int32_t>& w) { return engine->prompt_logits(w); };
  }
  for (int32_t t : tokens)
    require(t < vocab, "eval: the tokenizer gives id " + std::to_string(t) + ", outside the model's vocabulary of " +
                           std::to_string(vocab));
  const Stopwatch clock;
  const PerplexityResult r = sliding_window_perplexity(tokens, context, stride, vocab, logits_of);
  const double seconds = clock.seconds();
  std::printf("eval: perplexity %.4f over %lld tokens of %s (%lld windows of up to %d tokens, stride %d); "
              "%lld tokens through the model in %.2f s (%.0f tokens/s)\n",
              r.perplexity(), static_cast<long long>(r.scored), file.filename().c_str(),
              static_cast<long long>(r.windows), context, stride, static_cast<long long>(r.model_tokens), seconds,
              r.model_tokens / std::max(seconds, 1e-9));
  if (p.has("json")) {
    const nlohmann::json j = {{"model", model.string()},     {"text_file", file.string()},
                              {"context", context},          {"stride", stride},
                              {"tokens", tokens.size()},     {"scored_tokens", r.scored},
                              {"windows", r.windows},        {"nll_sum", r.nll_sum},
                              {"perplexity", r.perplexity()}, {"seconds", seconds},
                              {"backend", p.has("cpu-reference") ? "cpu-reference" : "gpu"}};
    write_file_atomic(p.get("json"), j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace slidesparse
