#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>

#include "core/error.h"
#include "sequences/block_manager.h"
#include "sequences/scheduler.h"

namespace slidesparse {
namespace {

std::unique_ptr<Sequence> make_seq(int64_t id, int prompt_tokens, int max_tokens) {
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens));
  std::iota(prompt.begin(), prompt.end(), static_cast<int32_t>(id * 1000));
  SamplingParams p;
  p.max_tokens = max_tokens;
  return std::make_unique<Sequence>(id, prompt, p);
}

// A deterministic stand-in for the model: the next token depends only on the sequence's tokens.
int32_t fake_next_token(const Sequence& s) {
  uint32_t h = 2166136261u;
  for (int32_t t : s.tokens) h = (h ^ static_cast<uint32_t>(t)) * 16777619u;
  return static_cast<int32_t>(h % 50000);
}

std::vector<int32_t> sample(const SchedulerStep& step) {
  std::vector<int32_t> out;
  for (const auto& c : step.chunks) out.push_back(c.seq && c.samples ? fake_next_token(*c.seq) : -1);
  return out;
}

TEST(BlockManager, HoldsGrowsAndReleases) {
  BlockManager blocks(8, 16);
  Sequence s(1, {1, 2, 3}, {});
  EXPECT_EQ(BlockManager::blocks_for(33, 16), 3);
  EXPECT_TRUE(blocks.can_hold(s, 128));
  EXPECT_FALSE(blocks.can_hold(s, 129));
  blocks.hold(s, 17);
  EXPECT_EQ(s.block_table, (std::vector<int32_t>{0, 1}));
  blocks.hold(s, 32);  // still two blocks
  EXPECT_EQ(blocks.free_blocks(), 6);
  blocks.hold(s, 33);
  EXPECT_EQ(s.block_table, (std::vector<int32_t>{0, 1, 2}));
  blocks.release(s);
  EXPECT_TRUE(s.block_table.empty());
  EXPECT_EQ(blocks.free_blocks(), 8);
  Sequence t(2, {1}, {});
  blocks.hold(t, 1);
  EXPECT_EQ(t.block_table, (std::vector<int32_t>{0}));  // freed blocks come back first
  try {
    blocks.hold(t, 16 * 9);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "KV cache: sequence 2 needs 9 blocks, 7 are free");
  }
}

TEST(Scheduler, AdmitsInOrderUnderSequenceAndTokenLimits) {
  BlockManager blocks(100, 16);
  SchedulerConfig c;
  c.max_num_seqs = 2;
  c.max_num_batched_tokens = 64;
  c.chunked_prefill = false;
  Scheduler sched(c, blocks);
  auto a = make_seq(1, 30, 4), b = make_seq(2, 30, 4), d = make_seq(3, 10, 4);
  sched.add(a.get());
  sched.add(b.get());
  sched.add(d.get());
  SchedulerStep s = sched.schedule();
  EXPECT_TRUE(s.prefill);
  ASSERT_EQ(s.chunks.size(), 2u);  // max_num_seqs stops the third
  EXPECT_EQ(s.chunks[0].seq, a.get());
  EXPECT_EQ(s.chunks[1].seq, b.get());
  EXPECT_EQ(s.num_tokens(), 60);
  EXPECT_TRUE(s.chunks[0].samples && s.chunks[1].samples);
  EXPECT_EQ(sched.num_waiting(), 1);
  sched.complete(s, sample(s));
  s = sched.schedule();  // no prefill left that can be admitted: decode both
  EXPECT_FALSE(s.prefill);
  ASSERT_EQ(s.chunks.size(), 2u);
  EXPECT_EQ(s.chunks[0].num_tokens, 1);
  EXPECT_EQ(s.chunks[0].first_token, 30);
}

TEST(Scheduler, WholePromptsOnlyWithoutChunking) {
  BlockManager blocks(100, 16);
  SchedulerConfig c;
  c.max_num_batched_tokens = 50;
  c.chunked_prefill = false;
  Scheduler sched(c, blocks);
  auto a = make_seq(1, 30, 4), b = make_seq(2, 30, 4);
  sched.add(a.get());
  sched.add(b.get());
  const SchedulerStep s = sched.schedule();
  ASSERT_EQ(s.chunks.size(), 1u);  // b does not fit the remaining 20 tokens
  EXPECT_EQ(s.chunks[0].num_tokens, 30);
}

TEST(Scheduler, ChunkedPrefillCutsTheLastPromptAndSamplesOnlyAtItsEnd) {
  BlockManager blocks(100, 4);
  SchedulerConfig c;
  c.max_num_batched_tokens = 4;
  Scheduler sched(c, blocks);
  auto a = make_seq(1, 10, 2);
  sched.add(a.get());
  std::vector<std::pair<int, int>> chunks;
  for (int i = 0; i < 3; ++i) {
    const SchedulerStep s = sched.schedule();
    ASSERT_TRUE(s.prefill);
    ASSERT_EQ(s.chunks.size(), 1u);
    chunks.push_back({s.chunks[0].first_token, s.chunks[0].num_tokens});
    EXPECT_EQ(s.chunks[0].samples, i == 2);
    sched.complete(s, sample(s));
  }
  EXPECT_EQ(chunks, (std::vector<std::pair<int, int>>{{0, 4}, {4, 4}, {8, 2}}));
  EXPECT_EQ(a->num_tokens(), 11);
  EXPECT_EQ(a->block_table.size(), 3u);
}

TEST(Scheduler, PreemptsTheNewestByRecomputeWhenBlocksRunOut) {
  BlockManager blocks(4, 4);  // 16 tokens of cache
  SchedulerConfig c;
  Scheduler sched(c, blocks);
  auto a = make_seq(1, 8, 6), b = make_seq(2, 8, 6);
  sched.add(a.get());
  sched.add(b.get());
  SchedulerStep s = sched.schedule();
  ASSERT_EQ(s.chunks.size(), 2u);  // 2 + 2 blocks: the cache is full
  sched.complete(s, sample(s));    // both now hold 9 tokens, 8 computed
  s = sched.schedule();            // a needs a third block: b gives way
  EXPECT_FALSE(s.prefill);
  ASSERT_EQ(s.preempted.size(), 1u);
  EXPECT_EQ(s.preempted[0], b.get());
  ASSERT_EQ(s.chunks.size(), 1u);
  EXPECT_EQ(s.chunks[0].seq, a.get());
  EXPECT_EQ(b->status, SequenceStatus::Waiting);
  EXPECT_EQ(b->num_computed_tokens, 0);
  EXPECT_TRUE(b->block_table.empty());
  EXPECT_EQ(b->num_preemptions, 1);
  EXPECT_EQ(sched.num_waiting(), 1);
}

TEST(Scheduler, FinishesInCompletionOrderAndFreesBlocks) {
  BlockManager blocks(64, 4);
  Scheduler sched({}, blocks);
  auto a = make_seq(1, 5, 3), b = make_seq(2, 5, 1), d = make_seq(3, 5, 2);
  for (auto* s : {a.get(), b.get(), d.get()}) sched.add(s);
  std::vector<int64_t> order;
  while (!sched.idle()) {
    const SchedulerStep s = sched.schedule();
    for (Sequence* f : sched.complete(s, sample(s))) order.push_back(f->id);
  }
  EXPECT_EQ(order, (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(a->num_generated(), 3);
  EXPECT_EQ(blocks.free_blocks(), 64);
}

TEST(Scheduler, EosEndsASequenceUnlessIgnored) {
  for (bool ignore : {false, true}) {
    BlockManager blocks(64, 4);
    auto a = make_seq(1, 3, 10);
    a->params.ignore_eos = ignore;
    SchedulerConfig c;
    c.eos_token = fake_next_token(*a);  // the first token a will sample
    Scheduler sched(c, blocks);
    sched.add(a.get());
    const SchedulerStep s = sched.schedule();
    EXPECT_EQ(sched.complete(s, sample(s)).size(), ignore ? 0u : 1u);
    EXPECT_EQ(a->status, ignore ? SequenceStatus::Running : SequenceStatus::Finished);
  }
}

TEST(Scheduler, RejectsRequestsThatCanNeverRun) {
  BlockManager blocks(4, 4);
  SchedulerConfig c;
  c.max_model_len = 32;
  c.max_num_batched_tokens = 8;
  c.chunked_prefill = false;
  Scheduler sched(c, blocks);
  auto too_long = make_seq(1, 32, 1), too_big = make_seq(2, 8, 20), empty = make_seq(3, 0, 1), wide = make_seq(4, 9, 1);
  auto message = [&](Sequence* s) {
    try {
      sched.add(s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message(too_long.get()), "request 1: prompt of 32 tokens does not fit the context length of 32");
  EXPECT_EQ(message(too_big.get()),
            "request 2 needs 7 KV cache blocks of 4 tokens for 28 tokens, the whole cache has 4");
  EXPECT_EQ(message(empty.get()), "request 3: empty prompt");
  EXPECT_EQ(message(wide.get()),
            "request 4: prompt of 9 tokens exceeds max_num_batched_tokens 8 and chunked prefill is off");
  EXPECT_TRUE(sched.idle());
}

// The same request alone and inside a large mixed batch with a tight cache (chunking and
// preemptions included) produces the same tokens: the scheduler never changes what is computed.
TEST(Scheduler, OutputDoesNotDependOnBatchingOrPreemption) {
  auto run = [](int num_blocks, int budget, int count) {
    BlockManager blocks(num_blocks, 4);
    SchedulerConfig c;
    c.max_num_batched_tokens = budget;
    c.max_num_seqs = 8;
    Scheduler sched(c, blocks);
    std::vector<std::unique_ptr<Sequence>> seqs;
    for (int i = 0; i < count; ++i) {
      seqs.push_back(make_seq(i, 3 + (i * 7) % 13, 5 + i % 9));
      sched.add(seqs.back().get());
    }
    int preemptions = 0;
    while (!sched.idle()) {
      const SchedulerStep s = sched.schedule();
      preemptions += static_cast<int>(s.preempted.size());
      sched.complete(s, sample(s));
    }
    std::map<int64_t, std::vector<int32_t>> out;
    for (const auto& s : seqs) out[s->id] = s->tokens;
    return std::make_pair(out, preemptions);
  };
  const auto [alone, none] = run(64, 64, 1);
  const auto [batched, preempted] = run(14, 9, 20);
  EXPECT_EQ(none, 0);
  EXPECT_GT(preempted, 0);
  EXPECT_EQ(batched.at(0), alone.at(0));
  for (const auto& [id, tokens] : batched) {
    const auto [single, _] = run(64, 64, static_cast<int>(id) + 1);
    EXPECT_EQ(tokens, single.at(id)) << "sequence " << id;
  }
}

// A server drops requests whose client went away: running or waiting, their blocks come back at
// once and the rest of the batch carries on.
TEST(Scheduler, AbortFreesARunningOrWaitingSequence) {
  BlockManager blocks(8, 4);  // 32 tokens of cache
  SchedulerConfig c;
  c.max_num_seqs = 1;
  Scheduler sched(c, blocks);
  auto a = make_seq(1, 10, 5), b = make_seq(2, 6, 5);
  sched.add(a.get());
  sched.add(b.get());
  SchedulerStep step = sched.schedule();  // a runs, b waits (one sequence per step)
  ASSERT_EQ(step.chunks.size(), 1u);
  sched.complete(step, sample(step));
  EXPECT_EQ(blocks.free_blocks(), 8 - 3);
  EXPECT_TRUE(sched.abort(a.get()));
  EXPECT_EQ(a->status, SequenceStatus::Finished);
  EXPECT_EQ(blocks.free_blocks(), 8);
  EXPECT_TRUE(a->block_table.empty());
  EXPECT_FALSE(sched.abort(a.get()));  // already gone
  step = sched.schedule();
  ASSERT_EQ(step.chunks.size(), 1u);
  EXPECT_EQ(step.chunks[0].seq, b.get());
  sched.complete(step, sample(step));
  auto w = make_seq(3, 4, 5);
  sched.add(w.get());
  EXPECT_EQ(sched.num_waiting(), 1);
  EXPECT_TRUE(sched.abort(w.get()));  // never admitted: nothing held
  EXPECT_EQ(sched.num_waiting(), 0);
  EXPECT_TRUE(sched.abort(b.get()));
  EXPECT_TRUE(sched.idle());
  EXPECT_EQ(blocks.free_blocks(), 8);
}

// Runs requests to the end as the engine does: a step's tokens come back before the next step is
// scheduled (ahead = false), or, where every running sequence sampled on the last step and none
// waits, the next step is scheduled first and the tokens resolved after (ahead = true). Returns
// every sequence's tokens and the order in which they were reported finished.
struct RunResult {
  std::map<int64_t, std::vector<int32_t>> tokens;
  std::vector<int64_t> finished;
  int steps_ahead = 0;
};

RunResult run_requests(bool ahead, int eos_token, int num_blocks) {
  BlockManager blocks(num_blocks, 4);
  SchedulerConfig c;
  c.max_num_seqs = 6;
  c.max_num_batched_tokens = 16;
  c.eos_token = eos_token;
  Scheduler sched(c, blocks);
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (int i = 0; i < 10; ++i) {
    seqs.push_back(make_seq(i, 2 + (i * 5) % 7, 3 + (i * 3) % 11));
    sched.add(seqs.back().get());
  }
  RunResult r;
  SchedulerStep step = sched.schedule();
  while (!step.chunks.empty()) {
    const std::vector<int32_t> sampled = sample(step);  // what the GPU computes while the host goes on
    bool every_running_samples = static_cast<int>(step.chunks.size()) == sched.num_running();
    for (const auto& chunk : step.chunks) every_running_samples &= chunk.seq && chunk.samples;
    if (ahead && every_running_samples && sched.num_waiting() == 0) {
      ++r.steps_ahead;
      std::vector<Sequence*> done = sched.complete_ahead(step);
      for (const auto& chunk : step.chunks) EXPECT_EQ(chunk.seq->tokens.back(), kPendingToken);
      SchedulerStep next = sched.schedule();
      for (Sequence* s : sched.resolve(step, sampled)) {
        done.push_back(s);
        for (auto& chunk : next.chunks)  // its row of the next step is dropped
          if (chunk.seq == s) chunk.seq = nullptr;
      }
      for (Sequence* s : done) r.finished.push_back(s->id);
      step = std::move(next);
    } else {
      for (Sequence* s : sched.complete(step, sampled)) r.finished.push_back(s->id);
      step = sched.schedule();
    }
    if (std::all_of(step.chunks.begin(), step.chunks.end(), [](const auto& ch) { return !ch.seq; }) && sched.idle())
      break;
  }
  EXPECT_TRUE(sched.idle());
  EXPECT_EQ(blocks.free_blocks(), num_blocks);
  for (const auto& s : seqs) {
    EXPECT_EQ(s->status, SequenceStatus::Finished);
    r.tokens[s->id] = s->tokens;
  }
  return r;
}

// Scheduling a step before the last one's tokens are known changes nothing a request sees: the
// same tokens, the same sequences ended by EOS and by length, with preemptions on a tight cache.
TEST(Scheduler, RunningAheadGivesTheSameTokensAsCompletingEachStep) {
  const RunResult plain = run_requests(false, -1, 64);
  // An EOS token that some sequences sample mid-generation.
  std::map<int32_t, int> counts;
  for (const auto& [id, tokens] : plain.tokens)
    for (size_t i = 2 + (id * 5) % 7 + 1; i < tokens.size(); ++i) ++counts[tokens[i]];
  int32_t eos = -1;
  for (const auto& [token, n] : counts)
    if (eos < 0 || n > counts[eos]) eos = token;
  for (int num_blocks : {64, 12}) {
    SCOPED_TRACE("blocks " + std::to_string(num_blocks));
    const RunResult sync = run_requests(false, eos, num_blocks);
    const RunResult ahead = run_requests(true, eos, num_blocks);
    EXPECT_GT(ahead.steps_ahead, 5);
    EXPECT_EQ(ahead.tokens, sync.tokens);
    std::vector<int64_t> a = ahead.finished, s = sync.finished;
    std::sort(a.begin(), a.end());
    std::sort(s.begin(), s.end());
    EXPECT_EQ(a, s);
    int ended_by_eos = 0;
    for (const auto& [id, tokens] : sync.tokens) ended_by_eos += tokens.back() == eos;
    EXPECT_GT(ended_by_eos, 0);
  }
}

TEST(Scheduler, ResolveNeedsAStepRecordedAhead) {
  BlockManager blocks(16, 4);
  Scheduler sched({}, blocks);
  auto a = make_seq(1, 3, 5);
  sched.add(a.get());
  const SchedulerStep step = sched.schedule();
  sched.complete(step, sample(step));
  try {
    sched.resolve(step, sample(step));
    FAIL() << "resolve() accepted a step completed with its tokens";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "scheduler: resolve() of a step that complete_ahead() did not record");
  }
}

}  // namespace
}  // namespace slidesparse
