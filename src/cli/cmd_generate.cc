#include <cstdio>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/error.h"
#include "runtime/llm_engine.h"

namespace slidesparse {

namespace {

// "1,2,3;4,5" -> {{1,2,3},{4,5}}
std::vector<std::vector<int32_t>> parse_prompts(const std::string& text) {
  std::vector<std::vector<int32_t>> prompts;
  std::stringstream all(text);
  std::string one;
  while (std::getline(all, one, ';')) {
    std::vector<int32_t> ids;
    for (int64_t id : parse_int_list("prompt", one)) {
      require(id >= 0 && id <= INT32_MAX, "--prompt: token id " + std::to_string(id) + " out of range");
      ids.push_back(static_cast<int32_t>(id));
    }
    prompts.push_back(std::move(ids));
  }
  require(!prompts.empty(), "--prompt: no prompt given");
  return prompts;
}

}  // namespace

int run_generate(const CommandArgs& args) {
  ArgParser p("slidesparse generate",
              "Generates tokens for prompts given as token ids on the native engine (a tokenizer comes later).\n"
              "Prints one line per request: its id, the prompt length and the generated ids.");
  add_engine_options(p);
  p.option("prompt", "IDS", "token ids, comma-separated; several prompts separated by ';'");
  p.option("max-tokens", "N", "tokens to generate per request", "16");
  p.option("temperature", "F", "0 = greedy", "0");
  p.option("top-k", "N", "0 = off", "0");
  p.option("top-p", "F", "1 = off", "1");
  p.option("seed", "N", "sampling seed", "0");
  p.flag("ignore-eos", "keep generating after the end-of-sequence token");
  p.flag("stats", "print the engine's stats line and start-up time to stderr");
  if (!p.parse(args)) return 0;
  require(p.has("prompt"), "--prompt IDS is required");
  const auto prompts = parse_prompts(p.get("prompt"));
  SamplingParams params;
  params.max_tokens = static_cast<int>(p.get_int("max-tokens"));
  params.temperature = static_cast<float>(parse_double("temperature", p.get("temperature")));
  params.top_k = static_cast<int>(p.get_int("top-k"));
  params.top_p = static_cast<float>(parse_double("top-p", p.get("top-p")));
  params.seed = p.get_uint("seed");
  params.ignore_eos = p.has("ignore-eos");
  require(params.max_tokens > 0, "--max-tokens must be positive");

  LlmEngine engine(engine_options_from(p));
  std::vector<int64_t> ids;
  for (const auto& prompt : prompts) ids.push_back(engine.add_request(prompt, params));
  std::vector<std::string> lines(prompts.size());
  while (!engine.idle())
    for (const Sequence* seq : engine.step()) {
      std::string line = "request " + std::to_string(seq->id) + " prompt " + std::to_string(seq->num_prompt_tokens) +
                         " tokens: generated";
      for (int i = seq->num_prompt_tokens; i < seq->num_tokens(); ++i)
        line += " " + std::to_string(seq->tokens[static_cast<size_t>(i)]);
      lines[static_cast<size_t>(seq->id - ids.front())] = line;
    }
  for (const auto& line : lines) std::printf("%s\n", line.c_str());
  if (p.has("stats"))
    std::fprintf(stderr, "start-up %.2f s | %s | preemptions %lld\n", engine.startup_seconds(),
                 engine.stats_line().c_str(), static_cast<long long>(engine.stats().preemptions));
  return 0;
}

}  // namespace slidesparse
