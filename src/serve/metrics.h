// The server's Prometheus metrics (GET /metrics, text exposition format 0.0.4): request and token
// counters, queue depth, KV-cache use and preemptions, and histograms of the time to the first
// token, between tokens and to the end of a request, and of requests' prompt and generated tokens.
// Thread-safe: request threads and the engine loop record, the metrics route renders.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "serve/generation_backend.h"

namespace slidesparse {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // seconds, ascending; +Inf is implied
  void observe(double value);
  // "<name>_bucket{le=...} n" lines (cumulative), then _sum and _count.
  std::string render(const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServeMetrics {
 public:
  ServeMetrics();

  // A request ended ("stop", "length", "abort"): its time from arrival to the end, its prompt and
  // generated tokens.
  void request_finished(const std::string& finish_reason, double e2e_seconds, int prompt_tokens, int generation_tokens);
  void request_failed(int http_status);
  void prompt_tokens(int64_t n);
  void generated_token();
  void time_to_first_token(double seconds);
  void inter_token_latency(double seconds);
  void set_load(const BackendLoad& load);

  std::string render(const std::string& model) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, uint64_t>> finished_;  // by finish reason
  std::vector<std::pair<int, uint64_t>> failed_;            // by HTTP status
  uint64_t prompt_tokens_ = 0, generation_tokens_ = 0;
  BackendLoad load_;
  Histogram ttft_, itl_, e2e_, request_prompt_tokens_, request_generation_tokens_;
};

}  // namespace slidesparse
