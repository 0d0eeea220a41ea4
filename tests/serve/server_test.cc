// `serve` over a real socket on 127.0.0.1, driven by curl (a client that is not our code), with the
// CPU reference model of the tiny checkpoint behind it and the tiny ChatML tokenizer: routes,
// non-streamed and streamed completions and chat (compared with greedy decoding of the reference
// model), stop strings, errors with their statuses, concurrent requests, a client that disconnects
// mid-stream, graceful shutdown, and the `serve` command under SIGTERM.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "checkpoint/prepare.h"
#include "core/error.h"
#include "reference/reference_model.h"
#include "serve/openai_server.h"
#include "serve/reference_backend.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using testing::ScratchDir;

struct Http {
  int status = 0;
  std::string body;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string run_shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    prepare_w8a8({testing::test_data_dir() / "tiny_bitnet_bf16", model(), QuantKind::Int8, false});
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
      fs::copy_file(testing::test_data_dir() / "tokenizers" / "tiny_chat" / f, model() / f);
    reference_ = new ReferenceModel(model());
    text_ = new TextModel(TextModel::load(model()));
  }
  static void TearDownTestSuite() {
    delete text_;
    delete reference_;
    delete dir_;
  }
  static fs::path model() { return dir_->path() / "int8"; }

  void start(ServerOptions o = {}) {
    metrics_ = std::make_unique<ServeMetrics>();
    hub_ = std::make_unique<RequestHub>(std::make_unique<ReferenceBackend>(model(), 4), text_->stop_token_ids(),
                                        *metrics_);
    o.host = "127.0.0.1";
    o.port = 0;
    o.model_name = "tiny";
    server_ = std::make_unique<OpenAiServer>(o, *text_, *hub_, *metrics_);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->shutdown();
      thread_.join();
    }
    server_.reset();
    hub_.reset();
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // One request through curl; `body` empty: GET.
  Http request(const std::string& path, const std::string& body = "", const std::string& extra = "") const {
    const fs::path out = dir_->path() / ("out-" + std::to_string(counter_++));
    std::string cmd = "curl -s -S -N -o " + quote(out.string()) + " -w '%{http_code}' " + extra + " ";
    if (!body.empty()) {
      const fs::path in = out.string() + ".json";
      testing::write_bytes(in, body);
      cmd += "-H 'Content-Type: application/json' --data-binary @" + quote(in.string()) + " ";
    }
    const std::string code = run_shell(cmd + quote(url(path)) + " 2>/dev/null");
    Http h;
    h.status = code.empty() ? 0 : std::atoi(code.c_str());
    if (fs::exists(out)) h.body = testing::read_text(out);
    return h;
  }

  // Greedy continuation as the server must produce it: the reference model's argmax, stopped by
  // <|im_end|> (the model's eos and the tokenizer's stop token) or max_tokens.
  static std::pair<std::vector<int32_t>, std::string> greedy(std::vector<int32_t> tokens, int max_tokens) {
    std::vector<int32_t> out;
    std::string reason = "length";
    for (int i = 0; i < max_tokens; ++i) {
      const std::vector<float> logits = reference_->forward(tokens);
      const float* last = logits.data() + logits.size() - 512;
      const int32_t t = static_cast<int32_t>(std::max_element(last, last + 512) - last);
      out.push_back(t);
      tokens.push_back(t);
      if (t == 2) {
        reason = "stop";
        break;
      }
    }
    return {out, reason};
  }

  // The reply's text: ids past the tokenizer's vocabulary (the tiny model's embedding has 512 rows,
  // the tokenizer 500 ids) have none.
  static std::string known_text(std::vector<int32_t> ids) {
    std::erase_if(ids, [](int32_t t) { return !text_->tokenizer().knows_id(t); });
    return text_->tokenizer().decode(ids, true);
  }

  // The text of an SSE stream's chunks, its finish reason and usage; checks the framing.
  static json read_stream(const std::string& body, bool chat, std::string* text) {
    std::vector<std::string> events;
    size_t at = 0;
    while (at < body.size()) {
      const size_t end = body.find("\n\n", at);
      EXPECT_NE(end, std::string::npos) << "an event without its blank line: " << body.substr(at);
      if (end == std::string::npos) break;
      events.push_back(body.substr(at, end - at));
      at = end + 2;
    }
    EXPECT_FALSE(events.empty());
    if (events.empty()) return {};
    EXPECT_EQ(events.back(), "data: [DONE]");
    json last;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
      EXPECT_EQ(events[i].rfind("data: ", 0), 0u) << events[i];
      const json chunk = json::parse(events[i].substr(6));
      const json& choice = chunk["choices"][0];
      *text += chat ? choice["delta"].value("content", "") : choice["text"].get<std::string>();
      if (i + 2 < events.size()) {
        EXPECT_TRUE(choice["finish_reason"].is_null()) << events[i];
        EXPECT_FALSE(chunk.contains("usage")) << events[i];
      }
      if (chat && i == 0) {
        EXPECT_EQ(choice["delta"]["role"], "assistant");
      }
      last = chunk;
    }
    return last;
  }

  // A /v1/completions request, streamed or not as the body says: the reply's text, and the last
  // stream chunk or the whole response (where finish_reason and usage are).
  json completion(const json& body, std::string* text) {
    const Http h = request("/v1/completions", body.dump());
    EXPECT_EQ(h.status, 200) << h.body;
    if (h.status != 200) return {};
    if (body.value("stream", false)) return read_stream(h.body, false, text);
    json r = json::parse(h.body);
    *text = r["choices"][0]["text"];
    return r;
  }

  static ScratchDir* dir_;
  static ReferenceModel* reference_;
  static TextModel* text_;
  std::unique_ptr<ServeMetrics> metrics_;
  std::unique_ptr<RequestHub> hub_;
  std::unique_ptr<OpenAiServer> server_;
  std::thread thread_;
  int port_ = 0;
  mutable int counter_ = 0;
};

ScratchDir* ServeTest::dir_ = nullptr;
ReferenceModel* ServeTest::reference_ = nullptr;
TextModel* ServeTest::text_ = nullptr;

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
  const Http h = request("/v1/completions", json{{"prompt", prompt}, {"max_tokens", 20}, {"stream", true}}.dump(),
                         "-D " + quote((dir_->path() / "headers").string()));
  ASSERT_EQ(h.status, 200);
  EXPECT_NE(testing::read_text(dir_->path() / "headers").find("Content-Type: text/event-stream"), std::string::npos);
  std::string text;
  const json last = read_stream(h.body, false, &text);
  EXPECT_EQ(text, known_text(tokens));
  EXPECT_EQ(last["choices"][0]["finish_reason"], reason);
  EXPECT_EQ(last["usage"]["completion_tokens"], static_cast<int>(tokens.size()));
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

TEST_F(ServeTest, AStopStringEndsTheReplyBeforeIt) {
  start();
  const std::string prompt = "Hello, world! The weather";
  const auto [tokens, reason] = greedy(text_->encode_prompt(prompt), 24);
  const std::string full = known_text(tokens);
  ASSERT_GE(full.size(), 6u) << "the tiny model's reply is too short to cut";
  const std::string stop = full.substr(full.size() / 2, 2);
  const std::string want = full.substr(0, full.find(stop));
  for (bool stream : {false, true}) {
    std::string text;
    const json last = completion({{"prompt", prompt}, {"max_tokens", 24}, {"stop", {stop}}, {"stream", stream}}, &text);
    EXPECT_EQ(text, want) << "stop " << json(stop).dump();
    EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  }
}

// vLLM's extensions: a stop string kept in the text, prompts cut to their last tokens, special
// tokens kept, and a chat reply that continues the final (assistant) message.
TEST_F(ServeTest, VllmExtensionsChangeTheReplyAsAsked) {
  start();
  const std::string prompt = "Hello, world! The weather";
  const auto [tokens, reason] = greedy(text_->encode_prompt(prompt), 24);
  const std::string full = known_text(tokens);
  ASSERT_GE(full.size(), 6u) << "the tiny model's reply is too short to cut";
  const std::string stop = full.substr(full.size() / 2, 2);
  for (bool stream : {false, true}) {
    std::string text;
    const json last = completion({{"prompt", prompt}, {"max_tokens", 24}, {"stop", {stop}}, {"stream", stream},
                                  {"include_stop_str_in_output", true}},
                                 &text);
    EXPECT_EQ(text, full.substr(0, full.find(stop) + stop.size())) << "stop " << json(stop).dump();
    EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  }

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
                     {"stream", true}};
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
    EXPECT_FALSE(chunk.contains("usage")) << events[i];
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
    const json last = completion(
        {{"prompt", prompt}, {"max_tokens", 12}, {"stream", stream}, {"stop_token_ids", {tokens[3]}}}, &text);
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

TEST_F(ServeTest, ConcurrentRequestsShareTheEngineAndMatchTheirSoloOutputs) {
  start();
  const std::vector<std::string> prompts{"Hello", "The weather today", "Once upon", "123 456", "ふりがな", "A B C",
                                         "Say something", "Step 1: preheat the oven"};  // the last samples id 504, past the tokenizer
  std::string cmd;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const fs::path in = dir_->path() / ("c" + std::to_string(i) + ".json");
    testing::write_bytes(in, json{{"prompt", prompts[i]}, {"max_tokens", 8}, {"stream", i % 2 == 1}}.dump());
    cmd += "curl -s -N -o " + quote((dir_->path() / ("c" + std::to_string(i) + ".out")).string()) +
           " -H 'Content-Type: application/json' --data-binary @" + quote(in.string()) + " " +
           quote(url("/v1/completions")) + " & ";
  }
  run_shell(cmd + "wait");
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::string body = testing::read_text(dir_->path() / ("c" + std::to_string(i) + ".out"));
    std::string text;
    if (i % 2 == 1)
      read_stream(body, false, &text);
    else
      text = json::parse(body)["choices"][0]["text"];
    EXPECT_EQ(text, known_text(greedy(text_->encode_prompt(prompts[i]), 8).first)) << prompts[i];
  }
}

TEST_F(ServeTest, AClientThatDisconnectsMidStreamIsCancelled) {
  start();
  const Http h = request("/v1/completions",
                         json{{"prompt", "Hello"}, {"max_tokens", 240}, {"ignore_eos", true}, {"stream", true}}.dump(),
                         "--max-time 0.4");
  EXPECT_EQ(h.status, 200);  // headers came; the body was cut by the client
  EXPECT_EQ(h.body.find("[DONE]"), std::string::npos);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (hub_->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(hub_->in_flight(), 0u);
  EXPECT_NE(request("/metrics").body.find("finish_reason=\"abort\"} 1\n"), std::string::npos);
}

TEST_F(ServeTest, ShutdownRefusesNewRequestsAndEndsInFlightOnes) {
  ServerOptions o;
  o.shutdown_grace_seconds = 1.0;
  start(o);
  const fs::path streamed = dir_->path() / "long.out";
  const fs::path in = dir_->path() / "long.json";
  testing::write_bytes(in, json{{"prompt", "Hello"}, {"max_tokens", 240}, {"ignore_eos", true}, {"stream", true}}.dump());
  std::thread client([&] {
    run_shell("curl -s -N -o " + quote(streamed.string()) + " -H 'Content-Type: application/json' --data-binary @" +
              quote(in.string()) + " " + quote(url("/v1/completions")));
  });
  while (hub_->in_flight() == 0) std::this_thread::sleep_for(5ms);
  std::thread stopper([&] { server_->shutdown(); });
  std::this_thread::sleep_for(100ms);
  const Http refused = request("/v1/completions", R"({"prompt":"late"})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(json::parse(refused.body)["error"]["message"], "the server is shutting down");
  stopper.join();
  client.join();
  thread_.join();
  server_.reset();
  std::string text;
  const json last = read_stream(testing::read_text(streamed), false, &text);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "abort");
}

// With an API key, the OpenAI routes need it; /health and /metrics stay open.
TEST_F(ServeTest, AnApiKeyGuardsTheOpenAiRoutes) {
  ServerOptions o;
  o.api_key = "s3cret";
  start(o);
  const std::string body = R"({"prompt":"Hi","max_tokens":2})";
  Http h = request("/v1/completions", body);
  EXPECT_EQ(h.status, 401);
  EXPECT_EQ(json::parse(h.body)["error"]["type"], "authentication_error");
  EXPECT_EQ(request("/v1/models", "", "-H 'Authorization: Bearer wrong'").status, 401);
  EXPECT_EQ(request("/v1/completions", body, "-H 'Authorization: Bearer s3cret'").status, 200);
  EXPECT_EQ(request("/v1/models", "", "-H 'Authorization: Bearer s3cret'").status, 200);
  EXPECT_EQ(request("/health").status, 200);
  EXPECT_NE(request("/metrics").body.find("status=\"401\"} 2\n"), std::string::npos);
}

// A port another server holds is one clear error, not a silent second listener.
TEST_F(ServeTest, ABusyPortIsOneError) {
  start();
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = port_;
  o.model_name = "tiny";
  OpenAiServer second(o, *text_, *hub_, *metrics_);
  try {
    second.bind();
    ADD_FAILURE() << "bound a busy port";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "serve: cannot bind 127.0.0.1:" + std::to_string(port_) + " (in use, or not an address of this machine)");
  }
  EXPECT_EQ(request("/health").status, 200);
}

// Connections that arrive faster than the server accepts them wait in the listen backlog. The HTTP
// library's own backlog of 5 dropped the rest, which TCP retried a second later (a burst of 64
// clients saw a 1.4 s time to first token); bound but not yet accepting, the server must queue 64.
TEST_F(ServeTest, TheListenBacklogHoldsABurstOfConnections) {
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ReferenceBackend>(model(), 4), text_->stop_token_ids(), metrics);
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.model_name = "tiny";
  OpenAiServer server(o, *text_, hub, metrics);
  const int port = server.bind();
  std::vector<int> sockets;
  for (int i = 0; i < 64; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
    sockets.push_back(fd);
  }
  // A queued connection completes its handshake at once; a dropped one waits for TCP's retry (1 s).
  const auto deadline = std::chrono::steady_clock::now() + 500ms;
  int connected = 0;
  for (int fd : sockets) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLOUT, 0};
    int error = -1;
    socklen_t size = sizeof error;
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) == 1 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0)
      ++connected;
  }
  EXPECT_EQ(connected, 64);
  for (int fd : sockets) close(fd);
  std::thread serving([&server] { server.run(); });
  server.shutdown();
  serving.join();
}

// Responses are several small writes; with Nagle's algorithm each waited for the previous one's
// ACK, which a client that already sent on the connection delays by up to 40 ms. The server's side
// of a connection (found among this process's sockets by its local port) has TCP_NODELAY.
TEST_F(ServeTest, ConnectionsAreServedWithoutNagleDelays) {
  start();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string get = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_EQ(send(fd, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  char buf[512];
  ASSERT_GT(recv(fd, buf, sizeof buf, 0), 0);  // answered: the server holds its side now
  int served = 0, without_nagle = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    const int s = std::atoi(entry.path().filename().c_str());
    sockaddr_in local{};
    socklen_t size = sizeof local;
    int listening = 1, nodelay = 0;
    socklen_t int_size = sizeof listening;
    if (getsockname(s, reinterpret_cast<sockaddr*>(&local), &size) != 0 || local.sin_family != AF_INET ||
        ntohs(local.sin_port) != port_ || getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &listening, &int_size) != 0 ||
        listening)
      continue;
    ++served;
    int_size = sizeof nodelay;
    if (getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nodelay, &int_size) == 0 && nodelay) ++without_nagle;
  }
  close(fd);
  EXPECT_EQ(served, 1);
  EXPECT_EQ(without_nagle, 1);
}

// The command: prints its port, answers, and exits 0 on SIGTERM.
TEST_F(ServeTest, TheServeCommandExitsCleanlyOnSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    const std::string bin = testing::slidesparse_binary(), dir = model().string();
    execl(bin.c_str(), bin.c_str(), "serve", "--model", dir.c_str(), "--cpu-reference", "--port", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[512] = {};
  ASSERT_NE(fgets(line, sizeof line, f), nullptr);
  std::smatch m;
  const std::string first = line;
  ASSERT_TRUE(std::regex_search(first, m, std::regex("http://127\\.0\\.0\\.1:([0-9]+) \\(model \"int8\"")))
      << first;
  port_ = std::stoi(m[1]);
  EXPECT_EQ(request("/health").status, 200);
  EXPECT_EQ(request("/v1/completions", R"({"model":"int8","prompt":"Hi","max_tokens":2})").status, 200);
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::string rest;
  while (fgets(line, sizeof line, f)) rest += line;
  fclose(f);
  EXPECT_NE(rest.find("serve: stopped"), std::string::npos) << rest;
}

}  // namespace
}  // namespace slidesparse
