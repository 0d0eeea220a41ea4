// A load generator for OpenAI-compatible servers (`slidesparse bench serve`, tools/serve_bench):
// streaming /v1/completions requests with prompts of random token ids (or given texts, also as
// chat) and a fixed number of generated tokens (ignore_eos), sent by a number of concurrent clients
// back to back or arriving as a Poisson process, each timed at the client: time to first token,
// time per output token, the gaps between streamed chunks and the whole request. Plain HTTP/1.1
// over TCP, no TLS.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slidesparse {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string model;    // the "model" field; empty: left out (a single-model server takes any)
  std::string api_key;  // non-empty: "Authorization: Bearer <api_key>"
  // Either `clients` concurrent clients each sending its next request when the last one ended, or
  // requests arriving at `request_rate` per second (exponential gaps) with at most `max_concurrency`
  // in flight (0: no limit).
  int clients = 0;
  double request_rate = 0;
  int max_concurrency = 0;
  // How many requests (0: as many as `seconds` allow), or how long to keep sending (0: until
  // num_requests); requests in flight at the end run to completion.
  int num_requests = 0;
  double seconds = 0;
  int input_len = 32;    // prompt tokens
  int output_len = 128;  // generated tokens (max_tokens with ignore_eos)
  int32_t token_lo = 1000, token_hi = 10000;  // prompt ids drawn uniformly from [token_lo, token_hi)
  // Text prompts instead of random ids (taken in turn; input_len and the token range then unused),
  // sent to /v1/completions, or with `chat` each as a user message to /v1/chat/completions.
  std::vector<std::string> prompts;
  bool chat = false;
  bool keep_alive = false;  // each client reuses one connection (else one connection per request)
  // Service-level objectives in milliseconds (0: none): a completed request meets them when its
  // time to first token and its time per output token are within them (goodput, as vLLM's).
  double slo_ttft_ms = 0, slo_tpot_ms = 0;
  uint64_t seed = 0;
};

// Throws Error for an inconsistent set (neither or both of clients and request_rate, neither
// num_requests nor seconds, lengths below 1, an empty token range, a bad port), before anything is
// sent.
void check_load_options(const LoadOptions& o);

struct RequestTiming {
  bool ok = false;
  std::string error;      // the failure: an HTTP status with the server's message, a socket error, a broken stream
  int input_tokens = 0, output_tokens = 0;  // prompt_tokens and completion_tokens of the stream's usage
  double start = 0;       // seconds since the load began
  double ttft = 0, e2e = 0;  // to the first chunk with text (the whole request if none had text), to the end
  std::vector<double> itl;  // gaps between consecutive chunks with text, seconds
};

struct Percentiles {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;  // milliseconds
};

struct LoadReport {
  int completed = 0, failed = 0;
  double duration = 0;  // seconds from the first request sent to the last one ended
  int64_t input_tokens = 0, output_tokens = 0;
  double request_throughput = 0, output_throughput = 0, total_token_throughput = 0;  // per second
  bool slo_set = false;  // objectives were given
  int within_slo = 0;    // completed requests that met them (all completed ones with none)
  double goodput = 0;    // those per second
  Percentiles ttft, tpot, itl, e2e;
  std::vector<std::string> errors;  // the distinct failure messages, at most 8
  double client_cpu_seconds = 0;    // CPU time of the load's own threads

  std::string render() const;  // a table, one metric a line
  nlohmann::json to_json() const;
};

// Runs the load and summarizes it; `timings`, when given, receives every request's record.
LoadReport run_load(const LoadOptions& options, std::vector<RequestTiming>* timings = nullptr);

}  // namespace slidesparse
