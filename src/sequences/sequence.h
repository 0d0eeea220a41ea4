// A request inside the engine: its tokens (prompt, then generated), how many of them already have
// their keys and values in the KV cache, and the cache blocks that hold them.
#pragma once

#include <cstdint>
#include <vector>

namespace slidesparse {

struct SamplingParams {
  float temperature = 0.0f;  // 0: greedy
  int top_k = 0;             // 0: off
  float top_p = 1.0f;
  int max_tokens = 16;       // generated tokens
  bool ignore_eos = false;
  uint64_t seed = 0;
};

enum class SequenceStatus { Waiting, Running, Finished };

struct Sequence {
  Sequence(int64_t id, std::vector<int32_t> prompt, SamplingParams params)
      : id(id), tokens(std::move(prompt)), num_prompt_tokens(static_cast<int>(tokens.size())), params(params) {}

  int64_t id;
  std::vector<int32_t> tokens;  // prompt followed by generated tokens
  int num_prompt_tokens;
  SamplingParams params;
  SequenceStatus status = SequenceStatus::Waiting;
  int num_computed_tokens = 0;   // tokens whose keys/values are in the cache
  std::vector<int32_t> block_table;  // KV cache blocks, in token order
  int num_preemptions = 0;
  // Prefix caching (BlockManager): the leading blocks of block_table that are registered in the
  // cache (attached, or registered by this sequence), and whether registering further stopped.
  int num_cached_blocks = 0;
  bool cache_registration_stopped = false;

  int num_tokens() const { return static_cast<int>(tokens.size()); }
  int num_generated() const { return num_tokens() - num_prompt_tokens; }
  // Tokens still to run through the model before the next token can be sampled.
  int num_pending_tokens() const { return num_tokens() - num_computed_tokens; }
};

}  // namespace slidesparse
