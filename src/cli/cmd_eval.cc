#include <algorithm>
#include <cstdio>

#include "bench/perplexity_eval.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/error.h"
#include "io/staged_directory.h"

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
  PerplexityEvalOptions o;
  o.engine = engine_options_from(p);
  o.model = o.engine.model;
  o.text_file = p.get("text-file");
  if (p.has("tokenizer")) o.tokenizer = p.get("tokenizer");
  o.context = static_cast<int>(p.get_int("context"));
  o.stride = static_cast<int>(p.get_int("stride"));
  o.cpu_reference = p.has("cpu-reference");
  const PerplexityEval e = evaluate_perplexity(o);
  const PerplexityResult& r = e.result;
  std::printf("eval: perplexity %.4f over %lld tokens of %s (%lld windows of up to %d tokens, stride %d); "
              "%lld tokens through the model in %.2f s (%.0f tokens/s)\n",
              r.perplexity(), static_cast<long long>(r.scored), o.text_file.filename().c_str(),
              static_cast<long long>(r.windows), o.context, o.stride, static_cast<long long>(r.model_tokens),
              e.seconds, r.model_tokens / std::max(e.seconds, 1e-9));
  if (p.has("json")) write_file_atomic(p.get("json"), e.to_json(o).dump(2) + "\n");
  return 0;
}

}  // namespace slidesparse
