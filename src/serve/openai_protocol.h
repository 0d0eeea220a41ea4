// The OpenAI API as `slidesparse serve` speaks it: parsing and checking /v1/completions and
// /v1/chat/completions bodies, and writing responses, stream chunks and error objects. Pure
// functions of JSON and text, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sequences/sequence.h"
#include "text/text_model.h"

namespace slidesparse {

// An error answered as {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::optional<std::string> param;
};

nlohmann::json error_body(const ApiError& e);

enum class Endpoint { Completions, ChatCompletions };

using Prompt = std::variant<std::string, std::vector<int32_t>>;  // text or token ids

// The most choices one request may ask for: n x the number of prompts.
inline constexpr int kMaxChoices = 128;

struct GenerationRequest {
  Endpoint endpoint = Endpoint::Completions;
  std::string model;
  std::vector<Prompt> prompts;        // completions: one or more
  std::vector<ChatMessage> messages;  // chat
  int n = 1;                          // choices per prompt; choice i * n + j is prompt i's j-th
  SamplingParams sampling;  // max_tokens default 16 (completions) / the context's rest (chat: 0 here)
  bool max_tokens_given = false;
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;  // a choice ends at any of them, its text left out (vLLM's field)
  bool stream = false;
  // stream_options (streams only). include_usage (OpenAI's): a last chunk with no choices carries the
  // usage, every other chunk "usage": null; without it no chunk has a usage. continuous_usage_stats
  // (vLLM's, with include_usage): every chunk carries the request's usage so far instead of null.
  bool stream_include_usage = false;
  bool stream_continuous_usage = false;
  bool echo = false;  // completions: the prompt's text before the completion
  ChatOptions chat;   // chat: add_generation_prompt, continue_final_message, chat_template_kwargs (vLLM's)
  // vLLM's fields: special tokens left out of the text; a stop string that ends a choice kept at
  // the end of its text; each prompt cut to its last truncate_prompt_tokens tokens (-1: to the
  // context's length; 0: not cut).
  bool skip_special_tokens = true;
  bool include_stop_str_in_output = false;
  int truncate_prompt_tokens = 0;
};

// Parses and checks a body. `served_model`: the one model id this server answers to (404 for
// another). Returns the request or the error to answer with.
std::variant<GenerationRequest, ApiError> parse_generation_request(Endpoint endpoint, const std::string& body,
                                                                  const std::string& served_model);

// POST /tokenize (vLLM's): {"prompt": text, "add_special_tokens": bool (default true)} or
// {"messages": [...]} (through the chat template, with the chat fields of chat completions);
// "model" optional as for completions.
struct TokenizeRequest {
  std::optional<std::string> prompt;  // else messages
  std::vector<ChatMessage> messages;
  ChatOptions chat;  // with messages, as for chat completions
  bool add_special_tokens = true;
};
std::variant<TokenizeRequest, ApiError> parse_tokenize_request(const std::string& body,
                                                              const std::string& served_model);
// POST /detokenize (vLLM's): {"tokens": [ids]}; the ids are checked against the vocabulary later.
std::variant<std::vector<int32_t>, ApiError> parse_detokenize_request(const std::string& body,
                                                                      const std::string& served_model);

// After tokenization, the max_tokens of one prompt's completions: the prompt must leave room for at
// least one token, and prompt + max_tokens must fit the context (the default max_tokens is cut to
// what fits).
std::variant<int, ApiError> completion_budget(const GenerationRequest& request, int prompt_tokens, int max_model_len);

struct Usage {
  int prompt_tokens = 0, completion_tokens = 0;  // prompt tokens count once per prompt, whatever n
};

struct ChoiceResult {
  std::string text;
  std::string finish_reason;
};

// A whole (non-streamed) response; choices in index order.
nlohmann::json response_body(const GenerationRequest& r, const std::string& id, int64_t created,
                             const std::vector<ChoiceResult>& choices, const Usage& usage);
// One streamed chunk of choice `index`: `text` the new text (chat: a delta of the assistant message;
// `first` adds the role), finish_reason on the choice's last chunk; `so_far` the request's usage at
// this chunk, written as r's stream options say. usage_chunk is the stream's last chunk when the
// request asked for the usage.
nlohmann::json stream_chunk(const GenerationRequest& r, const std::string& id, int64_t created, int index,
                            const std::string& text, bool first, const std::optional<std::string>& finish_reason,
                            const Usage& so_far);
nlohmann::json usage_chunk(const GenerationRequest& r, const std::string& id, int64_t created, const Usage& usage);
// "data: <json>\n\n"; the stream ends with sse_done().
std::string sse_event(const nlohmann::json& chunk);
inline std::string sse_done() { return "data: [DONE]\n\n"; }

nlohmann::json models_body(const std::string& model, int64_t created, int max_model_len);

}  // namespace slidesparse
