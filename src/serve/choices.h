// The choices of one OpenAI request between the HTTP thread and the engine: its prompts as token ids,
// one engine request per choice (n per prompt), each choice's tokens turned into text as they arrive
// (cut at stop strings), and a streamed response's chunks. No HTTP here: the server writes what
// these produce.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "serve/openai_protocol.h"
#include "serve/request_hub.h"
#include "serve/stop_strings.h"
#include "text/text_model.h"
#include "text/text_stream.h"

namespace slidesparse {

// One choice's reply as text: its tokens detokenized as they arrive (special tokens skipped, as
// OpenAI servers do, unless the request keeps them), cut at the first stop string or before the
// first of the request's stop token ids.
class Reply {
 public:
  Reply(const TextModel& text, const GenerationRequest& request, const std::vector<int32_t>& prompt,
        std::shared_ptr<RequestStream> stream);

  // Waits up to `wait` for tokens; returns the text that became final. Sets done() at the end. A
  // failure ends the reply (finish reason "abort") instead of leaving this call.
  std::string pull(RequestHub& hub, std::chrono::milliseconds wait);

  bool done() const { return done_; }
  const std::string& finish_reason() const { return finish_reason_; }
  int completion_tokens() const { return completion_tokens_; }
  const std::shared_ptr<RequestStream>& stream() const { return stream_; }

 private:
  std::string pull_unchecked(RequestHub& hub, std::chrono::milliseconds wait);

  std::shared_ptr<RequestStream> stream_;
  TextStream text_;
  StopStrings stops_;
  std::vector<int32_t> stop_token_ids_;
  int completion_tokens_ = 0;
  bool done_ = false;
  std::string finish_reason_;
};

// A request's prompts as token ids (chat: the one templated conversation), each with its echo and
// the max_tokens of its completions.
struct EncodedPrompts {
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::string> echoes;
  std::vector<int> max_tokens;
};

// Tokenizes every prompt (chat through the template with the request's chat options), cuts each to
// its last truncate_prompt_tokens tokens, and checks them: ids inside the vocabulary, prompt +
// max_tokens inside the context (completion_budget). The error is the one to answer with.
std::variant<EncodedPrompts, ApiError> encode_prompts(const GenerationRequest& request, const TextModel& text,
                                                      int vocab_size, int max_model_len);

// The choices of one request, in index order: choice i * n + j is prompt i's j-th.
struct Choices {
  std::vector<std::shared_ptr<Reply>> replies;
  std::vector<std::string> echoes;
  int prompt_tokens = 0;  // once per prompt, whatever n

  Usage usage() const;
  void cancel(RequestHub& hub) const;  // the choices not done yet
};

// Submits every choice as a request of its own (so the n choices of a prompt draw differently), all
// for the same engine step (RequestHub::submit_all): all of them, or none stays. Throws what
// submit_all throws.
std::shared_ptr<Choices> submit_choices(const GenerationRequest& request, const EncodedPrompts& prompts,
                                        RequestHub& hub, const TextModel& text);

// A streamed response: each next() waits on the first unfinished choice, takes what the others have
// and writes their chunks (per choice a first chunk, its text, a chunk with its finish reason),
// then, once every choice finished, the usage chunk if the request asked for it and "data: [DONE]".
class ChoiceStreamer {
 public:
  enum class Step { More, Done, WriteFailed };
  using Write = std::function<bool(const std::string&)>;

  ChoiceStreamer(std::shared_ptr<const GenerationRequest> request, std::shared_ptr<Choices> choices, std::string id,
                 int64_t created);
  Step next(RequestHub& hub, const Write& write);

 private:
  std::shared_ptr<const GenerationRequest> request_;
  std::shared_ptr<Choices> choices_;
  std::string id_;
  int64_t created_;
  std::vector<bool> first_, finished_;
};

}  // namespace slidesparse
