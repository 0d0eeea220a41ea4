// Parsing and checking OpenAI request bodies, and the shapes of responses and stream chunks.
#include "serve/openai_protocol.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>

namespace slidesparse {
namespace {

using nlohmann::json;

GenerationRequest ok(Endpoint e, const std::string& body) {
  auto r = parse_generation_request(e, body, "tiny");
  if (auto* err = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << ": " << err->message;
  return std::get<GenerationRequest>(r);
}

ApiError refused(Endpoint e, const std::string& body) {
  auto r = parse_generation_request(e, body, "tiny");
  if (std::holds_alternative<GenerationRequest>(r)) {
    ADD_FAILURE() << body << " was accepted";
    return {};
  }
  return std::get<ApiError>(r);
}

TEST(OpenAiProtocol, CompletionFieldsAndDefaults) {
  GenerationRequest r = ok(Endpoint::Completions, R"({"model":"tiny","prompt":"Hi","max_tokens":7,"temperature":0.5,
      "top_p":0.9,"top_k":-1,"seed":42,"stop":["x","y"],"stream":true,"echo":true,"n":1,"user":"ignored"})");
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(std::get<std::string>(r.prompts[0]), "Hi");
  EXPECT_EQ(r.n, 1);
  EXPECT_EQ(r.sampling.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 0);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(r.stop_token_ids.empty());
  EXPECT_TRUE(r.stream && r.echo && r.max_tokens_given);
  r = ok(Endpoint::Completions, R"({"prompt":"Hi","stop_token_ids":[2, 7]})");
  EXPECT_EQ(r.stop_token_ids, (std::vector<int32_t>{2, 7}));
  r = ok(Endpoint::Completions, R"({"prompt":[1,2,3]})");  // model optional; ids
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(std::get<std::vector<int32_t>>(r.prompts[0]), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r.sampling.max_tokens, 16);
  EXPECT_FALSE(r.max_tokens_given);
  r = ok(Endpoint::Completions, R"({"prompt":["one"],"stop":"\n"})");
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(std::get<std::string>(r.prompts[0]), "one");
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n"}));
  // Several prompts (texts or token-id arrays), n choices each.
  r = ok(Endpoint::Completions, R"({"prompt":["a","b","c"],"n":4})");
  ASSERT_EQ(r.prompts.size(), 3u);
  EXPECT_EQ(std::get<std::string>(r.prompts[2]), "c");
  EXPECT_EQ(r.n, 4);
  r = ok(Endpoint::Completions, R"({"prompt":[[1,2],[3]],"n":64})");
  ASSERT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(std::get<std::vector<int32_t>>(r.prompts[1]), (std::vector<int32_t>{3}));
}

TEST(OpenAiProtocol, ChatMessagesWithStringOrTextParts) {
  const GenerationRequest r = ok(Endpoint::ChatCompletions, R"({"messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"max_completion_tokens":3})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].role, "user");
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.sampling.max_tokens, 3);
}

// vLLM's fields: the chat template's options, special tokens kept, stop strings kept, prompts cut.
TEST(OpenAiProtocol, VllmExtensionFields) {
  GenerationRequest r = ok(Endpoint::ChatCompletions, R"({"messages":[{"role":"user","content":"a"}]})");
  EXPECT_TRUE(r.chat.add_generation_prompt);
  EXPECT_FALSE(r.chat.continue_final_message);
  EXPECT_TRUE(r.chat.template_variables.empty());
  EXPECT_TRUE(r.skip_special_tokens);
  EXPECT_FALSE(r.include_stop_str_in_output);
  EXPECT_EQ(r.truncate_prompt_tokens, 0);
  // continue_final_message alone turns the generation prompt off; kwargs keep their order.
  r = ok(Endpoint::ChatCompletions, R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}],
      "continue_final_message":true,"chat_template_kwargs":{"z_flag":true,"a_list":[1,{"k":"v","b":2}]},
      "skip_special_tokens":false,"include_stop_str_in_output":true,"truncate_prompt_tokens":5})");
  EXPECT_FALSE(r.chat.add_generation_prompt);
  EXPECT_TRUE(r.chat.continue_final_message);
  ASSERT_EQ(r.chat.template_variables.size(), 2u);
  EXPECT_EQ(r.chat.template_variables[0].first, "z_flag");
  EXPECT_EQ(r.chat.template_variables[1].first, "a_list");
  EXPECT_EQ(r.chat.template_variables[1].second.dump(), R"([1,{"k":"v","b":2}])");
  EXPECT_FALSE(r.skip_special_tokens);
  EXPECT_TRUE(r.include_stop_str_in_output);
  EXPECT_EQ(r.truncate_prompt_tokens, 5);
  r = ok(Endpoint::ChatCompletions, R"({"messages":[{"role":"user","content":"a"}],"add_generation_prompt":false})");
  EXPECT_FALSE(r.chat.add_generation_prompt);
  r = ok(Endpoint::Completions, R"({"prompt":"a","truncate_prompt_tokens":-1})");
  EXPECT_EQ(r.truncate_prompt_tokens, -1);

  struct Case {
    const char* body;
    const char* message;
    const char* param;
  };
  const Case cases[] = {
      {R"({"messages":[{"role":"user","content":"a"}],"continue_final_message":true,"add_generation_prompt":true})",
       "'continue_final_message' and 'add_generation_prompt' cannot both be true: the first continues the final "
       "message, the second starts a new assistant message",
       "continue_final_message"},
      {R"({"messages":[{"role":"user","content":"a"}],"add_generation_prompt":1})",
       "'add_generation_prompt' must be a boolean", "add_generation_prompt"},
      {R"({"messages":[{"role":"user","content":"a"}],"chat_template_kwargs":[1]})",
       "'chat_template_kwargs' must be an object", "chat_template_kwargs"},
      {R"({"messages":[{"role":"user","content":"a"}],"chat_template_kwargs":{"messages":[]}})",
       "'chat_template_kwargs' cannot set 'messages' (give it as a field of the request)", "chat_template_kwargs"},
      {R"({"messages":[{"role":"user","content":"a"}],"skip_special_tokens":"no"})",
       "'skip_special_tokens' must be a boolean", "skip_special_tokens"},
      {R"({"messages":[{"role":"user","content":"a"}],"include_stop_str_in_output":0})",
       "'include_stop_str_in_output' must be a boolean", "include_stop_str_in_output"},
      {R"({"messages":[{"role":"user","content":"a"}],"truncate_prompt_tokens":0})",
       "'truncate_prompt_tokens' must be an integer >= 1, or -1 for the context's length", "truncate_prompt_tokens"},
      {R"({"prompt":"a","truncate_prompt_tokens":-2})",
       "'truncate_prompt_tokens' must be an integer >= 1, or -1 for the context's length", "truncate_prompt_tokens"},
  };
  for (const Case& c : cases) {
    const Endpoint e = std::strstr(c.body, "messages") ? Endpoint::ChatCompletions : Endpoint::Completions;
    const ApiError err = refused(e, c.body);
    EXPECT_EQ(err.status, 400) << c.body;
    EXPECT_EQ(err.message, c.message) << c.body;
    EXPECT_EQ(err.param.value_or(""), c.param) << c.body;
  }
  // /tokenize takes the same chat fields with messages.
  auto t = parse_tokenize_request(R"({"messages":[{"role":"user","content":"a"}],"continue_final_message":true})",
                                  "tiny");
  ASSERT_TRUE(std::holds_alternative<TokenizeRequest>(t));
  EXPECT_TRUE(std::get<TokenizeRequest>(t).chat.continue_final_message);
  EXPECT_FALSE(std::get<TokenizeRequest>(t).chat.add_generation_prompt);
}

TEST(OpenAiProtocol, BadBodiesGetOneClearError) {
  struct Case {
    Endpoint e;
    const char* body;
    int status;
    const char* message;
  };
  const Case cases[] = {
      {Endpoint::Completions, "{not json", 400, "the request body is not valid JSON"},
      {Endpoint::Completions, "[1]", 400, "the request body must be a JSON object"},
      {Endpoint::Completions, R"({"model":"other","prompt":"x"})", 404,
       "The model 'other' does not exist (this server serves 'tiny')"},
      {Endpoint::Completions, R"({"model":3,"prompt":"x"})", 400, "'model' must be a string"},
      {Endpoint::Completions, R"({})", 400, "'prompt' is required"},
      {Endpoint::Completions, R"({"prompt":"x","stream_options":{"include_usage":true}})", 400,
       "'stream_options' is only allowed when 'stream' is true"},
      {Endpoint::Completions, R"({"prompt":"x","stream":true,"stream_options":true})", 400,
       "'stream_options' must be an object"},
      {Endpoint::Completions, R"({"prompt":"x","stream":true,"stream_options":{"include_usage":1}})", 400,
       "'stream_options.include_usage' must be a boolean"},
      {Endpoint::Completions, R"({"prompt":"x","stream":"yes","stream_options":{}})", 400,
       "'stream' must be a boolean"},
      {Endpoint::Completions, R"({"prompt":{"a":1}})", 400,
       "'prompt' must be a string, an array of token ids, or an array of those"},
      {Endpoint::Completions, R"({"prompt":[]})", 400,
       "'prompt' must be a string, an array of token ids, or an array of those"},
      {Endpoint::Completions, R"({"prompt":["a",[1]],"n":65})", 400,
       "a request may ask for at most 128 choices (n x prompts); this one asks for 130"},
      {Endpoint::Completions, R"({"prompt":["a",1]})", 400,
       "'prompt' must be a string, an array of token ids, or an array of those"},
      {Endpoint::Completions, R"({"prompt":[1,-2]})", 400,
       "'prompt' must be a string, an array of token ids, or an array of those"},
      {Endpoint::Completions, R"({"prompt":"x","max_tokens":0})", 400, "'max_tokens' must be an integer >= 1"},
      {Endpoint::Completions, R"({"prompt":"x","max_tokens":"5"})", 400, "'max_tokens' must be an integer >= 1"},
      {Endpoint::Completions, R"({"prompt":"x","temperature":-1})", 400,
       "'temperature' must be a number between 0 and 2"},
      {Endpoint::Completions, R"({"prompt":"x","top_p":0})", 400, "'top_p' must be a number in (0, 1]"},
      {Endpoint::Completions, R"({"prompt":"x","n":0})", 400, "'n' must be an integer from 1 to 128"},
      {Endpoint::Completions, R"({"prompt":"x","n":129})", 400, "'n' must be an integer from 1 to 128"},
      {Endpoint::Completions, R"({"prompt":"x","stream":"yes"})", 400, "'stream' must be a boolean"},
      {Endpoint::Completions, R"({"prompt":"x","stop":[1]})", 400, "'stop' must be a string or an array of strings"},
      {Endpoint::Completions, R"({"prompt":"x","stop_token_ids":[1,-3]})", 400,
       "'stop_token_ids' must be an array of at most 64 token ids"},
      {Endpoint::Completions, R"({"prompt":"x","stop_token_ids":2})", 400,
       "'stop_token_ids' must be an array of at most 64 token ids"},
      {Endpoint::ChatCompletions, R"({"messages":[]})", 400, "'messages' must be a non-empty array"},
      {Endpoint::ChatCompletions, R"({"messages":[{"content":"x"}]})", 400,
       "messages[0] must be an object with a string 'role'"},
      {Endpoint::ChatCompletions, R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})", 400,
       "messages[0].content: only text parts ({\"type\": \"text\", \"text\": ...}) are supported"},
  };
  for (const Case& c : cases) {
    const ApiError e = refused(c.e, c.body);
    EXPECT_EQ(e.status, c.status) << c.body;
    EXPECT_EQ(e.message, c.message) << c.body;
  }
  const json body = error_body(refused(Endpoint::Completions, R"({"prompt":"x","max_tokens":0})"));
  EXPECT_EQ(body, json::parse(R"({"error":{"message":"'max_tokens' must be an integer >= 1",
      "type":"invalid_request_error","param":"max_tokens","code":null}})"));
}

// What the server does not implement is accepted at its neutral value (clients send those by
// default) and refused otherwise, never silently ignored.
TEST(OpenAiProtocol, OptionsNotImplementedAreRefusedUnlessNeutral) {
  ok(Endpoint::Completions, R"({"prompt":"x","presence_penalty":0,"frequency_penalty":0.0,"repetition_penalty":1,
      "min_p":0,"min_tokens":0,"best_of":1,"logprobs":null,"logit_bias":{},"suffix":"","use_beam_search":false})");
  ok(Endpoint::ChatCompletions, R"({"messages":[{"role":"user","content":"x"}],"logprobs":false,"top_logprobs":0,
      "tools":[],"functions":[],"response_format":{"type":"text"},"stream":true,"stream_options":{"include_usage":true}})");
  const std::pair<const char*, const char*> cases[] = {
      {R"("presence_penalty":0.5)", "'presence_penalty' is not supported by this server (only 0 is accepted)"},
      {R"("frequency_penalty":-1)", "'frequency_penalty' is not supported by this server (only 0 is accepted)"},
      {R"("repetition_penalty":1.1)", "'repetition_penalty' is not supported by this server (only 1 is accepted)"},
      {R"("min_p":0.05)", "'min_p' is not supported by this server (only 0 is accepted)"},
      {R"("min_tokens":4)", "'min_tokens' is not supported by this server (only 0 is accepted)"},
      {R"("best_of":3)", "'best_of' is not supported by this server (only 1 is accepted)"},
      {R"("logprobs":5)", "'logprobs' is not supported by this server (only false or 0 is accepted)"},
      {R"("logprobs":true)", "'logprobs' is not supported by this server (only false or 0 is accepted)"},
      {R"("top_logprobs":2)", "'top_logprobs' is not supported by this server (only 0 is accepted)"},
      {R"("logit_bias":{"50256":-100})", "'logit_bias' is not supported by this server (only {} is accepted)"},
      {R"("suffix":"end")", "'suffix' is not supported by this server (only \"\" is accepted)"},
      {R"("tools":[{"type":"function"}])", "'tools' is not supported by this server (only [] is accepted)"},
      {R"("use_beam_search":true)", "'use_beam_search' is not supported by this server (only false is accepted)"},
      {R"("response_format":{"type":"json_object"})",
       "'response_format' is not supported by this server (only {\"type\": \"text\"} is accepted)"},
      {R"("presence_penalty":"0")", "'presence_penalty' is not supported by this server (only 0 is accepted)"},
  };
  for (const auto& [field, message] : cases) {
    const ApiError e = refused(Endpoint::Completions, std::string(R"({"prompt":"x",)") + field + "}");
    EXPECT_EQ(e.status, 400) << field;
    EXPECT_EQ(e.message, message) << field;
    const std::string name(field + 1, std::strchr(field + 1, '"'));
    EXPECT_EQ(e.param, std::optional<std::string>(name)) << field;
  }
}

// Bodies with random values of random types in every field the parser reads (and some it does
// not), plus random bytes: each is a request or one error with a message and a 400 / 404 status,
// never an exception.
TEST(OpenAiProtocol, RandomBodiesAreARequestOrOneError) {
  std::mt19937 rng(31);
  const char* fields[] = {"model", "prompt", "messages", "max_tokens", "max_completion_tokens", "temperature",
                          "top_p", "top_k", "seed", "n", "stream", "ignore_eos", "stop", "echo", "logprobs",
                          "presence_penalty", "logit_bias", "response_format", "user", "stream_options",
                          "stop_token_ids"};
  std::function<json(int)> value = [&](int depth) -> json {
    switch (rng() % (depth > 2 ? 7 : 9)) {
      case 0: return nullptr;
      case 1: return rng() % 2 == 0;
      case 2: return static_cast<int64_t>(rng() % 2000) - 1000;
      case 3: return static_cast<double>(rng() % 2000) / 500.0 - 2.0;
      case 4: return std::string(1 + rng() % 5, static_cast<char>('a' + rng() % 26));
      case 5: return "tiny";
      case 6: return static_cast<int64_t>(rng());
      case 7: {
        json a = json::array();
        for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) a.push_back(value(depth + 1));
        return a;
      }
      default: {
        json o = json::object();
        o["role"] = value(depth + 1);
        if (rng() % 2) o["content"] = value(depth + 1);
        if (rng() % 3 == 0) o["type"] = rng() % 2 ? json("text") : value(depth + 1);
        if (rng() % 3 == 0) o["text"] = value(depth + 1);
        return o;
      }
    }
  };
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string body;
    if (i % 10 == 9) {
      body.assign(rng() % 40, '\0');
      for (char& c : body) c = static_cast<char>(rng() % 256);
    } else {
      json j = json::object();
      for (const char* f : fields)
        if (rng() % 3 == 0) j[f] = value(0);
      if (rng() % 2) j["prompt"] = rng() % 2 ? json("hi") : json::array({1, 2});
      if (rng() % 2) j["messages"] = json::array({{{"role", "user"}, {"content", "hi"}}});
      body = j.dump();
    }
    for (const Endpoint e : {Endpoint::Completions, Endpoint::ChatCompletions}) {
      std::variant<GenerationRequest, ApiError> r;
      ASSERT_NO_THROW(r = parse_generation_request(e, body, "tiny")) << body;
      if (const auto* err = std::get_if<ApiError>(&r)) {
        EXPECT_TRUE(err->status == 400 || err->status == 404) << body;
        EXPECT_FALSE(err->message.empty()) << body;
        continue;
      }
      const GenerationRequest& req = std::get<GenerationRequest>(r);
      ++accepted;
      EXPECT_GE(req.n, 1);
      EXPECT_LE(static_cast<int>(std::max<size_t>(req.prompts.size(), 1)) * req.n, kMaxChoices);
      EXPECT_TRUE(req.sampling.temperature >= 0 && req.sampling.top_p > 0 && req.sampling.top_p <= 1) << body;
      if (e == Endpoint::Completions) {
        EXPECT_FALSE(req.prompts.empty()) << body;
      } else {
        EXPECT_FALSE(req.messages.empty()) << body;
      }
    }
  }
  EXPECT_GT(accepted, 10);  // the generator reaches valid requests too
}

TEST(OpenAiProtocol, TheContextBoundsThePromptAndTheCompletion) {
  const auto budget = [](const GenerationRequest& r, int prompt_tokens) {
    auto b = completion_budget(r, prompt_tokens, 256);
    if (auto* e = std::get_if<ApiError>(&b)) return e->message;
    return std::to_string(std::get<int>(b));
  };
  const GenerationRequest r = ok(Endpoint::Completions, R"({"prompt":"x","max_tokens":10})");
  EXPECT_EQ(budget(r, 246), "10");
  EXPECT_EQ(budget(r, 247), "This model's maximum context length is 256 tokens. However, you requested 257 tokens (247 "
                            "in the prompt, 10 in the completion). Please reduce the length of the prompt or the "
                            "completion.");
  const GenerationRequest chat = ok(Endpoint::ChatCompletions, R"({"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(budget(chat, 200), "56");  // chat without max_tokens: the rest of the context
  const GenerationRequest plain = ok(Endpoint::Completions, R"({"prompt":"x"})");
  EXPECT_EQ(budget(plain, 256), "This model's maximum context length is 256 tokens. However, your request has 256 "
                                "tokens in the prompt, which leaves no room for a completion.");
  EXPECT_EQ(budget(plain, 250), "6");  // the default 16, cut to what fits
  EXPECT_EQ(budget(plain, 10), "16");
  EXPECT_EQ(budget(plain, 0), "the prompt is empty");
}

TEST(OpenAiProtocol, ResponsesAndChunks) {
  const GenerationRequest c = ok(Endpoint::Completions, R"({"prompt":"x"})");
  json r = response_body(c, "cmpl-1", 100, {{"hey", "length"}}, {3, 2});
  EXPECT_EQ(r, json::parse(R"({"id":"cmpl-1","object":"text_completion","created":100,"model":"tiny",
      "choices":[{"index":0,"text":"hey","logprobs":null,"finish_reason":"length"}],
      "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})"));
  const GenerationRequest chat = ok(Endpoint::ChatCompletions, R"({"messages":[{"role":"user","content":"x"}],"n":2})");
  r = response_body(chat, "chatcmpl-2", 100, {{"a", "stop"}, {"b", "length"}}, {3, 4});
  EXPECT_EQ(r, json::parse(R"({"id":"chatcmpl-2","object":"chat.completion","created":100,"model":"tiny",
      "choices":[{"index":0,"message":{"role":"assistant","content":"a"},"logprobs":null,"finish_reason":"stop"},
                 {"index":1,"message":{"role":"assistant","content":"b"},"logprobs":null,"finish_reason":"length"}],
      "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})"));
  json first = stream_chunk(chat, "chatcmpl-1", 100, 1, "", true, std::nullopt, Usage{4, 0});
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["index"], 1);
  EXPECT_EQ(first["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  EXPECT_FALSE(first.contains("usage"));  // not asked for
  json last = stream_chunk(chat, "chatcmpl-1", 100, 0, "", false, "stop", Usage{4, 1});
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(last.contains("usage"));
  // stream_options: include_usage puts null on the choices' chunks (the usage chunk follows them);
  // continuous_usage_stats the usage so far.
  const GenerationRequest with_usage =
      ok(Endpoint::Completions, R"({"prompt":"x","stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_TRUE(with_usage.stream_include_usage);
  EXPECT_FALSE(with_usage.stream_continuous_usage);
  EXPECT_EQ(stream_chunk(with_usage, "cmpl-4", 100, 0, "a", false, std::nullopt, Usage{4, 1}),
            json::parse(R"({"id":"cmpl-4","object":"text_completion","created":100,"model":"tiny",
      "choices":[{"index":0,"text":"a","logprobs":null,"finish_reason":null}],"usage":null})"));
  const GenerationRequest continuous = ok(Endpoint::Completions, R"({"prompt":"x","stream":true,
      "stream_options":{"include_usage":true,"continuous_usage_stats":true}})");
  EXPECT_EQ(stream_chunk(continuous, "cmpl-4", 100, 0, "a", false, std::nullopt, Usage{4, 1})["usage"],
            json::parse(R"({"prompt_tokens":4,"completion_tokens":1,"total_tokens":5})"));
  // continuous_usage_stats alone asks for nothing (vLLM's rule: it needs include_usage).
  EXPECT_FALSE(ok(Endpoint::Completions, R"({"prompt":"x","stream":true,
      "stream_options":{"continuous_usage_stats":true}})").stream_continuous_usage);
  EXPECT_EQ(usage_chunk(c, "cmpl-3", 100, {2, 6}), json::parse(R"({"id":"cmpl-3","object":"text_completion",
      "created":100,"model":"tiny","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":6,"total_tokens":8}})"));
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
}

}  // namespace
}  // namespace slidesparse
