#include "serve/metrics.h"

#include <algorithm>
#include <cstdio>

namespace slidesparse {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

template <typename K>
void bump(std::vector<std::pair<K, uint64_t>>& counters, const K& key) {
  for (auto& [k, n] : counters)
    if (k == key) return void(++n);
  counters.emplace_back(key, 1);
}

// 1, 2, 5, 10, 20, 50, ... 5,000,000 tokens (the 1-2-5 bounds vLLM uses for token counts).
std::vector<double> token_count_bounds() {
  std::vector<double> bounds;
  for (double decade = 1; decade <= 1e6; decade *= 10)
    for (double step : {1.0, 2.0, 5.0}) bounds.push_back(decade * step);
  return bounds;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::render(const std::string& name, const std::string& help) const {
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
  return out;
}

ServeMetrics::ServeMetrics()
    : ttft_({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0}),
      e2e_({0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
            480.0, 960.0}),
      request_prompt_tokens_(token_count_bounds()),
      request_generation_tokens_(token_count_bounds()) {}

void ServeMetrics::request_finished(const std::string& finish_reason, double e2e_seconds, int prompt_tokens,
                                    int generation_tokens) {
  std::lock_guard lock(mutex_);
  bump(finished_, finish_reason);
  e2e_.observe(e2e_seconds);
  request_prompt_tokens_.observe(prompt_tokens);
  request_generation_tokens_.observe(generation_tokens);
}

void ServeMetrics::request_failed(int http_status) {
  std::lock_guard lock(mutex_);
  bump(failed_, http_status);
}

void ServeMetrics::prompt_tokens(int64_t n) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += static_cast<uint64_t>(n);
}

void ServeMetrics::generated_token() {
  std::lock_guard lock(mutex_);
  ++generation_tokens_;
}

void ServeMetrics::time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  ttft_.observe(seconds);
}

void ServeMetrics::inter_token_latency(double seconds) {
  std::lock_guard lock(mutex_);
  itl_.observe(seconds);
}

void ServeMetrics::set_load(const BackendLoad& load) {
  std::lock_guard lock(mutex_);
  load_ = load;
}

std::string ServeMetrics::render(const std::string& model) const {
  std::lock_guard lock(mutex_);
  const std::string m = "model_name=\"" + model + "\"";
  std::string out;
  out += "# HELP slidesparse_requests_total Requests that ended, by finish reason (abort: cancelled or disconnected).\n";
  out += "# TYPE slidesparse_requests_total counter\n";
  for (const auto& [reason, n] : finished_)
    out += "slidesparse_requests_total{" + m + ",finish_reason=\"" + reason + "\"} " + std::to_string(n) + "\n";
  out += "# HELP slidesparse_request_errors_total Requests refused with an error, by HTTP status.\n";
  out += "# TYPE slidesparse_request_errors_total counter\n";
  for (const auto& [status, n] : failed_)
    out += "slidesparse_request_errors_total{" + m + ",status=\"" + std::to_string(status) + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP slidesparse_prompt_tokens_total Prompt tokens of accepted requests.\n";
  out += "# TYPE slidesparse_prompt_tokens_total counter\n";
  out += "slidesparse_prompt_tokens_total{" + m + "} " + std::to_string(prompt_tokens_) + "\n";
  out += "# HELP slidesparse_generation_tokens_total Generated tokens.\n";
  out += "# TYPE slidesparse_generation_tokens_total counter\n";
  out += "slidesparse_generation_tokens_total{" + m + "} " + std::to_string(generation_tokens_) + "\n";
  out += "# HELP slidesparse_num_requests_running Requests in the engine's running batch.\n";
  out += "# TYPE slidesparse_num_requests_running gauge\n";
  out += "slidesparse_num_requests_running{" + m + "} " + std::to_string(load_.running) + "\n";
  out += "# HELP slidesparse_num_requests_waiting Requests queued for admission.\n";
  out += "# TYPE slidesparse_num_requests_waiting gauge\n";
  out += "slidesparse_num_requests_waiting{" + m + "} " + std::to_string(load_.waiting) + "\n";
  out += "# HELP slidesparse_kv_cache_usage_ratio Share of the KV cache in use (0..1).\n";
  out += "# TYPE slidesparse_kv_cache_usage_ratio gauge\n";
  out += "slidesparse_kv_cache_usage_ratio{" + m + "} " + number(load_.kv_cache_used) + "\n";
  out += "# HELP slidesparse_prefix_cache_hit_tokens_total Prompt tokens taken from the prefix cache, not computed.\n";
  out += "# TYPE slidesparse_prefix_cache_hit_tokens_total counter\n";
  out += "slidesparse_prefix_cache_hit_tokens_total{" + m + "} " + std::to_string(load_.prefix_cached_tokens) + "\n";
  out += "# HELP slidesparse_num_preemptions_total Running requests sent back to wait for KV-cache room.\n";
  out += "# TYPE slidesparse_num_preemptions_total counter\n";
  out += "slidesparse_num_preemptions_total{" + m + "} " + std::to_string(load_.preemptions) + "\n";
  out += ttft_.render("slidesparse_time_to_first_token_seconds", "Time from a request's arrival to its first token.");
  out += itl_.render("slidesparse_inter_token_latency_seconds", "Time between consecutive tokens of a request.");
  out += e2e_.render("slidesparse_e2e_request_latency_seconds", "Time from a request's arrival to its end.");
  out += request_prompt_tokens_.render("slidesparse_request_prompt_tokens", "Prompt tokens of each request that ended.");
  out += request_generation_tokens_.render("slidesparse_request_generation_tokens",
                                           "Generated tokens of each request that ended.");
  return out;
}

}  // namespace slidesparse
