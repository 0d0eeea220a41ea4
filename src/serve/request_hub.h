// Between the HTTP threads and the model: one engine thread owns the backend. It takes the requests
// submitted since its last step, runs the next step and hands each request's tokens to its
// RequestStream; request threads submit, read their stream and cancel. Only the engine thread calls
// the backend: a request thread that locked it itself would contend with a thread that re-locks it
// after every step, and an unfair mutex lets the engine thread win for seconds while requests queue.
// A cancelled request (a client gone, a stop string reached) leaves the backend within one step,
// its KV-cache blocks freed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "serve/generation_backend.h"
#include "serve/metrics.h"

namespace slidesparse {

struct StreamUpdate {
  std::vector<int32_t> tokens;  // arrived since the last wait
  bool finished = false;
  std::string finish_reason;  // "stop" (end-of-sequence or a stop token) | "length" | "abort"
};

class RequestStream {
 public:
  // Waits up to `timeout` for tokens or the end; returns (and takes) what arrived.
  StreamUpdate wait(std::chrono::milliseconds timeout);
  int prompt_tokens() const { return prompt_tokens_; }

 private:
  friend class RequestHub;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<int32_t> tokens_;
  bool finished_ = false;
  std::string finish_reason_;
  int prompt_tokens_ = 0;
  bool ignore_eos_ = false;  // stop tokens do not end it either
  int64_t id_ = -1;
  std::atomic<bool> cancelled_{false};
  std::chrono::steady_clock::time_point arrival_, last_token_;
  bool any_token_ = false;
  int generated_ = 0;  // tokens delivered (the engine thread's count; tokens_ is drained by wait())
};

class RequestHub {
 public:
  // stop_token_ids: tokens that end a reply besides the model's own end-of-sequence token (a chat
  // model's end-of-turn), unless the request ignores end-of-sequence.
  RequestHub(std::unique_ptr<GenerationBackend> backend, std::set<int32_t> stop_token_ids, ServeMetrics& metrics);
  ~RequestHub();  // ends every request ("abort") and stops the engine thread

  int max_model_len() const { return max_model_len_; }
  int64_t vocab_size() const { return vocab_size_; }

  // Returns once the engine thread has queued the request (at most one step later). Throws Error
  // for a prompt the backend refuses; ShuttingDown once stop_accepting() was called.
  struct ShuttingDown {};
  std::shared_ptr<RequestStream> submit(std::vector<int32_t> prompt, const SamplingParams& params);
  // Several requests queued together, so that the engine thread adds them all before the same step
  // (the n choices of one HTTP request; one by one, each would wait for a step of its own). All are
  // added, or none stays: on a refusal those already added are cancelled and the refusal is thrown.
  struct Request {
    std::vector<int32_t> prompt;
    SamplingParams params;
  };
  std::vector<std::shared_ptr<RequestStream>> submit_all(std::vector<Request> requests);
  // Ends a request early (finish reason "abort" unless it already ended); safe to call twice.
  void cancel(const std::shared_ptr<RequestStream>& stream);

  void stop_accepting();
  bool accepting() const { return accepting_; }
  size_t in_flight() const;
  void cancel_all();

 private:
  struct Submission {
    std::vector<int32_t> prompt;
    SamplingParams params;
    std::shared_ptr<RequestStream> stream;
    std::promise<void> queued;  // set once the backend holds the request, or to its refusal
  };

  void loop();
  void add_submissions();  // engine thread
  void deliver(const TokenEvent& e);
  void finish(RequestStream& s, const std::string& reason);  // hub mutex held

  std::unique_ptr<GenerationBackend> backend_;
  std::set<int32_t> stop_ids_;
  ServeMetrics& metrics_;
  int max_model_len_;
  int64_t vocab_size_;
  mutable std::mutex mutex_;  // streams_, submissions_, quit_, work
  std::condition_variable work_;
  std::map<int64_t, std::shared_ptr<RequestStream>> streams_;
  std::deque<Submission> submissions_;
  std::atomic<bool> accepting_{true};
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace slidesparse
