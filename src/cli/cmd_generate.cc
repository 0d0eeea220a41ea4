#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/engine_generation_backend.h"
#include "cli/text_reply.h"
#include "core/error.h"
#include "runtime/llm_engine.h"
#include "text/text_model.h"

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

// --text / --chat: one request, its reply printed as the tokens arrive (special tokens skipped),
// ended by the model's end-of-sequence token, a stop token of the tokenizer files, or --max-tokens.
int generate_text(const ArgParser& p, const SamplingParams& params) {
  const std::filesystem::path model = p.get("model");
  const TextModel text = TextModel::load(p.has("tokenizer") ? std::filesystem::path(p.get("tokenizer")) : model);
  const std::string input = p.get("text");
  const std::vector<int32_t> prompt = p.has("chat") ? text.encode_chat({{"user", input}}) : text.encode_prompt(input);
  const std::unique_ptr<GenerationBackend> backend =
      make_generation_backend(engine_options_from(p), p.has("cpu-reference"));
  const TextReply reply = stream_text_reply(*backend, text, prompt, params, stdout);
  std::fputs("\n", stdout);
  if (p.has("stats"))
    std::fprintf(stderr, "prompt %zu tokens, generated %d tokens\n", prompt.size(), reply.generated);
  return 0;
}

}  // namespace

int run_generate(const CommandArgs& args) {
  ArgParser p("slidesparse generate",
              "Generates on the native engine. With --text (and --chat): the reply to a text prompt, printed as\n"
              "it is generated, through the checkpoint's tokenizer.json (and chat template). With --prompt: token-id\n"
              "prompts, one line per request with its id, the prompt length and the generated ids.");
  add_engine_options(p);
  p.option("prompt", "IDS", "token ids, comma-separated; several prompts separated by ';'");
  p.option("text", "TEXT", "a text prompt (the reply is printed as text)");
  p.flag("chat", "with --text: send it as one user message through the model's chat template");
  p.option("tokenizer", "DIR", "directory with tokenizer.json (default: the model directory)");
  p.flag("cpu-reference", "with --text: run the CPU reference model instead of the GPU engine (tiny models)");
  add_sampling_options(p, "16");
  p.flag("stats", "print the engine's stats line and start-up time to stderr");
  if (!p.parse(args)) return 0;
  require(p.has("prompt") != p.has("text"), "give one of --prompt IDS or --text TEXT");
  require(!p.has("chat") || p.has("text"), "--chat goes with --text");
  require(!p.has("cpu-reference") || p.has("text"), "--cpu-reference goes with --text");
  const SamplingParams params = sampling_params_from(p);  // checked before any model loads
  if (p.has("text")) return generate_text(p, params);
  const auto prompts = parse_prompts(p.get("prompt"));

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
