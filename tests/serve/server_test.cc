// The server's routes and replies, against the reference model's greedy decoding: models, health
// and metrics, non-streamed and streamed completions and chat, stop strings and stop token ids,
// several prompts and choices, vLLM's extensions, /tokenize and /detokenize, and bad requests with
// their statuses. Connections, concurrency and shutdown are in server_connections_test.cc.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "serve_fixture.h"

namespace slidesparse::serve_testing {
namespace {

TEST_F(ServeTest, ModelsHealthAndMetrics) {
  start();
  const Http models = request("/v1/models");
  EXPECT_EQ(models.status, 200);
  const json m = json::parse(models.body);
  EXPECT_EQ(m["object"], "list");
  EXPECT_EQ(m["data"][0]["id"], "tiny");
  EXPECT_EQ(m["data"][0]["max_model_len"], 256);
  EXPECT_EQ(request("/health").status, 200);
  const Http metrics = request("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("# TYPE slidesparse_time_to_first_token_seconds histogram\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("slidesparse_num_requests_waiting{model_name=\"tiny\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("slidesparse_prefix_cache_hit_tokens_total{model_name=\"tiny\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("slidesparse_num_preemptions_total{model_name=\"tiny\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("# TYPE slidesparse_e2e_request_latency_seconds histogram\n"), std::string::npos);
}

TEST_F(ServeTest, CompletionIsTheGreedyReferenceContinuation) {
  start();
  const std::string prompt = "Hello, world! The weather";
  const auto [tokens, reason] = greedy(text_->encode_prompt(prompt), 12);
  const Http h = request("/v1/completions", json{{"model", "tiny"}, {"prompt", prompt}, {"max_tokens", 12}}.dump());
  ASSERT_EQ(h.status, 200) << h.body;
  const json r = json::parse(h.body);
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["choices"][0]["text"], known_text(tokens));
  EXPECT_EQ(r["choices"][0]["finish_reason"], reason);
  EXPECT_EQ(r["usage"]["prompt_tokens"], static_cast<int>(text_->encode_prompt(prompt).size()));
  EXPECT_EQ(r["usage"]["completion_tokens"], static_cast<int>(tokens.size()));
  // Token ids in, and echo.
  const std::vector<int32_t> ids = text_->encode_prompt(prompt);
  const Http by_ids = request("/v1/completions", json{{"prompt", ids}, {"max_tokens", 12}, {"echo", true}}.dump());
  ASSERT_EQ(by_ids.status, 200) << by_ids.body;
  EXPECT_EQ(json::parse(by_ids.body)["choices"][0]["text"],
            text_->tokenizer().decode(ids, true) + known_text(tokens));
}

TEST_F(ServeTest, StreamingGivesTheSameTextAsServerSentEvents) {
  start();
  const std::string prompt = "Once upon a time";
  const auto [tokens, reason] = greedy(text_->encode_prompt(prompt), 20);
  const json body = {
      {"prompt", prompt}, {"max_tokens", 20}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
  const Http h = request("/v1/completions", body.dump(), "-D " + quote((dir_->path() / "headers").string()));
  ASSERT_EQ(h.status, 200);
  EXPECT_NE(testing::read_text(dir_->path() / "headers").find("Content-Type: text/event-stream"), std::string::npos);
  std::string text;
  const json last = read_stream(h.body, false, &text);
  EXPECT_EQ(text, known_text(tokens));
  EXPECT_EQ(last["choices"][0]["finish_reason"], reason);
  EXPECT_EQ(last["usage"]["completion_tokens"], static_cast<int>(tokens.size()));

  // Without stream_options no chunk has a usage (read_stream checks every chunk).
  json plain = body;
  plain.erase("stream_options");
  text.clear();
  EXPECT_FALSE(completion(plain, &text).contains("usage"));
  EXPECT_EQ(text, known_text(tokens));

  // vLLM's continuous_usage_stats: every chunk carries the usage so far, the last chunk the whole.
  json continuous = body;
  continuous["stream_options"]["continuous_usage_stats"] = true;
  const Http c = request("/v1/completions", continuous.dump());
  ASSERT_EQ(c.status, 200) << c.body;
  int chunks = 0, previous = 0;
  for (size_t at = 0, end; (end = c.body.find("\n\n", at)) != std::string::npos; at = end + 2) {
    const std::string event = c.body.substr(at, end - at);
    if (event == "data: [DONE]") break;
    const json usage = json::parse(event.substr(6))["usage"];
    ASSERT_TRUE(usage.is_object()) << event;
    EXPECT_EQ(usage["prompt_tokens"], static_cast<int>(text_->encode_prompt(prompt).size()));
    EXPECT_GE(usage["completion_tokens"].get<int>(), previous) << event;
    previous = usage["completion_tokens"];
    ++chunks;
  }
  EXPECT_GE(chunks, 3);
  EXPECT_EQ(previous, static_cast<int>(tokens.size()));
}

TEST_F(ServeTest, ChatCompletionThroughTheTemplate) {
  start();
  const std::vector<ChatMessage> messages{{"system", "You are brief."}, {"user", "Hi there"}};
  const auto [tokens, reason] = greedy(text_->encode_chat(messages), 10);
  const json body = {{"model", "tiny"},
                     {"messages", json::array({{{"role", "system"}, {"content", "You are brief."}},
                                               {{"role", "user"}, {"content", "Hi there"}}})},
                     {"max_tokens", 10}};
  const Http h = request("/v1/chat/completions", body.dump());
  ASSERT_EQ(h.status, 200) << h.body;
  const json r = json::parse(h.body);
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(r["choices"][0]["message"]["content"], known_text(tokens));
  EXPECT_EQ(r["choices"][0]["finish_reason"], reason);
  json streamed = body;
  streamed["stream"] = true;
  const Http s = request("/v1/chat/completions", streamed.dump());
  ASSERT_EQ(s.status, 200);
  std::string text;
  const json last = read_stream(s.body, true, &text);
  EXPECT_EQ(text, known_text(tokens));
  EXPECT_EQ(last["object"], "chat.completion.chunk");
}

// A stop string ends the reply before it, or after it with vLLM's include_stop_str_in_output.
TEST_F(ServeTest, AStopStringEndsTheReply) {
  start();
  const std::string prompt = "Hello, world! The weather";
  const auto [tokens, reason] = greedy(text_->encode_prompt(prompt), 24);
  const std::string full = known_text(tokens);
  ASSERT_GE(full.size(), 6u) << "the tiny model's reply is too short to cut";
  const std::string stop = full.substr(full.size() / 2, 2);
  for (bool include : {false, true})
    for (bool stream : {false, true}) {
      std::string text;
      const json last = completion({{"prompt", prompt}, {"max_tokens", 24}, {"stop", {stop}}, {"stream", stream},
                                    {"include_stop_str_in_output", include}},
                                   &text);
      EXPECT_EQ(text, full.substr(0, full.find(stop) + (include ? stop.size() : 0))) << "stop " << json(stop).dump();
      EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
    }
}

// vLLM's extensions: prompts cut to their last tokens, special tokens kept, and a chat reply that
// continues the final (assistant) message.
TEST_F(ServeTest, VllmExtensionsChangeTheReplyAsAsked) {
  start();
  const std::string prompt = "Hello, world! The weather";
  const std::vector<int32_t> ids = text_->encode_prompt(prompt);
  ASSERT_GT(ids.size(), 4u);
  const std::vector<int32_t> tail(ids.end() - 4, ids.end());
  std::string text;
  json r = completion({{"prompt", ids}, {"max_tokens", 6}, {"truncate_prompt_tokens", 4}}, &text);
  EXPECT_EQ(text, known_text(greedy(tail, 6).first));
  EXPECT_EQ(r["usage"]["prompt_tokens"], 4);

  // Special tokens: left out of the echoed prompt by default, kept with skip_special_tokens false.
  const int32_t im_start = *text_->tokenizer().token_to_id("<|im_start|>");
  const std::vector<int32_t> special{im_start, ids[1], ids[2]};
  completion({{"prompt", special}, {"max_tokens", 1}, {"echo", true}}, &text);
  EXPECT_EQ(text.rfind(text_->tokenizer().decode({ids[1], ids[2]}), 0), 0u) << text;
  completion({{"prompt", special}, {"max_tokens", 1}, {"echo", true}, {"skip_special_tokens", false}}, &text);
  EXPECT_EQ(text.rfind("<|im_start|>" + text_->tokenizer().decode({ids[1], ids[2]}), 0), 0u) << text;

  // The assistant's reply started by the caller: the prompt ends inside that message.
  const json messages = json::array({{{"role", "user"}, {"content", "Hi there"}},
                                     {{"role", "assistant"}, {"content", "Well, the"}}});
  ChatOptions options;
  options.add_generation_prompt = false;
  options.continue_final_message = true;
  const std::vector<int32_t> continued =
      text_->encode_chat({{"user", "Hi there"}, {"assistant", "Well, the"}}, options);
  EXPECT_EQ(text_->tokenizer().decode(continued),
            "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nWell, the");
  const Http chat = request("/v1/chat/completions",
                            json{{"messages", messages}, {"max_tokens", 8}, {"continue_final_message", true}}.dump());
  ASSERT_EQ(chat.status, 200) << chat.body;
  r = json::parse(chat.body);
  EXPECT_EQ(r["choices"][0]["message"]["content"], known_text(greedy(continued, 8).first));
  EXPECT_EQ(r["usage"]["prompt_tokens"], static_cast<int>(continued.size()));
  const Http tokenized =
      request("/tokenize", json{{"messages", messages}, {"continue_final_message", true}}.dump());
  ASSERT_EQ(tokenized.status, 200) << tokenized.body;
  EXPECT_EQ(json::parse(tokenized.body)["tokens"].get<std::vector<int32_t>>(), continued);
  const Http both = request("/v1/chat/completions", json{{"messages", messages}, {"continue_final_message", true},
                                                         {"add_generation_prompt", true}}.dump());
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(json::parse(both.body)["error"]["param"], "continue_final_message");
}

// Several prompts and n choices in one request: choice i * n + j is prompt i's j-th, each one the
// reference model's greedy continuation at temperature 0; prompt tokens count once per prompt.
TEST_F(ServeTest, SeveralPromptsAndChoicesInOneRequest) {
  start();
  const std::vector<std::string> prompts{"Hello, world! The weather", "Once upon a time"};
  const int n = 2, max_tokens = 6;
  std::vector<std::pair<std::string, std::string>> want;  // (text, finish reason) per prompt
  int prompt_tokens = 0, completion_tokens = 0;
  for (const auto& p : prompts) {
    const auto [tokens, reason] = greedy(text_->encode_prompt(p), max_tokens);
    want.emplace_back(known_text(tokens), reason);
    prompt_tokens += static_cast<int>(text_->encode_prompt(p).size());
    completion_tokens += n * static_cast<int>(tokens.size());
  }
  const Http h = request("/v1/completions", json{{"prompt", prompts}, {"n", n}, {"max_tokens", max_tokens}}.dump());
  ASSERT_EQ(h.status, 200) << h.body;
  const json r = json::parse(h.body);
  ASSERT_EQ(r["choices"].size(), 4u);
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(r["choices"][c]["index"], c);
    EXPECT_EQ(r["choices"][c]["text"], want[c / n].first) << c;
    EXPECT_EQ(r["choices"][c]["finish_reason"], want[c / n].second) << c;
  }
  EXPECT_EQ(r["usage"]["prompt_tokens"], prompt_tokens);
  EXPECT_EQ(r["usage"]["completion_tokens"], completion_tokens);

  // Streamed: chunks of both choices interleaved, each choice's own finish chunk, then one chunk of
  // usage with no choices.
  const std::vector<ChatMessage> messages{{"user", "Hi there"}};
  const auto [chat_tokens, chat_reason] = greedy(text_->encode_chat(messages), 5);
  const json chat = {{"messages", json::array({{{"role", "user"}, {"content", "Hi there"}}})},
                     {"n", 3},
                     {"max_tokens", 5},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}};
  const Http s = request("/v1/chat/completions", chat.dump());
  ASSERT_EQ(s.status, 200) << s.body;
  std::map<int, std::string> text, reason;
  std::map<int, int> firsts;
  json usage;
  size_t at = 0;
  std::vector<std::string> events;
  for (size_t end; (end = s.body.find("\n\n", at)) != std::string::npos; at = end + 2)
    events.push_back(s.body.substr(at, end - at));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "data: [DONE]");
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json chunk = json::parse(events[i].substr(6));
    if (i + 2 == events.size()) {  // the usage chunk
      EXPECT_TRUE(chunk["choices"].empty()) << events[i];
      usage = chunk["usage"];
      continue;
    }
    EXPECT_TRUE(chunk["usage"].is_null()) << events[i];
    const json& choice = chunk["choices"][0];
    const int index = choice["index"];
    EXPECT_FALSE(reason.count(index)) << "a chunk after choice " << index << " finished";
    if (choice["delta"].contains("role")) ++firsts[index];
    text[index] += choice["delta"].value("content", "");
    if (!choice["finish_reason"].is_null()) reason[index] = choice["finish_reason"];
  }
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(text[c], known_text(chat_tokens)) << c;
    EXPECT_EQ(reason[c], chat_reason) << c;
    EXPECT_EQ(firsts[c], 1) << c;
  }
  EXPECT_EQ(usage["prompt_tokens"], static_cast<int>(text_->encode_chat(messages).size()));
  EXPECT_EQ(usage["completion_tokens"], 3 * static_cast<int>(chat_tokens.size()));
}

// The n choices of a sampled prompt are separate draws.
TEST_F(ServeTest, SampledChoicesDrawApart) {
  start();
  const Http h = request("/v1/completions",
                         json{{"prompt", "Once upon a time"}, {"n", 4}, {"max_tokens", 8}, {"temperature", 1.5},
                              {"seed", 7}, {"ignore_eos", true}}.dump());
  ASSERT_EQ(h.status, 200) << h.body;
  std::set<std::string> texts;
  const json r = json::parse(h.body);
  ASSERT_EQ(r["choices"].size(), 4u) << h.body;
  for (const json& c : r["choices"]) texts.insert(c["text"].get<std::string>());
  EXPECT_GT(texts.size(), 1u);
}

// A choice ends before the first of the request's stop token ids, which leaves no text but counts
// as generated; streamed or not.
TEST_F(ServeTest, AStopTokenIdEndsTheReplyBeforeIt) {
  start();
  const std::string prompt = "Hello, world! The weather";
  const auto [tokens, reason] = greedy(text_->encode_prompt(prompt), 12);
  ASSERT_GE(tokens.size(), 4u);
  const size_t cut = std::find(tokens.begin(), tokens.end(), tokens[3]) - tokens.begin();  // its first occurrence
  const std::vector<int32_t> before(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(cut));
  for (const bool stream : {false, true}) {
    std::string text;
    json body = {{"prompt", prompt}, {"max_tokens", 12}, {"stream", stream}, {"stop_token_ids", {tokens[3]}}};
    if (stream) body["stream_options"] = {{"include_usage", true}};
    const json last = completion(body, &text);
    EXPECT_EQ(text, known_text(before)) << stream;
    EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(last["usage"]["completion_tokens"], static_cast<int>(cut) + 1);
  }
}

// vLLM's /tokenize and /detokenize: the ids the server would generate from, and text back.
TEST_F(ServeTest, TokenizeAndDetokenize) {
  start();
  const std::string prompt = "Hello, world! ふりがな";
  Http h = request("/tokenize", json{{"model", "tiny"}, {"prompt", prompt}}.dump());
  ASSERT_EQ(h.status, 200) << h.body;
  json r = json::parse(h.body);
  const std::vector<int32_t> ids = text_->encode_prompt(prompt);
  EXPECT_EQ(r["tokens"], json(ids));
  EXPECT_EQ(r["count"], ids.size());
  EXPECT_EQ(r["max_model_len"], 256);
  h = request("/tokenize", json{{"prompt", prompt}, {"add_special_tokens", false}}.dump());
  EXPECT_EQ(json::parse(h.body)["tokens"], json(text_->tokenizer().encode(prompt, false)));
  h = request("/tokenize", json{{"messages", json::array({{{"role", "user"}, {"content", "Hi there"}}})}}.dump());
  EXPECT_EQ(json::parse(h.body)["tokens"], json(text_->encode_chat({{"user", "Hi there"}})));
  h = request("/detokenize", json{{"tokens", ids}}.dump());
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(json::parse(h.body)["prompt"], text_->tokenizer().decode(ids));
  // Errors: both or neither of prompt and messages, another model, ids the tokenizer does not have.
  EXPECT_EQ(request("/tokenize", json{{"prompt", "a"}, {"messages", json::array()}}.dump()).status, 400);
  h = request("/tokenize", json{{"add_special_tokens", true}}.dump());
  EXPECT_EQ(h.status, 400);
  EXPECT_EQ(json::parse(h.body)["error"]["message"], "give either 'prompt' (a string) or 'messages'");
  EXPECT_EQ(request("/detokenize", json{{"model", "other"}, {"tokens", {1}}}.dump()).status, 404);
  EXPECT_EQ(request("/detokenize", json{{"tokens", {1, -2}}}.dump()).status, 400);
  h = request("/detokenize", json{{"tokens", {1, 505}}}.dump());
  EXPECT_EQ(h.status, 400);
  EXPECT_EQ(json::parse(h.body)["error"]["param"], "tokens");
}

TEST_F(ServeTest, BadRequestsGetOpenAiErrorsAndTheServerStaysUp) {
  ServerOptions o;
  o.max_body_bytes = 2000;
  start(o);
  auto error_of = [](const Http& h) { return json::parse(h.body)["error"]; };
  Http h = request("/v1/completions", "{\"prompt\": ");
  EXPECT_EQ(h.status, 400);
  EXPECT_EQ(error_of(h)["message"], "the request body is not valid JSON");
  h = request("/v1/completions", R"({"prompt":"x","max_tokens":0})");
  EXPECT_EQ(h.status, 400);
  EXPECT_EQ(error_of(h)["param"], "max_tokens");
  h = request("/v1/completions", R"({"model":"gpt-4","prompt":"x"})");
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(error_of(h)["type"], "not_found_error");
  h = request("/v1/nothing", R"({})");
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(error_of(h)["message"], "no route POST /v1/nothing");
  h = request("/v1/completions", json{{"prompt", std::string(3000, 'a')}}.dump());
  EXPECT_EQ(h.status, 413);
  EXPECT_EQ(error_of(h)["message"], "the request body exceeds 2000 bytes");
  h = request("/v1/completions", json{{"prompt", std::vector<int32_t>(250, 5)}, {"max_tokens", 10}}.dump());
  EXPECT_EQ(h.status, 400);
  EXPECT_EQ(error_of(h)["message"],
            "This model's maximum context length is 256 tokens. However, you requested 260 tokens (250 in the prompt, "
            "10 in the completion). Please reduce the length of the prompt or the completion.");
  h = request("/v1/completions", R"({"prompt":[1, 600]})");
  EXPECT_EQ(h.status, 400);
  EXPECT_EQ(error_of(h)["message"], "token id 600 is outside the vocabulary of 512");
  EXPECT_EQ(request("/v1/completions", R"({"prompt":"still up","max_tokens":2})").status, 200);
  const std::string metrics = request("/metrics").body;
  EXPECT_NE(metrics.find("slidesparse_request_errors_total{model_name=\"tiny\",status=\"400\"} 4\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("status=\"413\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace slidesparse::serve_testing
