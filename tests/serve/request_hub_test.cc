// The request hub against a scripted backend: tokens reach their streams in order, a stop token the
// engine does not know ends the request and drops it from the backend, cancellation frees the
// request before its next step, a failing step ends every request, stop_accepting refuses new ones,
// and a request submitted while the engine runs step after step joins it within a step or two.
#include "serve/request_hub.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"
#include "serve/choices.h"
#include "test_support.h"

namespace slidesparse {
namespace {

using namespace std::chrono_literals;

// Each request generates prompt[0] + 1, + 2, ... up to max_tokens; token 99 is the model's eos.
class ScriptedBackend : public GenerationBackend {
 public:
  struct Shared {
    std::mutex mutex;
    std::set<int64_t> aborted;
    std::map<int64_t, int> added_at_step;  // request id -> steps run before it was added
    int steps = 0;
    bool fail_next_step = false;
    std::chrono::microseconds step_time{0};  // how long each step takes
  };
  explicit ScriptedBackend(Shared& shared) : shared_(shared) {}

  int64_t vocab_size() const override { return 1000; }
  int max_model_len() const override { return 64; }
  int64_t add(std::vector<int32_t> prompt, const SamplingParams& params) override {
    require(!prompt.empty() && prompt[0] >= 0, "bad prompt");
    requests_.push_back({next_, prompt[0], params.max_tokens, 0});
    std::lock_guard lock(shared_.mutex);
    shared_.added_at_step[next_] = shared_.steps;
    return next_++;
  }
  void abort(int64_t request) override {
    std::erase_if(requests_, [&](const Request& r) { return r.id == request; });
    std::lock_guard lock(shared_.mutex);
    shared_.aborted.insert(request);
  }
  bool idle() const override { return requests_.empty(); }
  std::vector<TokenEvent> step() override {
    {
      std::lock_guard lock(shared_.mutex);
      ++shared_.steps;
      if (shared_.fail_next_step) {
        shared_.fail_next_step = false;
        fail("device fault");
      }
    }
    std::this_thread::sleep_for(shared_.step_time);
    std::vector<TokenEvent> events;
    for (Request& r : requests_) {
      ++r.generated;
      TokenEvent e{r.id, r.first + r.generated};
      e.eos = e.token == 99;
      e.finished = e.eos || r.generated >= r.max_tokens;
      events.push_back(e);
    }
    std::erase_if(requests_, [](const Request& r) { return r.first + r.generated == 99 || r.generated >= r.max_tokens; });
    return events;
  }
  BackendLoad load() const override { return {static_cast<int>(requests_.size()), 0, 0.0}; }

 private:
  struct Request {
    int64_t id;
    int32_t first;
    int max_tokens, generated;
  };
  Shared& shared_;
  std::deque<Request> requests_;
  int64_t next_ = 0;
};

// Everything a stream delivers until it ends.
StreamUpdate drain(RequestStream& s) {
  StreamUpdate all;
  for (int i = 0; i < 500 && !all.finished; ++i) {
    StreamUpdate u = s.wait(20ms);
    all.tokens.insert(all.tokens.end(), u.tokens.begin(), u.tokens.end());
    all.finished = u.finished;
    all.finish_reason = u.finish_reason;
  }
  return all;
}

SamplingParams max_tokens(int n) {
  SamplingParams p;
  p.max_tokens = n;
  return p;
}

TEST(RequestHub, TokensReachTheirStreamsWithTheFinishReason) {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ScriptedBackend>(shared), {}, metrics);
  auto a = hub.submit({10}, max_tokens(3));
  auto b = hub.submit({96}, max_tokens(10));  // reaches the eos 99 after three tokens
  const StreamUpdate ua = drain(*a), ub = drain(*b);
  EXPECT_EQ(ua.tokens, (std::vector<int32_t>{11, 12, 13}));
  EXPECT_EQ(ua.finish_reason, "length");
  EXPECT_EQ(ub.tokens, (std::vector<int32_t>{97, 98, 99}));
  EXPECT_EQ(ub.finish_reason, "stop");
  EXPECT_EQ(hub.in_flight(), 0u);
  const std::string m = metrics.render("x");
  EXPECT_NE(m.find("slidesparse_generation_tokens_total{model_name=\"x\"} 6\n"), std::string::npos) << m;
  EXPECT_NE(m.find("slidesparse_prompt_tokens_total{model_name=\"x\"} 2\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_time_to_first_token_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_inter_token_latency_seconds_count 4\n"), std::string::npos);
  // Per request at its end: one prompt token and three generated each.
  EXPECT_NE(m.find("slidesparse_e2e_request_latency_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_request_prompt_tokens_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_request_prompt_tokens_sum 2\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_request_generation_tokens_bucket{le=\"2\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_request_generation_tokens_bucket{le=\"5\"} 2\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_request_generation_tokens_sum 6\n"), std::string::npos);
  EXPECT_NE(m.find("slidesparse_request_generation_tokens_bucket{le=\"5e+06\"} 2\n"), std::string::npos);
}

TEST(RequestHub, AStopTokenTheEngineDoesNotKnowEndsAndDropsTheRequest) {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ScriptedBackend>(shared), {22}, metrics);  // a chat model's end of turn
  auto s = hub.submit({20}, max_tokens(10));
  const StreamUpdate u = drain(*s);
  EXPECT_EQ(u.tokens, (std::vector<int32_t>{21, 22}));
  EXPECT_EQ(u.finish_reason, "stop");
  std::lock_guard lock(shared.mutex);
  EXPECT_EQ(shared.aborted, (std::set<int64_t>{0}));
}

TEST(RequestHub, IgnoreEosKeepsGoingPastAStopToken) {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ScriptedBackend>(shared), {22}, metrics);
  SamplingParams p = max_tokens(4);
  p.ignore_eos = true;
  auto s = hub.submit({20}, p);
  EXPECT_EQ(drain(*s).tokens, (std::vector<int32_t>{21, 22, 23, 24}));
}

TEST(RequestHub, CancelEndsTheRequestAndLeavesTheBackend) {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ScriptedBackend>(shared), {}, metrics);
  auto s = hub.submit({100}, max_tokens(1000000));
  EXPECT_FALSE(s->wait(1s).tokens.empty());
  hub.cancel(s);
  const StreamUpdate u = drain(*s);
  EXPECT_TRUE(u.finished);
  EXPECT_EQ(u.finish_reason, "abort");
  EXPECT_EQ(hub.in_flight(), 0u);
  {
    std::lock_guard lock(shared.mutex);
    EXPECT_EQ(shared.aborted, (std::set<int64_t>{0}));
  }
  hub.cancel(s);  // twice: nothing more happens
  EXPECT_NE(metrics.render("x").find("finish_reason=\"abort\"} 1\n"), std::string::npos);
  // The load gauges follow the abort although no step runs after it.
  bool running_zero = false;
  for (int i = 0; i < 100 && !running_zero; ++i, std::this_thread::sleep_for(10ms))
    running_zero = metrics.render("x").find("slidesparse_num_requests_running{model_name=\"x\"} 0\n") != std::string::npos;
  EXPECT_TRUE(running_zero) << metrics.render("x");
}

TEST(RequestHub, AFailedStepEndsEveryRequestAndTheHubGoesOn) {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ScriptedBackend>(shared), {}, metrics);
  {
    std::lock_guard lock(shared.mutex);
    shared.fail_next_step = true;
  }
  auto a = hub.submit({10}, max_tokens(5));
  EXPECT_EQ(drain(*a).finish_reason, "abort");
  auto b = hub.submit({10}, max_tokens(2));
  EXPECT_EQ(drain(*b).tokens, (std::vector<int32_t>{11, 12}));
}

int steps_so_far(ScriptedBackend::Shared& shared) {
  std::lock_guard lock(shared.mutex);
  return shared.steps;
}

// A hub whose engine steps back to back (2 ms a step) on a request that never ends.
struct BusyHub {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  std::unique_ptr<RequestHub> hub;
  std::shared_ptr<RequestStream> busy;

  BusyHub() {
    shared.step_time = 2ms;
    hub = std::make_unique<RequestHub>(std::make_unique<ScriptedBackend>(shared), std::set<int32_t>{}, metrics);
    busy = hub->submit({200}, max_tokens(1000000));
    EXPECT_FALSE(busy->wait(1s).tokens.empty());
  }
  ~BusyHub() { hub->cancel(busy); }
};

// The engine thread steps back to back while a request runs; submissions from other threads must not
// wait for a gap in that loop (they once did, for seconds: a mutex the engine thread re-locked after
// every step).
TEST(RequestHub, RequestsSubmittedWhileTheEngineIsBusyJoinWithinAStepOrTwo) {
  BusyHub b;
  ScriptedBackend::Shared& shared = b.shared;
  RequestHub& hub = *b.hub;
  std::vector<int> steps_waited;
  std::mutex m;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        const int before = steps_so_far(shared);
        auto s = hub.submit({300}, max_tokens(1));
        const int waited = steps_so_far(shared) - before;
        drain(*s);
        std::lock_guard lock(m);
        steps_waited.push_back(waited);
      }
    });
  for (auto& t : clients) t.join();
  ASSERT_EQ(steps_waited.size(), 20u);
  // One step may be under way when a request arrives; a loaded machine (ctest -j on 2 cores) may
  // hold the client thread back several 2 ms steps more before it reads the counter again. A hub
  // that queued new requests behind the busy one would wait for its million tokens instead.
  EXPECT_LE(*std::max_element(steps_waited.begin(), steps_waited.end()), 25);
}

// The n choices of one HTTP request: queued together, added before the same step even while the
// engine is busy; one refusal among them leaves none of them behind.
TEST(RequestHub, RequestsSubmittedTogetherJoinTheSameStepOrNoneStays) {
  BusyHub b;
  ScriptedBackend::Shared& shared = b.shared;
  RequestHub& hub = *b.hub;
  std::vector<RequestHub::Request> together;
  for (int32_t i = 0; i < 8; ++i) together.push_back({{300 + 10 * i}, max_tokens(3)});
  const auto streams = hub.submit_all(together);
  ASSERT_EQ(streams.size(), 8u);
  for (size_t i = 0; i < streams.size(); ++i) {
    const StreamUpdate all = drain(*streams[i]);
    const int32_t first = 300 + 10 * static_cast<int32_t>(i);
    EXPECT_EQ(all.tokens, (std::vector<int32_t>{first + 1, first + 2, first + 3})) << i;
  }
  {
    std::lock_guard lock(shared.mutex);
    std::set<int> steps;
    for (int64_t id = 1; id <= 8; ++id) steps.insert(shared.added_at_step.at(id));
    EXPECT_EQ(steps.size(), 1u);
  }
  together[3].prompt = {-1};  // refused by the backend
  EXPECT_THROW(hub.submit_all(together), Error);
  for (int i = 0; i < 100 && hub.in_flight() > 1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(hub.in_flight(), 1u);  // the busy request alone
  {
    std::lock_guard lock(shared.mutex);
    EXPECT_EQ(shared.aborted.size(), 7u);  // the seven that had been added
  }
}

TEST(RequestHub, RefusedPromptsAndShutdown) {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ScriptedBackend>(shared), {}, metrics);
  EXPECT_THROW(hub.submit({-1}, max_tokens(2)), Error);
  EXPECT_EQ(hub.in_flight(), 0u);
  hub.stop_accepting();
  EXPECT_FALSE(hub.accepting());
  EXPECT_THROW(hub.submit({1}, max_tokens(2)), RequestHub::ShuttingDown);
}

// Requests still in flight when the hub goes away end with "abort" (their readers are not left waiting).
TEST(RequestHub, DestroyingTheHubEndsWhatIsInFlight) {
  ScriptedBackend::Shared shared;
  ServeMetrics metrics;
  std::shared_ptr<RequestStream> s;
  {
    RequestHub hub(std::make_unique<ScriptedBackend>(shared), {}, metrics);
    s = hub.submit({100}, max_tokens(1000000));
    s->wait(1s);
  }
  EXPECT_EQ(drain(*s).finish_reason, "abort");
}

// A streamed choice's first chunk waits for its first text: a chunk sent earlier (empty, after the
// streamer's first 100 ms wait) would be taken by clients for the first token.
TEST(RequestHub, TheFirstStreamChunkWaitsForTheFirstToken) {
  const TextModel text = TextModel::load(testing::test_data_dir() / "tokenizers" / "tiny_chat");
  ScriptedBackend::Shared shared;
  shared.step_time = 300ms;
  ServeMetrics metrics;
  RequestHub hub(std::make_unique<ScriptedBackend>(shared), {}, metrics);
  auto request = std::make_shared<GenerationRequest>();
  request->stream = true;
  EncodedPrompts prompts;
  prompts.ids = {{262}};  // generates 263 "he", 264 "ar"
  prompts.echoes = {""};
  prompts.max_tokens = {2};
  const auto choices = submit_choices(*request, prompts, hub, text);
  ChoiceStreamer streamer(request, choices, "cmpl-0", 0);
  std::vector<std::string> chunks;
  const auto write = [&](const std::string& chunk) {
    chunks.push_back(chunk);
    return true;
  };
  EXPECT_EQ(streamer.next(hub, write), ChoiceStreamer::Step::More);  // 100 ms into a 300 ms step
  EXPECT_TRUE(chunks.empty()) << chunks.front();
  ChoiceStreamer::Step step = ChoiceStreamer::Step::More;
  for (int i = 0; i < 100 && step == ChoiceStreamer::Step::More; ++i) step = streamer.next(hub, write);
  ASSERT_EQ(step, ChoiceStreamer::Step::Done);
  ASSERT_GE(chunks.size(), 3u);  // text..., the finish chunk, [DONE]
  const nlohmann::json first = nlohmann::json::parse(chunks.front().substr(6));
  EXPECT_EQ(first["choices"][0]["text"], "he") << chunks.front();
  EXPECT_EQ(chunks.back(), "data: [DONE]\n\n");
}

}  // namespace
}  // namespace slidesparse
