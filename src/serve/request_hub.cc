#include "serve/request_hub.h"

#include <pthread.h>

#include <cstdio>

#include "core/error.h"

namespace slidesparse {

namespace {

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

StreamUpdate RequestStream::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return !tokens_.empty() || finished_; });
  StreamUpdate u;
  u.tokens.swap(tokens_);
  u.finished = finished_;
  u.finish_reason = finish_reason_;
  return u;
}

RequestHub::RequestHub(std::unique_ptr<GenerationBackend> backend, std::set<int32_t> stop_token_ids,
                       ServeMetrics& metrics)
    : backend_(std::move(backend)),
      stop_ids_(std::move(stop_token_ids)),
      metrics_(metrics),
      max_model_len_(backend_->max_model_len()),
      vocab_size_(backend_->vocab_size()) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "engine");  // in top -H, perf and gdb
    loop();
  });
}

RequestHub::~RequestHub() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  work_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  for (auto& [id, s] : streams_) finish(*s, "abort");
  streams_.clear();
  for (Submission& s : submissions_) s.queued.set_exception(std::make_exception_ptr(ShuttingDown{}));
  submissions_.clear();
}

std::shared_ptr<RequestStream> RequestHub::submit(std::vector<int32_t> prompt, const SamplingParams& params) {
  std::vector<Request> one;
  one.push_back({std::move(prompt), params});
  return submit_all(std::move(one)).front();
}

std::vector<std::shared_ptr<RequestStream>> RequestHub::submit_all(std::vector<Request> requests) {
  if (!accepting_) throw ShuttingDown{};
  const auto arrival = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<RequestStream>> streams;
  std::vector<std::future<void>> queued;
  {
    std::lock_guard lock(mutex_);
    if (quit_) throw ShuttingDown{};
    for (Request& r : requests) {
      auto stream = std::make_shared<RequestStream>();
      stream->prompt_tokens_ = static_cast<int>(r.prompt.size());
      stream->ignore_eos_ = r.params.ignore_eos;
      stream->arrival_ = arrival;
      submissions_.push_back({std::move(r.prompt), r.params, stream, {}});
      queued.push_back(submissions_.back().queued.get_future());
      streams.push_back(std::move(stream));
    }
  }
  work_.notify_all();
  std::exception_ptr refusal;
  for (auto& q : queued) {
    try {
      q.get();
    } catch (...) {
      if (!refusal) refusal = std::current_exception();
    }
  }
  if (refusal) {
    for (const auto& s : streams)
      if (s->id_ >= 0) cancel(s);
    std::rethrow_exception(refusal);
  }
  for (const auto& s : streams) metrics_.prompt_tokens(s->prompt_tokens_);
  return streams;
}

void RequestHub::add_submissions() {
  std::deque<Submission> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(submissions_);
  }
  for (Submission& s : batch) {
    try {
      const int64_t id = backend_->add(std::move(s.prompt), s.params);
      s.stream->id_ = id;
      {
        std::lock_guard lock(mutex_);
        streams_[id] = s.stream;
      }
      s.queued.set_value();
    } catch (...) {
      s.queued.set_exception(std::current_exception());
    }
  }
}

void RequestHub::cancel(const std::shared_ptr<RequestStream>& stream) {
  stream->cancelled_ = true;
  work_.notify_all();
}

void RequestHub::stop_accepting() { accepting_ = false; }

size_t RequestHub::in_flight() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

void RequestHub::cancel_all() {
  std::lock_guard lock(mutex_);
  for (auto& [id, s] : streams_) s->cancelled_ = true;
  work_.notify_all();
}

void RequestHub::finish(RequestStream& s, const std::string& reason) {
  {
    std::lock_guard lock(s.mutex_);
    if (s.finished_) return;
    s.finished_ = true;
    s.finish_reason_ = reason;
  }
  s.changed_.notify_all();
  metrics_.request_finished(reason, seconds_between(s.arrival_, std::chrono::steady_clock::now()), s.prompt_tokens_,
                            s.generated_);
}

void RequestHub::deliver(const TokenEvent& e) {
  const auto it = streams_.find(e.request);
  if (it == streams_.end()) return;
  RequestStream& s = *it->second;
  const auto now = std::chrono::steady_clock::now();
  if (s.any_token_)
    metrics_.inter_token_latency(seconds_between(s.last_token_, now));
  else
    metrics_.time_to_first_token(seconds_between(s.arrival_, now));
  s.any_token_ = true;
  s.last_token_ = now;
  ++s.generated_;
  metrics_.generated_token();
  const bool stop_token = stop_ids_.count(e.token) && !s.ignore_eos_;
  {
    std::lock_guard lock(s.mutex_);
    s.tokens_.push_back(e.token);
  }
  s.changed_.notify_all();
  if (e.finished || stop_token) {
    if (!e.finished) backend_->abort(e.request);  // ended by a stop token the engine does not know
    finish(s, e.eos || stop_token ? "stop" : "length");
    streams_.erase(it);
  }
}

void RequestHub::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [this] {
        if (quit_ || !submissions_.empty()) return true;
        for (const auto& [id, s] : streams_)
          if (s->cancelled_) return true;
        return !streams_.empty();
      });
      if (quit_) return;
    }
    add_submissions();
    {
      std::lock_guard lock(mutex_);
      for (auto it = streams_.begin(); it != streams_.end();) {
        if (!it->second->cancelled_) {
          ++it;
          continue;
        }
        backend_->abort(it->first);
        finish(*it->second, "abort");
        it = streams_.erase(it);
      }
    }
    std::vector<TokenEvent> events;
    bool failed = false;
    if (!backend_->idle()) {
      try {
        events = backend_->step();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "slidesparse serve: engine step failed: %s\n", e.what());
        failed = true;
      }
    }
    std::lock_guard lock(mutex_);
    if (failed) {
      // A failed step leaves the engine in an unknown state: every request in it ends.
      for (auto& [id, s] : streams_) {
        backend_->abort(id);
        finish(*s, "abort");
      }
      streams_.clear();
    }
    for (const TokenEvent& e : events) deliver(e);
    metrics_.set_load(backend_->load());  // also after aborts alone: /metrics must not show them running
  }
}

}  // namespace slidesparse
