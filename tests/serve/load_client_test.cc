// The load generator of `bench serve` against the server over the CPU reference model: every
// request completed and timed, arrivals at a rate with a concurrency cap, kept-alive connections,
// failures counted with the server's message, option mistakes, and the command's URL checks.
#include "serve/load_client.h"

#include <string>
#include <vector>

#include "core/error.h"
#include "serve_fixture.h"

namespace slidesparse::serve_testing {
namespace {

LoadOptions load_on(int port) {
  LoadOptions o;
  o.port = port;
  o.input_len = 5;
  o.output_len = 4;
  o.token_lo = 3;
  o.token_hi = 500;  // inside the tiny model's vocabulary
  return o;
}

TEST_F(ServeTest, ALoadOfStreamingRequestsIsTimedAtTheClient) {
  start();
  LoadOptions o = load_on(port_);
  o.clients = 3;
  o.num_requests = 6;
  std::vector<RequestTiming> timings;
  LoadReport r = run_load(o, &timings);
  EXPECT_EQ(r.completed, 6);
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(r.input_tokens, 30);
  EXPECT_EQ(r.output_tokens, 24);
  EXPECT_GT(r.output_throughput, 0);
  ASSERT_EQ(timings.size(), 6u);
  for (const RequestTiming& t : timings) {
    EXPECT_TRUE(t.ok) << t.error;
    EXPECT_EQ(t.output_tokens, 4);
    EXPECT_GT(t.ttft, 0);
    EXPECT_LE(t.ttft, t.e2e);
    EXPECT_LE(t.itl.size(), 3u);  // ids past the tokenizer's vocabulary stream no text
  }
  EXPECT_LE(r.ttft.p50, r.e2e.p99);
  EXPECT_FALSE(r.slo_set);
  EXPECT_EQ(r.within_slo, 6);
  // Goodput against objectives every request meets, and one none can (a first token within 0.001 ms).
  o.slo_ttft_ms = 60000;
  o.slo_tpot_ms = 60000;
  r = run_load(o);
  EXPECT_EQ(r.within_slo, 6);
  EXPECT_NE(r.render().find("goodput (req/s within the objectives)"), std::string::npos);
  o.slo_ttft_ms = 0.001;
  r = run_load(o);
  EXPECT_EQ(r.completed, 6);
  EXPECT_EQ(r.within_slo, 0);
  EXPECT_EQ(r.goodput, 0);
  o.slo_ttft_ms = o.slo_tpot_ms = 0;
  const std::string metrics = request("/metrics").body;
  EXPECT_NE(metrics.find("slidesparse_requests_total{model_name=\"tiny\",finish_reason=\"length\"} 18\n"),
            std::string::npos)
      << metrics;

  // Arrivals at a rate, at most two in flight; then kept-alive connections.
  o.clients = 0;
  o.request_rate = 200;
  o.max_concurrency = 2;
  o.num_requests = 4;
  r = run_load(o);
  EXPECT_EQ(r.completed, 4);
  EXPECT_EQ(r.failed, 0);
  o.request_rate = 0;
  o.clients = 2;
  o.keep_alive = true;
  r = run_load(o);
  EXPECT_EQ(r.completed, 4);
  EXPECT_EQ(r.output_tokens, 16);
}

// Text prompts, to completions and as chat messages: the input tokens are the server's count.
TEST_F(ServeTest, TextPromptsAndChatRequests) {
  start();
  LoadOptions o = load_on(port_);
  o.clients = 2;
  o.num_requests = 4;
  o.prompts = {"Hello", "Once upon a time"};
  LoadReport r = run_load(o);
  EXPECT_EQ(r.completed, 4);
  EXPECT_EQ(r.input_tokens, 2 * static_cast<int64_t>(text_->encode_prompt("Hello").size() +
                                                      text_->encode_prompt("Once upon a time").size()));
  o.chat = true;
  r = run_load(o);
  EXPECT_EQ(r.completed, 4);
  EXPECT_EQ(r.output_tokens, 16);
  EXPECT_EQ(r.input_tokens, 2 * static_cast<int64_t>(text_->encode_chat({{"user", "Hello"}}).size() +
                                                      text_->encode_chat({{"user", "Once upon a time"}}).size()));
}

TEST_F(ServeTest, FailedRequestsAreCountedWithTheServersMessage) {
  ServerOptions options;
  options.api_key = "k";
  start(options);
  LoadOptions o = load_on(port_);
  o.clients = 2;
  o.num_requests = 3;
  LoadReport r = run_load(o);
  EXPECT_EQ(r.completed, 0);
  EXPECT_EQ(r.failed, 3);
  EXPECT_EQ(r.errors, (std::vector<std::string>{
                          "HTTP 401: missing or wrong API key (send \"Authorization: Bearer <key>\")"}));
  o.api_key = "k";
  o.model = "other";
  r = run_load(o);
  EXPECT_EQ(r.errors,
            (std::vector<std::string>{"HTTP 404: The model 'other' does not exist (this server serves 'tiny')"}));
  o.model = "tiny";
  r = run_load(o);
  EXPECT_EQ(r.completed, 3);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_NE(r.render().find("requests completed / failed          3 / 0\n"), std::string::npos) << r.render();
  EXPECT_EQ(r.to_json()["completed"], 3);
}

TEST(LoadClient, OptionMistakesAreOneError) {
  const auto error_of = [](const LoadOptions& o) {
    try {
      check_load_options(o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  LoadOptions o;
  o.num_requests = 1;
  EXPECT_EQ(error_of(o), "give either a number of concurrent clients or a request rate");
  o.clients = 1;
  o.request_rate = 1;
  EXPECT_EQ(error_of(o), "give either a number of concurrent clients or a request rate");
  o.request_rate = 0;
  o.num_requests = 0;
  EXPECT_EQ(error_of(o), "give a number of requests or a duration");
  o.num_requests = 1;
  o.output_len = 0;
  EXPECT_EQ(error_of(o), "input and output lengths must be at least 1 token");
  o.output_len = 1;
  o.token_lo = 5;
  o.token_hi = 5;
  EXPECT_EQ(error_of(o), "the prompt token range must be a non-empty range of ids >= 0");
  o.token_hi = 6;
  EXPECT_EQ(error_of(o), "");
  o.chat = true;
  EXPECT_EQ(error_of(o), "chat requests need text prompts");
}

TEST(LoadClient, TheCommandChecksItsUrl) {
  struct Case {
    std::string url, message;
  };
  const Case cases[] = {
      {"https://h:1", "--url: https is not supported (plain HTTP only), got 'https://h:1'"},
      {"h:1", "--url must start with http://, got 'h:1'"},
      {"http://h:0", "--url: bad port in 'http://h:0'"},
      {"http://h:1/v2", "--url: give the server's address (http://HOST:PORT, optionally ending in /v1), got "
                        "'http://h:1/v2'"},
      {"http://:8000", "--url: no host in 'http://:8000'"},
  };
  for (const Case& c : cases) {
    const auto r =
        testing::run_slidesparse({"bench", "serve", "--url", c.url, "--clients", "1", "--num-requests", "1"});
    EXPECT_EQ(r.exit_code, 1) << c.url;
    EXPECT_EQ(r.err, "slidesparse: error: " + c.message + "\n") << c.url;
  }
  const auto chat = testing::run_slidesparse({"bench", "serve", "--clients", "1", "--num-requests", "1", "--chat"});
  EXPECT_EQ(chat.err, "slidesparse: error: --chat goes with --prompts-file\n");
  const auto r = testing::run_slidesparse({"bench", "serve", "--clients", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "slidesparse: error: bench serve: give a number of requests or a duration (--clients or "
                   "--request-rate, --num-requests or --seconds, --input-len, --output-len, --token-range)\n");
}

}  // namespace
}  // namespace slidesparse::serve_testing
