// Host cost of serving, on the CPU alone: the real OpenAI server (HTTP worker threads, the request
// hub's engine thread, detokenization, stop-string checks, stream chunks) over a backend that
// computes nothing, driven by the load generator of `slidesparse bench serve` (serve/load_client.h)
// over loopback sockets. What it measures is the server's own CPU time per streamed token (the
// process's CPU time less the load's own threads') and the engine thread's time between two backend
// steps (token delivery, queued requests, cancellations, metrics), which with the GPU engine's
// steps launched ahead must stay below the GPU's step time or the GPU waits for the host.
//
// The backend emulates the GPU engine launching each decode step behind the previous one: a step
// ends --step-us after the previous one returned (or at once, if the host took longer than that),
// and advances every request by one token (ids that decode to "<tN>", never end-of-sequence) until
// its max_tokens. With --step-us 0 the server runs as fast as it can.
//
// Usage: serve_bench [--clients N] [--max-tokens T] [--seconds S] [--step-us U] [--keep-alive]
//                    [--max-connections W]
//   (defaults 64, 128, 10, 0; N clients each send streaming requests of 24 prompt tokens back to
//   back, one connection per request as Python's urllib does, or one kept-alive connection each as
//   HTTP client libraries with a connection pool do; W: the server's HTTP workers, default N + 8)
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "serve/load_client.h"
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

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5))];
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

struct Options {
  int clients = 64, max_tokens = 128, step_us = 0, max_connections = 0;
  double seconds = 10;
  bool keep_alive = false;
};

int run(const Options& o) {
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
  options.model_name = "bench";
  options.max_connections = o.max_connections > 0 ? o.max_connections : o.clients + 8;
  OpenAiServer server(options, text, hub, metrics);
  LoadOptions load;
  load.port = server.bind();
  std::thread serving([&server] { server.run(); });
  load.clients = o.clients;
  load.seconds = o.seconds;
  load.input_len = 24;
  load.output_len = o.max_tokens;
  load.keep_alive = o.keep_alive;
  const double cpu_before = process_cpu_seconds();
  const auto start = Clock::now();
  const LoadReport report = run_load(load);
  const double wall = seconds(Clock::now() - start), cpu = process_cpu_seconds() - cpu_before;
  server.shutdown();
  serving.join();

  std::printf("%d clients%s, max_tokens %d, %d HTTP workers, step %d us%s\n", o.clients,
              o.keep_alive ? " (keep-alive)" : "", o.max_tokens, options.max_connections, o.step_us,
              o.step_us > 0 ? " (a GPU step launched ahead, emulated)" : " (no step time)");
  std::fputs(report.render().c_str(), stdout);
  const double server_cpu = cpu - report.client_cpu_seconds;
  std::printf("  server CPU: %.2f s, %.2f us per streamed token (%.2f cores busy); clients %.2f s; %u cores\n",
              server_cpu, 1e6 * server_cpu / static_cast<double>(std::max<int64_t>(report.output_tokens, 1)),
              server_cpu / wall, report.client_cpu_seconds, std::thread::hardware_concurrency());
  const std::vector<double>& gaps = backend.gaps();
  const double steps = static_cast<double>(std::max<size_t>(gaps.size(), 1));
  const double rows = std::max(backend.mean_rows(), 1.0);
  std::printf("  engine thread between steps (%zu steps of %.1f rows on average): wall mean %.1f us, p50 %.1f us, "
              "p99 %.1f us; CPU %.1f us per step, %.2f us per row\n",
              gaps.size(), backend.mean_rows(), 1e6 * std::accumulate(gaps.begin(), gaps.end(), 0.0) / steps,
              1e6 * percentile(gaps, 50), 1e6 * percentile(gaps, 99), 1e6 * backend.gap_cpu_seconds() / steps,
              1e6 * backend.gap_cpu_seconds() / steps / rows);
  return report.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* usage =
      "usage: serve_bench [--clients N] [--max-tokens T] [--seconds S] [--step-us U] [--keep-alive] "
      "[--max-connections W]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--keep-alive")
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
    else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if (o.clients < 1 || o.max_tokens < 1 || o.seconds <= 0 || o.step_us < 0 || o.max_connections < 0) {
    std::fprintf(stderr, "serve_bench: clients, max-tokens and seconds must be positive, step-us and "
                         "max-connections not negative\n");
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_bench: %s\n", e.what());
    return 1;
  }
}
