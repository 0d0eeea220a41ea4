// The fixture of the server's tests: `serve` over a real socket on 127.0.0.1, driven by curl (a
// client that is not our code), with the CPU reference model of the tiny checkpoint behind it and
// the tiny ChatML tokenizer; greedy replies of the reference model to compare with.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/prepare.h"
#include "reference/reference_model.h"
#include "serve/openai_server.h"
#include "serve/reference_backend.h"
#include "test_support.h"

namespace slidesparse::serve_testing {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using testing::ScratchDir;

struct Http {
  int status = 0;
  std::string body;
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string run_shell(const std::string& command) {
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
    // Names unique in the process (the scratch folder outlives a test when the suite runs in one
    // process): a reply curl does not write must not read as an earlier test's file.
    const fs::path out = dir_->path() / ("out-" + std::to_string(counter_++));
    fs::remove(out);
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
    // A usage chunk (no choices) may come last before [DONE]; its usage is returned on the last chunk.
    json last, usage;
    size_t end = events.size() - 1;
    if (end > 0 && events[end - 1].rfind("data: ", 0) == 0) {
      const json chunk = json::parse(events[end - 1].substr(6));
      if (chunk["choices"].empty()) {
        usage = chunk["usage"];
        EXPECT_TRUE(usage.is_object()) << events[end - 1];
        --end;
      }
    }
    for (size_t i = 0; i < end; ++i) {
      EXPECT_EQ(events[i].rfind("data: ", 0), 0u) << events[i];
      const json chunk = json::parse(events[i].substr(6));
      const json& choice = chunk["choices"][0];
      *text += chat ? choice["delta"].value("content", "") : choice["text"].get<std::string>();
      if (i + 1 < end) {
        EXPECT_TRUE(choice["finish_reason"].is_null()) << events[i];
      }
      // The choices' chunks carry no usage, or null when the request asked for a usage chunk.
      EXPECT_TRUE(!chunk.contains("usage") || (chunk["usage"].is_null() && !usage.is_null())) << events[i];
      if (chat && i == 0) {
        EXPECT_EQ(choice["delta"]["role"], "assistant");
      }
      last = chunk;
    }
    if (!usage.is_null()) last["usage"] = usage;
    return last;
  }

  // A /v1/completions request, streamed or not as the body says: the reply's text, and the last
  // stream chunk or the whole response (where finish_reason and usage are; a stream has its usage
  // when the body asks for it with stream_options).
  json completion(const json& body, std::string* text) {
    const Http h = request("/v1/completions", body.dump());
    EXPECT_EQ(h.status, 200) << h.body;
    if (h.status != 200) return {};
    if (body.value("stream", false)) return read_stream(h.body, false, text);
    json r = json::parse(h.body);
    *text = r["choices"][0]["text"];
    return r;
  }

  static inline ScratchDir* dir_ = nullptr;
  static inline ReferenceModel* reference_ = nullptr;
  static inline TextModel* text_ = nullptr;
  std::unique_ptr<ServeMetrics> metrics_;
  std::unique_ptr<RequestHub> hub_;
  std::unique_ptr<OpenAiServer> server_;
  std::thread thread_;
  int port_ = 0;
  static inline std::atomic<int> counter_{0};
};

}  // namespace slidesparse::serve_testing
