#include "sequences/scheduler.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace slidesparse {

int SchedulerStep::num_tokens() const {
  int n = 0;
  for (const auto& c : chunks) n += c.num_tokens;
  return n;
}

Scheduler::Scheduler(const SchedulerConfig& config, BlockManager& blocks) : config_(config), blocks_(blocks) {
  require(config.max_num_seqs > 0 && config.max_num_batched_tokens > 0 && config.max_model_len > 0,
          "scheduler: limits must be positive");
}

void Scheduler::add(Sequence* seq) {
  const int prompt = seq->num_tokens();
  const auto request = [seq] { return "request " + std::to_string(seq->id); };
  require(prompt > 0, [&] { return request() + ": empty prompt"; });
  require(prompt < config_.max_model_len, [&] {
    return request() + ": prompt of " + std::to_string(prompt) + " tokens does not fit the context length of " +
           std::to_string(config_.max_model_len);
  });
  require(config_.chunked_prefill || prompt <= config_.max_num_batched_tokens, [&] {
    return request() + ": prompt of " + std::to_string(prompt) + " tokens exceeds max_num_batched_tokens " +
           std::to_string(config_.max_num_batched_tokens) + " and chunked prefill is off";
  });
  const int full = std::min(config_.max_model_len, prompt + seq->params.max_tokens);
  const int needed = BlockManager::blocks_for(full, blocks_.block_size());
  require(needed <= blocks_.num_blocks(), [&] {
    return request() + " needs " + std::to_string(needed) + " KV cache blocks of " +
           std::to_string(blocks_.block_size()) + " tokens for " + std::to_string(full) +
           " tokens, the whole cache has " + std::to_string(blocks_.num_blocks());
  });
  seq->status = SequenceStatus::Waiting;
  waiting_.push_back(seq);
}

SchedulerStep Scheduler::schedule() {
  SchedulerStep step = schedule_prefill();
  if (!step.chunks.empty()) return step;
  return schedule_decode();
}

SchedulerStep Scheduler::schedule_prefill() {
  SchedulerStep step;
  step.prefill = true;
  int budget = config_.max_num_batched_tokens;
  auto take = [&](Sequence* seq) {
    int n = std::min(seq->num_pending_tokens(), budget);
    if (n < seq->num_pending_tokens() && !config_.chunked_prefill) return false;
    const int upto = seq->num_computed_tokens + n;
    if (!blocks_.can_hold(*seq, upto)) return false;
    blocks_.hold(*seq, upto);
    step.chunks.push_back({seq, seq->num_computed_tokens, n, upto == seq->num_tokens()});
    budget -= n;
    return true;
  };
  // Running sequences still in their prefill (cut by chunking) go first, in admission order.
  for (Sequence* seq : running_)
    if (budget > 0 && seq->num_pending_tokens() > 1 && !take(seq)) break;
  std::vector<const Sequence*> admitted;
  while (budget > 0 && !waiting_.empty() && static_cast<int>(running_.size()) < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    // With prefix caching its prompt's leading blocks may already be in the cache: they are
    // attached, and only the rest is computed. Let go again if it cannot be admitted now, or if a
    // prompt admitted in this step will register more of its start by the next one.
    if (seq->block_table.empty()) blocks_.attach_cached_prefix(*seq);
    const bool wait =
        std::any_of(admitted.begin(), admitted.end(), [&](const Sequence* e) { return waits_for(*seq, *e); });
    if (wait || !take(seq)) {
      blocks_.release(*seq);
      seq->num_computed_tokens = 0;
      break;
    }
    admitted.push_back(seq);
    waiting_.pop_front();
    seq->status = SequenceStatus::Running;
    running_.push_back(seq);
  }
  return step;
}

bool Scheduler::waits_for(const Sequence& seq, const Sequence& earlier) const {
  if (!blocks_.prefix_caching()) return false;
  const int block = blocks_.block_size();
  // Blocks `seq` could attach (never the one of its last token) that `earlier` registers (prompt
  // blocks) and that hold the same tokens.
  const int reach = std::min((seq.num_tokens() - 1) / block, earlier.num_prompt_tokens / block);
  int shared = 0;
  while (shared < reach && std::equal(seq.tokens.begin() + shared * block, seq.tokens.begin() + (shared + 1) * block,
                                      earlier.tokens.begin() + shared * block))
    ++shared;
  return shared > seq.num_cached_blocks;
}

bool Scheduler::abort(Sequence* seq) {
  if (std::find(running_.begin(), running_.end(), seq) == running_.end() &&
      std::find(waiting_.begin(), waiting_.end(), seq) == waiting_.end())
    return false;
  finish(seq);
  return true;
}

void Scheduler::preempt(Sequence* seq, SchedulerStep& step) {
  blocks_.release(*seq);
  seq->num_computed_tokens = 0;
  seq->status = SequenceStatus::Waiting;
  ++seq->num_preemptions;
  running_.erase(std::find(running_.begin(), running_.end(), seq));
  waiting_.push_front(seq);
  step.preempted.push_back(seq);
}

SchedulerStep Scheduler::schedule_decode() {
  SchedulerStep step;
  // Walk in admission order; when the cache is short, the newest running sequence gives way.
  for (size_t i = 0; i < running_.size() && static_cast<int>(step.chunks.size()) < config_.max_num_seqs;) {
    Sequence* seq = running_[i];
    const int upto = seq->num_tokens();
    while (!blocks_.can_hold(*seq, upto) && running_.back() != seq) preempt(running_.back(), step);
    if (!blocks_.can_hold(*seq, upto)) {
      preempt(seq, step);  // nothing newer left to free: this one waits for a later step
      continue;
    }
    blocks_.hold(*seq, upto);
    step.chunks.push_back({seq, seq->num_computed_tokens, seq->num_pending_tokens(), true});
    ++i;
  }
  return step;
}

bool Scheduler::ended_by_length(const Sequence& seq) const {
  return seq.num_generated() >= seq.params.max_tokens || seq.num_tokens() >= config_.max_model_len;
}

bool Scheduler::ended_by_eos(const Sequence& seq) const {
  return !seq.params.ignore_eos && config_.eos_token >= 0 && seq.num_generated() > 0 &&
         seq.tokens.back() == config_.eos_token;
}

void Scheduler::finish(Sequence* seq) {
  seq->status = SequenceStatus::Finished;
  blocks_.release(*seq);
  if (const auto it = std::find(running_.begin(), running_.end(), seq); it != running_.end())
    running_.erase(it);
  else
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), seq));
}

std::vector<Sequence*> Scheduler::record(const SchedulerStep& step, const std::vector<int32_t>* sampled) {
  std::vector<Sequence*> done;
  for (size_t i = 0; i < step.chunks.size(); ++i) {
    const ScheduledChunk& c = step.chunks[i];
    Sequence* seq = c.seq;
    if (!seq) continue;
    seq->num_computed_tokens += c.num_tokens;
    blocks_.register_computed_blocks(*seq);
    if (!c.samples) continue;
    // kPendingToken is never the EOS token: a step recorded ahead ends sequences by length only.
    seq->tokens.push_back(sampled ? (*sampled)[i] : kPendingToken);
    if (!ended_by_length(*seq) && !ended_by_eos(*seq)) continue;
    finish(seq);
    done.push_back(seq);
  }
  return done;
}

std::vector<Sequence*> Scheduler::complete(const SchedulerStep& step, const std::vector<int32_t>& sampled) {
  require(sampled.size() == step.chunks.size(), "scheduler: one sampled token per scheduled chunk expected");
  return record(step, &sampled);
}

std::vector<Sequence*> Scheduler::complete_ahead(const SchedulerStep& step) { return record(step, nullptr); }

std::vector<Sequence*> Scheduler::resolve(const SchedulerStep& step, const std::vector<int32_t>& sampled) {
  require(sampled.size() == step.chunks.size(), "scheduler: one sampled token per scheduled chunk expected");
  std::vector<Sequence*> done;
  for (size_t i = 0; i < step.chunks.size(); ++i) {
    const ScheduledChunk& c = step.chunks[i];
    Sequence* seq = c.seq;
    if (!seq || !c.samples) continue;
    const size_t at = static_cast<size_t>(c.first_token + c.num_tokens);
    require(at + 1 == seq->tokens.size() && seq->tokens[at] == kPendingToken,
            "scheduler: resolve() of a step that complete_ahead() did not record");
    seq->tokens[at] = sampled[i];
    if (seq->status != SequenceStatus::Finished) blocks_.register_computed_blocks(*seq);
    if (seq->status == SequenceStatus::Finished || !ended_by_eos(*seq)) continue;
    finish(seq);
    done.push_back(seq);
  }
  return done;
}

}  // namespace slidesparse
