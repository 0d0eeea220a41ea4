// What the server drives: a model that takes requests, runs steps (each advancing every running
// request by at most one token) and drops requests on demand. The GPU engine (LlmEngine, with its
// continuous batching and paged KV cache) and the CPU reference model both stand behind it. Not
// thread-safe: RequestHub calls it from one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sequences/sequence.h"

namespace slidesparse {

struct TokenEvent {
  int64_t request = 0;
  int32_t token = 0;
  bool finished = false;  // the request ended with this token
  bool eos = false;       // ...because it is the model's end-of-sequence token (else: max_tokens or the context)
};

struct BackendLoad {
  int running = 0, waiting = 0;
  double kv_cache_used = 0;          // share of the KV cache in use, 0..1
  int64_t prefix_cached_tokens = 0;  // prompt tokens taken from the prefix cache so far
  int64_t preemptions = 0;           // running requests sent back to wait (KV cache full) so far
};

class GenerationBackend {
 public:
  virtual ~GenerationBackend() = default;

  virtual int64_t vocab_size() const = 0;
  virtual int max_model_len() const = 0;  // prompt + generated tokens of one request

  // Queues a request; returns its id. Throws Error for a prompt the model cannot take.
  virtual int64_t add(std::vector<int32_t> prompt, const SamplingParams& params) = 0;
  // Drops a request now, waiting or running, and frees what it holds. Unknown ids are ignored.
  virtual void abort(int64_t request) = 0;
  virtual bool idle() const = 0;
  // One step: the tokens it produced, in request order.
  virtual std::vector<TokenEvent> step() = 0;
  virtual BackendLoad load() const = 0;
};

}  // namespace slidesparse
