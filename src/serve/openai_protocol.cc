#include "serve/openai_protocol.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace slidesparse {

using nlohmann::json;

namespace {

// A 400; `param` names the offending field ("" for the body as a whole).
ApiError bad(const std::string& message, const std::string& param) {
  ApiError e{400, message, "invalid_request_error", std::nullopt};
  if (!param.empty()) e.param = param;
  return e;
}

// Reads an optional field of the expected kind; an error names the field and what it must be.
struct Fields {
  const json& body;
  std::optional<ApiError> error;

  const json* get(const char* name) {
    const auto it = body.find(name);
    return it == body.end() || it->is_null() ? nullptr : &*it;
  }
  std::optional<double> number(const char* name, double lo, double hi, const char* what) {
    const json* v = get(name);
    if (!v || error) return std::nullopt;
    if (!v->is_number() || !(v->get<double>() >= lo && v->get<double>() <= hi)) {
      error = bad("'" + std::string(name) + "' must be " + what, name);
      return std::nullopt;
    }
    return v->get<double>();
  }
  std::optional<int64_t> integer(const char* name, int64_t lo, int64_t hi, const char* what) {
    const json* v = get(name);
    if (!v || error) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < lo || v->get<int64_t>() > hi) {
      error = bad("'" + std::string(name) + "' must be " + what, name);
      return std::nullopt;
    }
    return v->get<int64_t>();
  }
  std::optional<bool> boolean(const char* name) {
    const json* v = get(name);
    if (!v || error) return std::nullopt;
    if (!v->is_boolean()) {
      error = bad("'" + std::string(name) + "' must be a boolean", name);
      return std::nullopt;
    }
    return v->get<bool>();
  }
};

// An array of token ids (non-negative int32s); nullopt for anything else.
std::optional<std::vector<int32_t>> token_ids(const json& v) {
  if (!v.is_array()) return std::nullopt;
  std::vector<int32_t> ids;
  for (const json& t : v) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max())
      return std::nullopt;
    ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return ids;
}

// One prompt: a string or an array of token ids.
std::optional<Prompt> one_prompt(const json& p) {
  if (p.is_string()) return p.get<std::string>();
  if (auto ids = token_ids(p)) return std::move(*ids);
  return std::nullopt;
}

// 'prompt': one prompt, or an array of them (strings or arrays of token ids).
std::optional<ApiError> parse_prompts(const json& p, GenerationRequest& r) {
  const ApiError wrong = bad("'prompt' must be a string, an array of token ids, or an array of those", "prompt");
  const bool several = p.is_array() && !p.empty() && (p[0].is_string() || p[0].is_array());
  if (p.is_array() && p.empty()) return wrong;
  for (const json& one : several ? p : json::array({p})) {
    auto prompt = one_prompt(one);
    if (!prompt) return wrong;
    r.prompts.push_back(std::move(*prompt));
  }
  return std::nullopt;
}

std::optional<ApiError> parse_messages(const json& m, std::vector<ChatMessage>& messages) {
  if (!m.is_array() || m.empty()) return bad("'messages' must be a non-empty array", "messages");
  for (size_t i = 0; i < m.size(); ++i) {
    const std::string at = "messages[" + std::to_string(i) + "]";
    const json& msg = m[i];
    if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string())
      return bad(at + " must be an object with a string 'role'", "messages");
    ChatMessage out{msg["role"].get<std::string>(), ""};
    const auto content = msg.find("content");
    if (content == msg.end() || content->is_null()) {
    } else if (content->is_string()) {
      out.content = content->get<std::string>();
    } else if (content->is_array()) {  // content parts: text only
      for (const json& part : *content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          return bad(at + ".content: only text parts ({\"type\": \"text\", \"text\": ...}) are supported", "messages");
        out.content += part["text"].get<std::string>();
      }
    } else {
      return bad(at + ".content must be a string or an array of text parts", "messages");
    }
    messages.push_back(std::move(out));
  }
  return std::nullopt;
}

// The body as a JSON object whose "model", when given, is the served one (else a 404), or the
// error to answer with.
std::variant<json, ApiError> parse_body(const std::string& body, const std::string& served_model) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("the request body is not valid JSON", "");
  if (!j.is_object()) return bad("the request body must be a JSON object", "");
  const auto model = j.find("model");
  if (model == j.end() || model->is_null()) return j;
  if (!model->is_string()) return bad("'model' must be a string", "model");
  if (const std::string name = model->get<std::string>(); name != served_model)
    return ApiError{404, "The model '" + name + "' does not exist (this server serves '" + served_model + "')",
                    "not_found_error", "model"};
  return j;
}

// vLLM's chat fields, for /v1/chat/completions and a conversation sent to /tokenize:
// add_generation_prompt, continue_final_message (add_generation_prompt then defaults to false;
// both true is a 400) and chat_template_kwargs (variables for the template, key order kept for its
// tojson; 'messages' and 'add_generation_prompt' are set by the fields above).
std::optional<ApiError> parse_chat_options(Fields& f, const std::string& body, ChatOptions& chat) {
  const auto add = f.boolean("add_generation_prompt");
  const auto continue_final = f.boolean("continue_final_message");
  if (f.error) return f.error;
  chat.continue_final_message = continue_final.value_or(false);
  chat.add_generation_prompt = add.value_or(!chat.continue_final_message);
  if (chat.continue_final_message && chat.add_generation_prompt)
    return bad("'continue_final_message' and 'add_generation_prompt' cannot both be true: the first continues the "
               "final message, the second starts a new assistant message",
               "continue_final_message");
  if (!f.get("chat_template_kwargs")) return std::nullopt;
  const auto ordered = nlohmann::ordered_json::parse(body, nullptr, /*allow_exceptions=*/false);
  const auto& kwargs = ordered["chat_template_kwargs"];
  if (!kwargs.is_object()) return bad("'chat_template_kwargs' must be an object", "chat_template_kwargs");
  for (const auto& [name, value] : kwargs.items()) {
    if (name == "messages" || name == "add_generation_prompt")
      return bad("'chat_template_kwargs' cannot set '" + name + "' (give it as a field of the request)",
                 "chat_template_kwargs");
    chat.template_variables.emplace_back(name, value);
  }
  return std::nullopt;
}

// stream_options: an object (or null), for streams only (as vLLM answers: 400 otherwise), whose
// include_usage and continuous_usage_stats are booleans; other keys are OpenAI's or vLLM's that do
// not change the response's content here and are ignored.
std::optional<ApiError> parse_stream_options(Fields& f, GenerationRequest& r) {
  const json* options = f.get("stream_options");
  if (!options || f.error) return std::nullopt;  // an earlier field's error is the one to answer
  if (!options->is_object()) return bad("'stream_options' must be an object", "stream_options");
  if (!r.stream) return bad("'stream_options' is only allowed when 'stream' is true", "stream_options");
  for (const char* name : {"include_usage", "continuous_usage_stats"}) {
    const auto it = options->find(name);
    if (it != options->end() && !it->is_null() && !it->is_boolean())
      return bad("'stream_options." + std::string(name) + "' must be a boolean", "stream_options");
  }
  const auto flag = [&](const char* name) {
    const auto it = options->find(name);
    return it != options->end() && it->is_boolean() && it->get<bool>();
  };
  r.stream_include_usage = flag("include_usage");
  r.stream_continuous_usage = r.stream_include_usage && flag("continuous_usage_stats");
  return std::nullopt;
}

// Options of the OpenAI API (and of vLLM's extensions to it) that change what is generated and
// that this server does not implement. Clients send several of them at their neutral value by
// default, which is accepted; any other value is refused rather than silently ignored.
std::optional<ApiError> refuse_unimplemented(const json& body) {
  const auto number_is = [](double neutral) {
    return [neutral](const json& v) { return v.is_number() && v.get<double>() == neutral; };
  };
  const auto empty = [](const json& v) {
    return v.is_string() ? v.get<std::string>().empty() : (v.is_object() || v.is_array()) && v.empty();
  };
  const auto is_false = [](const json& v) { return v.is_boolean() && !v.get<bool>(); };
  struct Option {
    const char* name;
    const char* neutral;
    std::function<bool(const json&)> is_neutral;
  };
  const Option options[] = {
      {"presence_penalty", "0", number_is(0)},
      {"frequency_penalty", "0", number_is(0)},
      {"repetition_penalty", "1", number_is(1)},
      {"min_p", "0", number_is(0)},
      {"min_tokens", "0", number_is(0)},
      {"best_of", "1", number_is(1)},
      {"logprobs", "false or 0", [&](const json& v) { return is_false(v) || (v.is_number() && v.get<double>() == 0); }},
      {"top_logprobs", "0", number_is(0)},
      {"logit_bias", "{}", empty},
      {"suffix", "\"\"", empty},
      {"tools", "[]", empty},
      {"functions", "[]", empty},
      {"use_beam_search", "false", is_false},
      {"response_format", "{\"type\": \"text\"}",
       [](const json& v) { return v.is_object() && v.size() == 1 && v.value("type", "") == "text"; }},
  };
  for (const Option& o : options) {
    const auto it = body.find(o.name);
    if (it != body.end() && !it->is_null() && !o.is_neutral(*it))
      return bad("'" + std::string(o.name) + "' is not supported by this server (only " + o.neutral + " is accepted)",
                 o.name);
  }
  return std::nullopt;
}

}  // namespace

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param ? json(*e.param) : json(nullptr)},
            {"code", nullptr}}}};
}

std::variant<GenerationRequest, ApiError> parse_generation_request(Endpoint endpoint, const std::string& body,
                                                                  const std::string& served_model) {
  const auto body_json = parse_body(body, served_model);
  if (const auto* e = std::get_if<ApiError>(&body_json)) return *e;
  const json& j = std::get<json>(body_json);
  GenerationRequest r;
  r.endpoint = endpoint;
  r.model = served_model;  // parse_body refused any other
  Fields f{j, std::nullopt};
  if (endpoint == Endpoint::Completions) {
    const json* prompt = f.get("prompt");
    if (!prompt) return bad("'prompt' is required", "prompt");
    if (auto e = parse_prompts(*prompt, r)) return *e;
    if (const auto echo = f.boolean("echo")) r.echo = *echo;
  } else {
    const json* messages = f.get("messages");
    if (!messages) return bad("'messages' is required", "messages");
    if (auto e = parse_messages(*messages, r.messages)) return *e;
    if (auto e = parse_chat_options(f, body, r.chat)) return *e;
  }
  // max_tokens (chat also accepts the newer max_completion_tokens).
  const char* max_name = endpoint == Endpoint::ChatCompletions && f.get("max_completion_tokens") && !f.get("max_tokens")
                             ? "max_completion_tokens"
                             : "max_tokens";
  if (const auto n = f.integer(max_name, 1, std::numeric_limits<int32_t>::max(), "an integer >= 1")) {
    r.sampling.max_tokens = static_cast<int>(*n);
    r.max_tokens_given = true;
  } else if (!f.error) {
    r.sampling.max_tokens = endpoint == Endpoint::Completions ? 16 : 0;  // chat: the rest of the context
  }
  if (const auto t = f.number("temperature", 0.0, 2.0, "a number between 0 and 2")) r.sampling.temperature = float(*t);
  if (const auto p = f.number("top_p", 0.0, 1.0, "a number in (0, 1]")) {
    if (*p <= 0.0) return bad("'top_p' must be a number in (0, 1]", "top_p");
    r.sampling.top_p = float(*p);
  }
  if (const auto k = f.integer("top_k", -1, std::numeric_limits<int32_t>::max(), "an integer >= -1 (-1 or 0: off)"))
    r.sampling.top_k = *k < 0 ? 0 : static_cast<int>(*k);
  if (const auto s = f.integer("seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                               "an integer"))
    r.sampling.seed = static_cast<uint64_t>(*s);
  if (const auto n = f.integer("n", 1, kMaxChoices, "an integer from 1 to 128")) r.n = static_cast<int>(*n);
  if (const auto s = f.boolean("stream")) r.stream = *s;
  if (auto e = parse_stream_options(f, r)) return *e;
  if (const auto i = f.boolean("ignore_eos")) r.sampling.ignore_eos = *i;
  if (const auto skip = f.boolean("skip_special_tokens")) r.skip_special_tokens = *skip;
  if (const auto include = f.boolean("include_stop_str_in_output")) r.include_stop_str_in_output = *include;
  constexpr const char* kTruncate = "an integer >= 1, or -1 for the context's length";
  if (const auto t = f.integer("truncate_prompt_tokens", -1, std::numeric_limits<int32_t>::max(), kTruncate)) {
    if (*t == 0) return bad("'truncate_prompt_tokens' must be " + std::string(kTruncate), "truncate_prompt_tokens");
    r.truncate_prompt_tokens = static_cast<int>(*t);
  }
  if (f.error) return *f.error;
  if (auto e = refuse_unimplemented(j)) return *e;
  if (const size_t prompts = std::max<size_t>(r.prompts.size(), 1); prompts * static_cast<size_t>(r.n) > kMaxChoices)
    return bad("a request may ask for at most " + std::to_string(kMaxChoices) +
                   " choices (n x prompts); this one asks for " + std::to_string(prompts * static_cast<size_t>(r.n)),
               "n");
  if (const json* stop_ids = f.get("stop_token_ids")) {
    auto ids = token_ids(*stop_ids);
    if (!ids || ids->size() > 64)
      return bad("'stop_token_ids' must be an array of at most 64 token ids", "stop_token_ids");
    r.stop_token_ids = std::move(*ids);
  }
  if (const json* stop = f.get("stop")) {
    if (stop->is_string()) {
      r.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array() && stop->size() <= 16) {
      for (const json& s : *stop) {
        if (!s.is_string()) return bad("'stop' must be a string or an array of strings", "stop");
        r.stop.push_back(s.get<std::string>());
      }
    } else {
      return bad("'stop' must be a string or an array of at most 16 strings", "stop");
    }
  }
  return r;
}

std::variant<TokenizeRequest, ApiError> parse_tokenize_request(const std::string& body,
                                                              const std::string& served_model) {
  const auto body_json = parse_body(body, served_model);
  if (const auto* e = std::get_if<ApiError>(&body_json)) return *e;
  Fields f{std::get<json>(body_json), std::nullopt};
  TokenizeRequest r;
  const json* prompt = f.get("prompt");
  const json* messages = f.get("messages");
  if (!prompt == !messages) return bad("give either 'prompt' (a string) or 'messages'", prompt ? "messages" : "prompt");
  if (prompt) {
    if (!prompt->is_string()) return bad("'prompt' must be a string", "prompt");
    r.prompt = prompt->get<std::string>();
  } else if (auto e = parse_messages(*messages, r.messages)) {
    return *e;
  } else if (auto e = parse_chat_options(f, body, r.chat)) {
    return *e;
  }
  if (const auto add = f.boolean("add_special_tokens")) r.add_special_tokens = *add;
  if (f.error) return *f.error;
  return r;
}

std::variant<std::vector<int32_t>, ApiError> parse_detokenize_request(const std::string& body,
                                                                      const std::string& served_model) {
  const auto body_json = parse_body(body, served_model);
  if (const auto* e = std::get_if<ApiError>(&body_json)) return *e;
  Fields f{std::get<json>(body_json), std::nullopt};
  const json* tokens = f.get("tokens");
  auto ids = tokens ? token_ids(*tokens) : std::nullopt;
  if (!ids) return bad("'tokens' must be an array of token ids", "tokens");
  return std::move(*ids);
}

std::variant<int, ApiError> completion_budget(const GenerationRequest& r, int prompt_tokens, int max_model_len) {
  const std::string what = r.endpoint == Endpoint::ChatCompletions ? "in the messages" : "in the prompt";
  if (prompt_tokens < 1) return bad("the prompt is empty", r.endpoint == Endpoint::ChatCompletions ? "messages" : "prompt");
  if (!r.max_tokens_given) {
    const int room = max_model_len - prompt_tokens;
    if (room < 1)
      return bad("This model's maximum context length is " + std::to_string(max_model_len) + " tokens. However, your " +
                     "request has " + std::to_string(prompt_tokens) + " tokens " + what + ", which leaves no room " +
                     "for a completion.",
                 r.endpoint == Endpoint::ChatCompletions ? "messages" : "prompt");
    return r.sampling.max_tokens > 0 ? std::min(r.sampling.max_tokens, room) : room;
  }
  if (int64_t{prompt_tokens} + r.sampling.max_tokens > max_model_len)
    return bad("This model's maximum context length is " + std::to_string(max_model_len) + " tokens. However, you " +
                   "requested " + std::to_string(int64_t{prompt_tokens} + r.sampling.max_tokens) + " tokens (" +
                   std::to_string(prompt_tokens) + " " + what + ", " + std::to_string(r.sampling.max_tokens) +
                   " in the completion). Please reduce the length of the prompt or the completion.",
               "max_tokens");
  return r.sampling.max_tokens;
}

namespace {

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

}  // namespace

namespace {

json envelope(const GenerationRequest& r, const std::string& id, int64_t created, const char* object, json choices,
              const std::optional<Usage>& usage) {
  json out = {{"id", id}, {"object", object}, {"created", created}, {"model", r.model},
              {"choices", std::move(choices)}};
  if (usage) out["usage"] = usage_json(*usage);
  return out;
}

json indexed(json choice, int index) {
  choice["index"] = index;
  choice["logprobs"] = nullptr;
  return choice;
}

const char* chunk_object(const GenerationRequest& r) {
  return r.endpoint == Endpoint::ChatCompletions ? "chat.completion.chunk" : "text_completion";
}

}  // namespace

json response_body(const GenerationRequest& r, const std::string& id, int64_t created,
                   const std::vector<ChoiceResult>& choices, const Usage& usage) {
  const bool chat = r.endpoint == Endpoint::ChatCompletions;
  json out = json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    json choice = chat ? json{{"message", {{"role", "assistant"}, {"content", choices[i].text}}}}
                       : json{{"text", choices[i].text}};
    choice["finish_reason"] = choices[i].finish_reason;
    out.push_back(indexed(std::move(choice), static_cast<int>(i)));
  }
  return envelope(r, id, created, chat ? "chat.completion" : "text_completion", std::move(out), usage);
}

json stream_chunk(const GenerationRequest& r, const std::string& id, int64_t created, int index,
                  const std::string& text, bool first, const std::optional<std::string>& finish_reason,
                  const Usage& so_far) {
  json choice;
  if (r.endpoint == Endpoint::ChatCompletions) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || first) delta["content"] = text;
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = text;
  }
  choice["finish_reason"] = finish_reason ? json(*finish_reason) : json(nullptr);
  json out = envelope(r, id, created, chunk_object(r), json::array({indexed(std::move(choice), index)}), std::nullopt);
  if (r.stream_include_usage) out["usage"] = r.stream_continuous_usage ? usage_json(so_far) : json(nullptr);
  return out;
}

json usage_chunk(const GenerationRequest& r, const std::string& id, int64_t created, const Usage& usage) {
  return envelope(r, id, created, chunk_object(r), json::array(), usage);
}

std::string sse_event(const json& chunk) {
  return "data: " + chunk.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

json models_body(const std::string& model, int64_t created, int max_model_len) {
  return {{"object", "list"},
          {"data",
           json::array({{{"id", model},
                         {"object", "model"},
                         {"created", created},
                         {"owned_by", "slidesparse"},
                         {"max_model_len", max_model_len}}})}};
}

}  // namespace slidesparse
