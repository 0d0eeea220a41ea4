// `slidesparse chat`: a conversation in the terminal. Each line on stdin is a user message; the
// reply is printed as it is generated, and the conversation so far (an optional system message,
// then every message and reply) is the next prompt, through the checkpoint's chat template. With
// --enable-prefix-caching the engine reuses the KV-cache blocks of the earlier turns.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/engine_generation_backend.h"
#include "cli/text_reply.h"
#include "core/error.h"
#include "text/text_model.h"

namespace slidesparse {

namespace {

// The conversation as a prompt that leaves room in the context for a reply of max_tokens, or of a
// quarter of the context if that is less: the oldest exchanges after the system message are
// dropped until it does. Returns the number of messages dropped, or -1 when the last message alone
// does not fit.
int fit_conversation(std::vector<ChatMessage>& messages, bool has_system, const TextModel& text, int max_model_len,
                     int max_tokens, std::vector<int32_t>& prompt) {
  const size_t first = has_system ? 1 : 0;
  const int room = std::max(1, std::min(max_tokens, max_model_len / 4));
  int dropped = 0;
  for (;;) {
    prompt = text.encode_chat(messages);
    if (static_cast<int>(prompt.size()) + room <= max_model_len) return dropped;
    if (messages.size() <= first + 1) return -1;
    // An exchange: the oldest user message and the reply after it.
    const size_t n = messages.size() - first > 2 && messages[first + 1].role == "assistant" ? 2 : 1;
    messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(first),
                   messages.begin() + static_cast<std::ptrdiff_t>(first + n));
    dropped += static_cast<int>(n);
  }
}

}  // namespace

int run_chat(const CommandArgs& args) {
  ArgParser p("slidesparse chat",
              "A conversation in the terminal: each line read from stdin is a user message, and the reply is\n"
              "printed as it is generated (one line per reply). The conversation so far goes through the\n"
              "checkpoint's chat template as the next prompt; when it no longer leaves room in the context for a\n"
              "reply of --max-tokens (or a quarter of the context, if less), its oldest exchanges are dropped\n"
              "(said on stderr). End with end of input (Ctrl-D).");
  add_engine_options(p);
  p.option("system", "TEXT", "a system message before the conversation");
  p.option("tokenizer", "DIR", "directory with tokenizer.json and the chat template (default: the model directory)");
  p.flag("cpu-reference", "run the CPU reference model instead of the GPU engine (tiny models)");
  add_sampling_options(p, "512");
  p.flag("stats", "print each reply's prompt and generated tokens, and the prefix cache's hits, to stderr");
  if (!p.parse(args)) return 0;
  const SamplingParams params = sampling_params_from(p);  // checked before any model loads
  const std::filesystem::path model = p.get("model");
  const TextModel text = TextModel::load(p.has("tokenizer") ? std::filesystem::path(p.get("tokenizer")) : model);
  require(text.has_chat_template(), (p.has("tokenizer") ? p.get("tokenizer") : model.string()) +
                                        ": chat needs the checkpoint's chat template (tokenizer_config.json)");
  const std::unique_ptr<GenerationBackend> backend =
      make_generation_backend(engine_options_from(p), p.has("cpu-reference"));
  const int max_model_len = backend->max_model_len();

  std::vector<ChatMessage> messages;
  const bool has_system = p.has("system");
  if (has_system) messages.push_back({"system", p.get("system")});
  const bool interactive = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (interactive) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    std::vector<ChatMessage> next = messages;  // the conversation stays as it was if the message is left out
    next.push_back({"user", line});
    std::vector<int32_t> prompt;
    const int dropped = fit_conversation(next, has_system, text, max_model_len, params.max_tokens, prompt);
    if (dropped < 0) {
      std::fprintf(stderr, "this message does not fit the context of %d tokens with the system message; "
                           "it was left out\n", max_model_len);
      continue;
    }
    messages = std::move(next);
    if (dropped > 0)
      std::fprintf(stderr, "(%d earlier messages dropped to fit the context of %d tokens)\n", dropped, max_model_len);
    SamplingParams turn = params;
    turn.max_tokens = std::min(params.max_tokens, max_model_len - static_cast<int>(prompt.size()));
    const TextReply reply = stream_text_reply(*backend, text, prompt, turn, stdout);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (p.has("stats"))
      std::fprintf(stderr, "prompt %zu tokens, generated %d tokens, prompt tokens from the prefix cache so far %lld\n",
                   prompt.size(), reply.generated, static_cast<long long>(backend->load().prefix_cached_tokens));
    messages.push_back({"assistant", reply.text});
  }
  return 0;
}

}  // namespace slidesparse
