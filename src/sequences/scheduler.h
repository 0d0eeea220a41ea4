// Continuous batching (the nano-vllm / vLLM policy): every step is either a prefill step or a
// decode step, prefill first. A prefill step continues partly prefilled sequences, then admits
// waiting ones in arrival order while the sequence and batched-token limits and the KV cache
// allow; with chunked prefill the last prompt of a step may be cut to fill the token budget. A
// decode step advances every running sequence by one token; when the cache runs out of blocks the
// most recently admitted sequence is preempted by recompute (its blocks freed, it goes back to the
// front of the queue and later re-runs its prompt and generated tokens as a prefill). With prefix
// caching (BlockManager), a sequence being admitted first attaches the cached blocks its prompt
// starts with, and every step registers the blocks it completed (generated tokens included); a waiting sequence whose
// prompt starts with more full blocks of a prompt admitted in the same step than the cache holds
// (the n choices of one request, requests sharing a system prompt that arrive together) waits for
// the next step, when it attaches them, instead of computing them a second time.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "sequences/block_manager.h"
#include "sequences/sequence.h"

namespace slidesparse {

struct SchedulerConfig {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 8192;
  int max_model_len = 4096;  // prompt + generated tokens of one sequence
  bool chunked_prefill = true;
  int eos_token = -1;  // -1: none
};

// The token a sequence holds between complete_ahead() and resolve(): sampled, not yet known.
inline constexpr int32_t kPendingToken = -1;

struct ScheduledChunk {
  Sequence* seq = nullptr;
  int first_token = 0;  // position of the first token run this step (= num_computed_tokens)
  int num_tokens = 0;
  bool samples = false;  // the chunk reaches the sequence's last token: a new token is sampled
};

struct SchedulerStep {
  bool prefill = false;
  std::vector<ScheduledChunk> chunks;
  std::vector<Sequence*> preempted;
  int num_tokens() const;
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, BlockManager& blocks);

  // Queues a request. Throws Error for an empty prompt, a prompt longer than the context, or one
  // that could never fit the cache or (without chunked prefill) the batched-token limit.
  void add(Sequence* seq);
  bool idle() const { return waiting_.empty() && running_.empty(); }
  int num_waiting() const { return static_cast<int>(waiting_.size()); }
  int num_running() const { return static_cast<int>(running_.size()); }

  // The next step (empty when idle). The KV blocks for every scheduled token are held on return.
  SchedulerStep schedule();
  // Records the step's results: sampled[i] is the token sampled for chunk i (ignored for chunks
  // that do not sample, and for chunks whose sequence was dropped from the step: seq == nullptr).
  // Returns the sequences that finished, in chunk order.
  std::vector<Sequence*> complete(const SchedulerStep& step, const std::vector<int32_t>& sampled);

  // Running ahead (the engine schedules step N+1 while step N runs on the GPU), in two halves.
  // complete_ahead records the step as done before its tokens are known: each sampling chunk's
  // sequence gets kPendingToken appended, and the sequences whose length ends them (max_tokens, the
  // context) finish; returns those, in chunk order. resolve then puts the sampled tokens in place
  // of the pending ones (sampled as in complete) and finishes the sequences that sampled the EOS
  // token, wherever they are (running, or waiting after a preemption in between); returns those,
  // in chunk order. The pair leaves every sequence as complete() would.
  std::vector<Sequence*> complete_ahead(const SchedulerStep& step);
  std::vector<Sequence*> resolve(const SchedulerStep& step, const std::vector<int32_t>& sampled);
  // Drops a waiting or running sequence between steps: its blocks are freed and it is marked
  // Finished. False when the scheduler does not hold it (already finished).
  bool abort(Sequence* seq);

 private:
  SchedulerStep schedule_prefill();
  SchedulerStep schedule_decode();
  void preempt(Sequence* seq, SchedulerStep& step);
  // Prefix caching: whether `seq` would attach more blocks after `earlier`'s prompt is computed than
  // the cache gives it now (both admitted in one step, they would compute the same blocks twice).
  bool waits_for(const Sequence& seq, const Sequence& earlier) const;
  bool ended_by_length(const Sequence& seq) const;  // max_tokens generated, or the context full
  bool ended_by_eos(const Sequence& seq) const;     // its last token is the EOS token (unless ignored)
  void finish(Sequence* seq);  // from running or waiting: blocks released, marked Finished
  // complete() with the sampled tokens, complete_ahead() without (null: kPendingToken appended).
  std::vector<Sequence*> record(const SchedulerStep& step, const std::vector<int32_t>* sampled);

  SchedulerConfig config_;
  BlockManager& blocks_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // admission order
};

}  // namespace slidesparse
