// Host cost of serving, on the CPU alone: the real OpenAI server (HTTP worker threads, the request
// hub's engine thread, detokenization, stop-string checks, stream chunks) over a backend that
// computes nothing, driven by streaming clients over loopback sockets. What it measures is the
// server's own CPU time per streamed token and the engine thread's time between two backend steps
// (token delivery, queued requests, cancellations, metrics), which with the GPU engine's steps
// launched ahead must stay below the GPU's step time or the GPU waits for the host.
//
// The backend emulates the GPU engine launching each decode step behind the previous one: a step
// ends --step-us after the previous one returned (or at once, if the host took longer than that),
// and advances every request by one token (ids that decode to "<tN>", never end-of-sequence) until
// its max_tokens. With --step-us 0 the server runs as fast as it can.
//
// Usage: serve_bench [--clients N] [--max-tokens T] [--seconds S] [--step-us U] [--chat] [--keep-alive]
//                    [--max-connections W] [--port P --model NAME]
//   (defaults 64, 128, 10, 0; N clients each send streaming requests back to back, one connection
//   per request as Python's urllib does, or one kept-alive connection each as HTTP client libraries
//   with a connection pool do; W: the in-process server's HTTP workers, default N + 8; --port: the
//   clients alone, against `slidesparse serve` on 127.0.0.1:P serving the model id NAME)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "serve/openai_server.h"
#include "text/placeholder_tokenizer.h"

namespace {

using namespace slidesparse;
using Clock = std::chrono::steady_clock;

constexpr int64_t kVocab = 128256, kBos = 128000, kEos = 128001;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Every request advances by one token per step; the step's end is paced like a GPU step launched
// ahead of the host's work on the previous one.
class PacedBackend final : public GenerationBackend {
 public:
  explicit PacedBackend(std::chrono::microseconds step) : step_(step) {}

  int64_t vocab_size() const override { return kVocab; }
  int max_model_len() const override { return 4096; }
  int64_t add(std::vector<int32_t> prompt, const SamplingParams& params) override {
    running_.push_back({next_id_, static_cast<int>(prompt.size()), params.max_tokens, 0});
    return next_id_++;
  }
  void abort(int64_t request) override {
    std::erase_if(running_, [request](const Request& r) { return r.id == request; });
  }
  bool idle() const override { return running_.empty(); }
  std::vector<TokenEvent> step() override {
    const auto start = Clock::now();
    const double cpu = thread_cpu_seconds();
    if (returned_) {
      const auto gap = start - *returned_;
      if (gap < std::chrono::seconds(1)) {  // not an idle server waiting for requests
        gaps_.push_back(seconds(gap));
        gap_cpu_ += cpu - returned_cpu_;
        rows_ += static_cast<int64_t>(running_.size());
      }
      if (gap < step_) std::this_thread::sleep_until(*returned_ + step_);
    }
    std::vector<TokenEvent> events;
    events.reserve(running_.size());
    for (Request& r : running_) {
      TokenEvent e;
      e.request = r.id;
      e.token = static_cast<int32_t>(256 + (r.id * 7919 + r.generated * 104729) % (kBos - 256));
      e.finished = ++r.generated >= r.max_tokens;
      events.push_back(e);
    }
    std::erase_if(running_, [](const Request& r) { return r.generated >= r.max_tokens; });
    returned_ = Clock::now();
    returned_cpu_ = thread_cpu_seconds();
    return events;
  }
  BackendLoad load() const override { return {static_cast<int>(running_.size()), 0, 0.0, 0}; }

  // Engine-thread time between a step's return and the next step's call, per step (seconds), and
  // the CPU time the thread spent in those gaps (less than the wall time when it waited for a core).
  const std::vector<double>& gaps() const { return gaps_; }
  double gap_cpu_seconds() const { return gap_cpu_; }
  double mean_rows() const {
    return gaps_.empty() ? 0 : static_cast<double>(rows_) / static_cast<double>(gaps_.size());
  }

 private:
  struct Request {
    int64_t id;
    int prompt, max_tokens, generated;
  };
  std::chrono::microseconds step_;
  std::vector<Request> running_;
  int64_t next_id_ = 0;
  std::optional<Clock::time_point> returned_;
  double returned_cpu_ = 0, gap_cpu_ = 0;
  std::vector<double> gaps_;
  int64_t rows_ = 0;
};

struct ClientTotals {
  std::mutex mutex;
  int64_t requests = 0, tokens = 0, incomplete = 0;
  double cpu_seconds = 0;
  std::vector<double> first_token, duration;  // per request, seconds from connect()
  std::vector<double> gaps;                    // between two reads that brought content, seconds
};

struct Streamed {
  int64_t tokens = -1;  // -1: the stream did not end with usage and [DONE]
  double first_token = 0, duration = 0;
  std::vector<double> gaps;
};

int connect_loopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  require(fd >= 0, "serve_bench: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One streaming request: its completion tokens (the usage on its last chunk), the time to its first
// content chunk and its duration. Over a connection of its own (closed by the server after the
// response), or with `keep_alive` over *fd, opened when it is -1 and kept for the next request
// (the response ends with the chunked encoding's last chunk).
Streamed stream_once(int port, const std::string& path, const std::string& body, bool keep_alive, int* fd) {
  Streamed out;
  const auto start = Clock::now();
  if (*fd < 0) *fd = connect_loopback(port);
  if (*fd < 0) return out;
  const std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " +
                              (keep_alive ? "keep-alive" : "close") +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(*fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string data;
  char buf[16384];
  auto last_read = start;
  bool ended = false;  // the chunked body's last chunk arrived (keep-alive)
  while (!ended) {
    const ssize_t n = recv(*fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    const auto now = Clock::now();
    if (out.first_token == 0) {
      if (data.find("data: ") != std::string::npos) out.first_token = seconds(now - start);
    } else {
      out.gaps.push_back(seconds(now - last_read));
    }
    last_read = now;
    ended = keep_alive && data.size() >= 5 && data.compare(data.size() - 5, 5, "0\r\n\r\n") == 0;
  }
  if (!ended) {
    close(*fd);
    *fd = -1;
  }
  out.duration = seconds(Clock::now() - start);
  // The completion tokens of the usage on the stream's last chunk.
  const size_t usage = data.rfind("\"completion_tokens\":");
  if (data.find("data: [DONE]") != std::string::npos && usage != std::string::npos)
    out.tokens = std::atoll(data.c_str() + usage + std::strlen("\"completion_tokens\":"));
  return out;
}

void client(int port, const std::string& path, const std::string& body, bool keep_alive, Clock::time_point deadline,
            ClientTotals& totals) {
  int64_t requests = 0, tokens = 0, incomplete = 0;
  std::vector<double> first_token, duration, gaps;
  int fd = -1;
  while (Clock::now() < deadline) {
    const Streamed s = stream_once(port, path, body, keep_alive, &fd);
    ++requests;
    if (s.tokens < 0) {
      ++incomplete;
      continue;
    }
    tokens += s.tokens;
    first_token.push_back(s.first_token);
    duration.push_back(s.duration);
    gaps.insert(gaps.end(), s.gaps.begin(), s.gaps.end());
  }
  if (fd >= 0) close(fd);
  const double cpu = thread_cpu_seconds();
  std::lock_guard lock(totals.mutex);
  totals.requests += requests;
  totals.tokens += tokens;
  totals.incomplete += incomplete;
  totals.cpu_seconds += cpu;
  totals.first_token.insert(totals.first_token.end(), first_token.begin(), first_token.end());
  totals.duration.insert(totals.duration.end(), duration.begin(), duration.end());
  totals.gaps.insert(totals.gaps.end(), gaps.begin(), gaps.end());
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5))];
}

struct Options {
  int clients = 64, max_tokens = 128, step_us = 0;
  double seconds = 10;
  bool chat = false, keep_alive = false;
  int max_connections = 0;  // the server's HTTP worker threads; 0: clients + 8
  int port = 0;  // an external server at 127.0.0.1:port; 0: the server in this process
  std::string model = "bench";
};

struct Load {
  ClientTotals totals;
  double wall = 0, cpu = 0;  // the process's CPU seconds over the load
};

// CLIENTS threads sending streaming requests back to back for SECONDS (each finishes its last).
void drive(const Options& o, int port, Load& load) {
  const std::string prompt = "\"The capital of France is\"";
  const std::string path = o.chat ? "/v1/chat/completions" : "/v1/completions";
  const std::string body = "{\"model\": \"" + o.model + "\", \"stream\": true, \"ignore_eos\": true, " +
                           "\"max_tokens\": " + std::to_string(o.max_tokens) +
                           (o.chat ? ", \"messages\": [{\"role\": \"user\", \"content\": " + prompt + "}]}"
                                   : ", \"prompt\": " + prompt + "}");
  const double cpu_before = process_cpu_seconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i)
    threads.emplace_back(client, port, path, body, o.keep_alive, deadline, std::ref(load.totals));
  for (auto& t : threads) t.join();
  load.wall = seconds(Clock::now() - start);
  load.cpu = process_cpu_seconds() - cpu_before;
}

void print_clients(const Options& o, const Load& load) {
  const ClientTotals& t = load.totals;
  std::printf("%s, %d clients%s, max_tokens %d, ", o.chat ? "chat" : "completions", o.clients,
              o.keep_alive ? " (keep-alive)" : "", o.max_tokens);
  if (o.port > 0)
    std::printf("the server at 127.0.0.1:%d\n", o.port);
  else
    std::printf("%d HTTP workers, step %d us%s\n", o.max_connections > 0 ? o.max_connections : o.clients + 8,
                o.step_us, o.step_us > 0 ? " (a GPU step launched ahead, emulated)" : " (no step time)");
  std::printf("  %lld requests (%lld incomplete), %lld tokens in %.2f s: %.0f tokens/s streamed\n",
              static_cast<long long>(t.requests), static_cast<long long>(t.incomplete),
              static_cast<long long>(t.tokens), load.wall, static_cast<double>(t.tokens) / load.wall);
  std::printf("  at the clients: first content p50 %.2f ms, p99 %.2f ms; between reads p50 %.2f ms, p99 %.2f ms,"
              " max %.2f ms; request p50 %.1f ms, p99 %.1f ms\n",
              1e3 * percentile(t.first_token, 50), 1e3 * percentile(t.first_token, 99), 1e3 * percentile(t.gaps, 50),
              1e3 * percentile(t.gaps, 99), 1e3 * percentile(t.gaps, 100), 1e3 * percentile(t.duration, 50),
              1e3 * percentile(t.duration, 99));
}

// The server in this process over the paced backend: the clients' view, the server's CPU time per
// streamed token and the engine thread's time between steps.
int run_in_process(const Options& o) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("serve_bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  write_placeholder_tokenizer(dir, kVocab, kBos, kEos);
  const TextModel text = TextModel::load(dir);
  std::filesystem::remove_all(dir);

  ServeMetrics metrics;
  auto owned = std::make_unique<PacedBackend>(std::chrono::microseconds(o.step_us));
  PacedBackend& backend = *owned;
  RequestHub hub(std::move(owned), text.stop_token_ids(), metrics);
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.model_name = o.model;
  options.max_connections = o.max_connections > 0 ? o.max_connections : o.clients + 8;
  OpenAiServer server(options, text, hub, metrics);
  const int port = server.bind();
  std::thread serving([&server] { server.run(); });
  Load load;
  drive(o, port, load);
  server.shutdown();
  serving.join();

  print_clients(o, load);
  const ClientTotals& t = load.totals;
  const double server_cpu = load.cpu - t.cpu_seconds;
  std::printf("  CPU: server %.2f s, %.2f us per streamed token (%.2f cores busy); clients %.2f s; %u cores\n",
              server_cpu, 1e6 * server_cpu / static_cast<double>(std::max<int64_t>(t.tokens, 1)),
              server_cpu / load.wall, t.cpu_seconds, std::thread::hardware_concurrency());
  const std::vector<double>& gaps = backend.gaps();
  const double steps = static_cast<double>(std::max<size_t>(gaps.size(), 1));
  const double rows = std::max(backend.mean_rows(), 1.0);
  std::printf("  engine thread between steps (%zu steps of %.1f rows on average): wall mean %.1f us, p50 %.1f us, "
              "p99 %.1f us; CPU %.1f us per step, %.2f us per row\n",
              gaps.size(), backend.mean_rows(), 1e6 * std::accumulate(gaps.begin(), gaps.end(), 0.0) / steps,
              1e6 * percentile(gaps, 50), 1e6 * percentile(gaps, 99), 1e6 * backend.gap_cpu_seconds() / steps,
              1e6 * backend.gap_cpu_seconds() / steps / rows);
  return t.incomplete == 0 ? 0 : 1;
}

// A running `slidesparse serve` (the GPU engine): the load and the clients' view only.
int run_against(const Options& o) {
  Load load;
  drive(o, o.port, load);
  print_clients(o, load);
  std::printf("  CPU of the clients: %.2f s (%.2f cores busy); %u cores\n", load.cpu, load.cpu / load.wall,
              std::thread::hardware_concurrency());
  return load.totals.incomplete == 0 && load.totals.requests > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* usage =
      "usage: serve_bench [--clients N] [--max-tokens T] [--seconds S] [--step-us U] [--chat] [--keep-alive] "
      "[--max-connections W] [--port P --model NAME]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--chat")
      o.chat = true;
    else if (a == "--keep-alive")
      o.keep_alive = true;
    else if (a == "--max-connections" && has_value)
      o.max_connections = std::atoi(argv[++i]);
    else if (a == "--clients" && has_value)
      o.clients = std::atoi(argv[++i]);
    else if (a == "--max-tokens" && has_value)
      o.max_tokens = std::atoi(argv[++i]);
    else if (a == "--seconds" && has_value)
      o.seconds = std::atof(argv[++i]);
    else if (a == "--step-us" && has_value)
      o.step_us = std::atoi(argv[++i]);
    else if (a == "--port" && has_value)
      o.port = std::atoi(argv[++i]);
    else if (a == "--model" && has_value)
      o.model = argv[++i];
    else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if (o.clients < 1 || o.max_tokens < 1 || o.seconds <= 0 || o.step_us < 0 || o.max_connections < 0 || o.port < 0 ||
      o.port > 65535) {
    std::fprintf(stderr, "serve_bench: clients, max-tokens and seconds must be positive, step-us not negative, "
                         "port in 1..65535\n");
    return 2;
  }
  try {
    return o.port > 0 ? run_against(o) : run_in_process(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_bench: %s\n", e.what());
    return 1;
  }
}
