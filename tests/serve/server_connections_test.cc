// The server's connections and lifetime: concurrent requests, a client that disconnects
// mid-stream, graceful shutdown, the API key, a busy port, the listen backlog, TCP_NODELAY, and the
// `serve` command under SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "serve_fixture.h"

namespace slidesparse::serve_testing {
namespace {

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

// CORS: a page of an allowed origin gets its origin back on every response, streams included, and
// a preflight OPTIONS answered without the API key; another origin gets no CORS header.
TEST_F(ServeTest, AllowedOriginsGetCorsHeaders) {
  ServerOptions o;
  o.allowed_origins = {"http://ui.example"};
  o.api_key = "k";
  start(o);
  const std::string headers = (dir_->path() / "cors-headers").string();
  const auto with_headers = [&](const std::string& path, const std::string& body, const std::string& extra) {
    const Http h = request(path, body, "-D " + quote(headers) + " " + extra);
    return std::make_pair(h, testing::read_text(headers));
  };
  auto [preflight, preflight_headers] = with_headers(
      "/v1/chat/completions", "",
      "-X OPTIONS -H 'Origin: http://ui.example' -H 'Access-Control-Request-Method: POST'");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_NE(preflight_headers.find("Access-Control-Allow-Origin: http://ui.example\r\n"), std::string::npos)
      << preflight_headers;
  EXPECT_NE(preflight_headers.find("Access-Control-Allow-Headers: Authorization, Content-Type\r\n"),
            std::string::npos);
  const std::string body = json{{"prompt", "Hi"}, {"max_tokens", 2}, {"stream", true}}.dump();
  auto [stream, stream_headers] =
      with_headers("/v1/completions", body, "-H 'Origin: http://ui.example' -H 'Authorization: Bearer k'");
  EXPECT_EQ(stream.status, 200);
  EXPECT_NE(stream_headers.find("Access-Control-Allow-Origin: http://ui.example\r\n"), std::string::npos)
      << stream_headers;
  auto [other, other_headers] =
      with_headers("/v1/completions", body, "-H 'Origin: http://evil.example' -H 'Authorization: Bearer k'");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other_headers.find("Access-Control-Allow-Origin"), std::string::npos) << other_headers;
  auto [denied, denied_headers] = with_headers("/v1/models", "", "-H 'Origin: http://ui.example'");
  EXPECT_EQ(denied.status, 401);  // the key is still needed; the error is readable by the page
  EXPECT_NE(denied_headers.find("Access-Control-Allow-Origin: http://ui.example\r\n"), std::string::npos);
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
}  // namespace slidesparse::serve_testing
