// Prefix caching in the block manager and the scheduler, against a simulated KV cache: every
// computed position writes a value that stands for its whole prefix into its slot, and every
// sampling chunk reads back every position of its sequence through the block table. Wrong blocks
// attached, a shared block overwritten or a cached block reused while still held all show up as a
// read that does not match.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>

#include "sequences/block_manager.h"
#include "sequences/scheduler.h"

namespace slidesparse {
namespace {

std::vector<int32_t> ids(std::initializer_list<int32_t> list) { return list; }

Sequence prompt_of(int64_t id, std::vector<int32_t> tokens) {
  return Sequence(id, std::move(tokens), SamplingParams{});
}

TEST(PrefixCache, FullPromptBlocksAreRegisteredAndAttached) {
  BlockManager blocks(8, 4, /*prefix_caching=*/true);
  Sequence a = prompt_of(1, ids({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(blocks.attach_cached_prefix(a), 0);  // nothing cached yet
  blocks.hold(a, 10);
  a.num_computed_tokens = 10;
  blocks.register_computed_blocks(a);
  EXPECT_EQ(a.num_cached_blocks, 2);  // [1..4], [5..8]; the third block is not full

  // The same first eight tokens: both blocks; seven: one (the second block holds the last token).
  Sequence b = prompt_of(2, ids({1, 2, 3, 4, 5, 6, 7, 8, 42}));
  EXPECT_EQ(blocks.attach_cached_prefix(b), 8);
  EXPECT_EQ(b.block_table, (std::vector<int32_t>{a.block_table[0], a.block_table[1]}));
  EXPECT_EQ(b.num_computed_tokens, 8);
  Sequence c = prompt_of(3, ids({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(blocks.attach_cached_prefix(c), 4);
  Sequence d = prompt_of(4, ids({1, 2, 3, 9, 5, 6, 7, 8, 1}));  // differs in the first block
  EXPECT_EQ(blocks.attach_cached_prefix(d), 0);
  Sequence e = prompt_of(5, ids({5, 6, 7, 8, 1, 2, 3, 4, 0}));  // same blocks in another order
  EXPECT_EQ(blocks.attach_cached_prefix(e), 0);
  EXPECT_EQ(blocks.cached_tokens_attached(), 12);

  // Held blocks are not free; released registered blocks are free but stay cached.
  EXPECT_EQ(blocks.free_blocks(), 8 - 3);
  blocks.release(a);
  blocks.release(b);
  blocks.release(c);
  EXPECT_EQ(blocks.free_blocks(), 8);
  Sequence f = prompt_of(6, ids({1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(blocks.attach_cached_prefix(f), 8);
  EXPECT_EQ(blocks.free_blocks(), 6);
}

TEST(PrefixCache, TheLeastRecentlyReleasedIsReusedFirstASequencesLastBlockBeforeItsFirst) {
  BlockManager blocks(4, 2, /*prefix_caching=*/true);
  Sequence a = prompt_of(1, ids({1, 2, 3, 4, 5}));
  blocks.hold(a, 5);  // blocks 0, 1, 2
  a.num_computed_tokens = 5;
  blocks.register_computed_blocks(a);
  ASSERT_EQ(a.num_cached_blocks, 2);
  blocks.release(a);  // block 2 (not registered) to the free list; 1 then 0 to the cache, in that order
  Sequence big = prompt_of(2, ids({9, 9, 9, 9, 9}));
  blocks.hold(big, 4);  // the free blocks first (2, the last freed, then 3), no cached one
  EXPECT_EQ(big.block_table, (std::vector<int32_t>{2, 3}));
  Sequence again = prompt_of(3, ids({1, 2, 3, 4, 0}));
  blocks.hold(big, 6);  // evicts block 1, the child, released first
  EXPECT_EQ(big.block_table.back(), 1);
  EXPECT_EQ(blocks.attach_cached_prefix(again), 2);  // the parent is still cached
  blocks.release(again);
  blocks.hold(big, 8);  // evicts block 0: nothing of the prompt is cached any more
  EXPECT_EQ(blocks.attach_cached_prefix(again), 0);
  EXPECT_EQ(blocks.free_blocks(), 0);
}

TEST(PrefixCache, ContentComputedTwiceStaysTheFirstCopy) {
  BlockManager blocks(8, 2, /*prefix_caching=*/true);
  Sequence a = prompt_of(1, ids({1, 2, 3, 4, 5})), b = prompt_of(2, ids({1, 2, 3, 4, 6}));
  blocks.hold(a, 5);
  blocks.hold(b, 5);  // both admitted before either computed: nothing to attach
  a.num_computed_tokens = b.num_computed_tokens = 5;
  blocks.register_computed_blocks(a);
  blocks.register_computed_blocks(b);
  EXPECT_EQ(a.num_cached_blocks, 2);
  EXPECT_EQ(b.num_cached_blocks, 0);
  EXPECT_TRUE(b.cache_registration_stopped);
  Sequence c = prompt_of(3, ids({1, 2, 3, 4, 7}));
  EXPECT_EQ(blocks.attach_cached_prefix(c), 4);
  EXPECT_EQ(c.block_table, (std::vector<int32_t>{a.block_table[0], a.block_table[1]}));
}

TEST(PrefixCache, OffByDefault) {
  BlockManager blocks(8, 2);
  Sequence a = prompt_of(1, ids({1, 2, 3, 4, 5}));
  blocks.hold(a, 5);
  a.num_computed_tokens = 5;
  blocks.register_computed_blocks(a);
  EXPECT_EQ(a.num_cached_blocks, 0);
  blocks.release(a);
  Sequence b = prompt_of(2, ids({1, 2, 3, 4, 5}));
  EXPECT_EQ(blocks.attach_cached_prefix(b), 0);
  EXPECT_TRUE(b.block_table.empty());
}

// Requests that arrive together with the same prompt (the n choices of one request): with prefix
// caching the first is computed alone and the others attach its blocks a step later, computing only
// the block of their last token; without it they are all computed at once.
TEST(PrefixCache, PromptsAdmittedTogetherWaitAStepForTheFirstOnesBlocks) {
  for (const bool caching : {false, true}) {
    BlockManager blocks(64, 4, caching);
    SchedulerConfig config;
    config.max_num_batched_tokens = 256;
    Scheduler scheduler(config, blocks);
    std::vector<int32_t> prompt(40);
    for (int i = 0; i < 40; ++i) prompt[static_cast<size_t>(i)] = 7 * i % 31;
    std::vector<std::unique_ptr<Sequence>> seqs;
    for (int i = 0; i < 4; ++i) {
      seqs.push_back(std::make_unique<Sequence>(i, prompt, SamplingParams{}));
      scheduler.add(seqs.back().get());
    }
    seqs.push_back(std::make_unique<Sequence>(4, std::vector<int32_t>{9, 9, 9, 9, 9, 9}, SamplingParams{}));
    scheduler.add(seqs.back().get());  // behind them in the queue: waits with them (arrival order)
    SchedulerStep step = scheduler.schedule();
    ASSERT_EQ(step.chunks.size(), caching ? 1u : 5u) << caching;
    EXPECT_EQ(step.chunks[0].num_tokens, 40);
    scheduler.complete(step, std::vector<int32_t>(step.chunks.size(), 1));
    if (!caching) continue;
    step = scheduler.schedule();
    ASSERT_TRUE(step.prefill);
    ASSERT_EQ(step.chunks.size(), 4u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(step.chunks[static_cast<size_t>(i)].first_token, 36) << i;  // nine blocks attached
      EXPECT_EQ(step.chunks[static_cast<size_t>(i)].num_tokens, 4) << i;
    }
    EXPECT_EQ(step.chunks[3].num_tokens, 6);
    EXPECT_EQ(blocks.cached_tokens_attached(), 3 * 36);
  }
}

// A conversation's next turn repeats the previous prompt and reply: the reply's full blocks were
// registered as they were computed, and the next prompt attaches them too.
TEST(PrefixCache, GeneratedTokensBlocksServeTheNextTurn) {
  BlockManager blocks(32, 4, /*prefix_caching=*/true);
  Scheduler scheduler(SchedulerConfig{}, blocks);
  SamplingParams params;
  params.max_tokens = 8;
  Sequence first(0, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, params);
  scheduler.add(&first);
  for (int32_t next = 100; !scheduler.idle(); ++next) {
    const SchedulerStep step = scheduler.schedule();
    scheduler.complete(step, std::vector<int32_t>(step.chunks.size(), next));
  }
  ASSERT_EQ(first.num_tokens(), 18);  // its last token was sampled, never computed: 17 computed
  std::vector<int32_t> turn = first.tokens;
  turn.insert(turn.end(), {7, 7, 7});
  Sequence second(1, turn, params);
  EXPECT_EQ(blocks.attach_cached_prefix(second), 16);  // four blocks: the prompt's two, the reply's two
}

// With a step run ahead, a block holding a token not yet known is registered once it resolves.
TEST(PrefixCache, ABlockWithAPendingTokenWaitsForIt) {
  BlockManager blocks(32, 2, /*prefix_caching=*/true);
  Sequence s(0, {1, 2, 3, kPendingToken}, SamplingParams{});
  blocks.hold(s, 4);
  s.num_computed_tokens = 4;
  blocks.register_computed_blocks(s);
  EXPECT_EQ(s.num_cached_blocks, 1);
  EXPECT_FALSE(s.cache_registration_stopped);
  s.tokens[3] = 4;
  blocks.register_computed_blocks(s);
  EXPECT_EQ(s.num_cached_blocks, 2);
}

// The simulated model: position p of a sequence holds a value standing for its tokens [0, p].
uint64_t prefix_value(const Sequence& s, int p) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i <= p; ++i) h = (h ^ static_cast<uint32_t>(s.tokens[static_cast<size_t>(i)])) * 1099511628211ull;
  return h;
}

int32_t next_token(const Sequence& s) { return static_cast<int32_t>(prefix_value(s, s.num_tokens() - 1) % 97); }

struct RunResult {
  std::map<int64_t, std::vector<int32_t>> tokens;
  int64_t attached = 0;
  int preemptions = 0;
  int steps_ahead = 0;
};

// Requests sharing a few system prompts, through the scheduler with a small cache and token budget
// (chunking, preemption, eviction); every read of the simulated KV cache checked.
// Requests sharing a few system prompts, through the scheduler with a small cache and token budget
// (chunking, preemption, eviction), optionally running ahead as the engine does (a step scheduled
// before the previous one's tokens are known, where every running sequence samples and none waits);
// every read of the simulated KV cache checked.
RunResult run_shared_prompts(bool prefix_caching, int num_blocks, int budget, uint32_t seed, bool ahead = false) {
  constexpr int kBlock = 4;
  BlockManager blocks(num_blocks, kBlock, prefix_caching);
  SchedulerConfig config;
  config.max_num_batched_tokens = budget;
  config.max_num_seqs = 6;
  config.max_model_len = 128;
  Scheduler scheduler(config, blocks);
  std::vector<uint64_t> kv(static_cast<size_t>(num_blocks * kBlock), 0);
  std::mt19937 rng(seed);
  const std::vector<std::vector<int32_t>> systems = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13},
                                                     {20, 21, 22, 23, 24, 25, 26, 27},
                                                     {30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45}};
  std::vector<std::unique_ptr<Sequence>> seqs;
  RunResult result;
  const auto add = [&](int64_t id) {
    std::vector<int32_t> prompt = systems[rng() % systems.size()];
    for (int i = 0, n = static_cast<int>(rng() % 7); i < n; ++i)
      prompt.push_back(static_cast<int32_t>(50 + rng() % 40));
    SamplingParams params;
    params.max_tokens = 3 + static_cast<int>(rng() % 6);
    seqs.push_back(std::make_unique<Sequence>(id, std::move(prompt), params));
    scheduler.add(seqs.back().get());
  };
  // The simulated GPU: a chunk's context was written by earlier steps (attached blocks included),
  // then the step writes its tokens, then every sampling chunk reads its whole sequence.
  const auto run_step = [&](const SchedulerStep& step) {
    result.preemptions += static_cast<int>(step.preempted.size());
    std::vector<int32_t> sampled(step.chunks.size(), -1);
    const auto slot = [&](const Sequence& s, int p) {
      return static_cast<size_t>(s.block_table[static_cast<size_t>(p / kBlock)]) * kBlock + p % kBlock;
    };
    for (const ScheduledChunk& c : step.chunks)
      for (int p = 0; p < c.first_token; ++p)
        EXPECT_EQ(kv[slot(*c.seq, p)], prefix_value(*c.seq, p)) << "context of " << c.seq->id << " at " << p;
    for (const ScheduledChunk& c : step.chunks)
      for (int p = c.first_token; p < c.first_token + c.num_tokens; ++p) kv[slot(*c.seq, p)] = prefix_value(*c.seq, p);
    for (size_t i = 0; i < step.chunks.size(); ++i) {
      const ScheduledChunk& c = step.chunks[i];
      if (!c.samples) continue;
      for (int p = 0; p < c.first_token + c.num_tokens; ++p)
        EXPECT_EQ(kv[slot(*c.seq, p)], prefix_value(*c.seq, p)) << "sequence " << c.seq->id << " position " << p;
      sampled[i] = next_token(*c.seq);
    }
    return sampled;
  };
  int64_t next_id = 0;
  for (; next_id < 8; ++next_id) add(next_id);
  SchedulerStep step;
  for (int step_index = 0; next_id < 30 || !scheduler.idle(); ++step_index) {
    if (step.chunks.empty()) {
      if ((step_index % 5 == 4 || scheduler.idle()) && next_id < 30) add(next_id++);  // arrivals while others run
      step = scheduler.schedule();
    }
    const std::vector<int32_t> sampled = run_step(step);
    bool every_running_samples = static_cast<int>(step.chunks.size()) == scheduler.num_running();
    for (const ScheduledChunk& c : step.chunks) every_running_samples &= c.samples;
    if (ahead && every_running_samples && scheduler.num_waiting() == 0) {
      ++result.steps_ahead;
      scheduler.complete_ahead(step);
      SchedulerStep next = scheduler.schedule();  // with the tokens of `step` still pending
      scheduler.resolve(step, sampled);
      step = std::move(next);
    } else {
      scheduler.complete(step, sampled);
      step = SchedulerStep{};
    }
  }
  for (const auto& s : seqs) result.tokens[s->id] = s->tokens;
  result.attached = blocks.cached_tokens_attached();
  EXPECT_EQ(blocks.free_blocks(), num_blocks);
  return result;
}

TEST(PrefixCache, SharedPromptsReadTheirOwnValuesAndGiveTheSameTokens) {
  for (const uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    const RunResult plain = run_shared_prompts(false, 64, 32, seed);
    const RunResult cached = run_shared_prompts(true, 64, 32, seed);
    EXPECT_EQ(cached.tokens, plain.tokens) << seed;
    EXPECT_GT(cached.attached, 40) << seed;
    EXPECT_EQ(plain.attached, 0);
    // A cache too small for every request at once: preemption and eviction under caching.
    const RunResult tight = run_shared_prompts(true, 14, 12, seed);
    EXPECT_EQ(tight.tokens, plain.tokens) << seed;
    EXPECT_GT(tight.preemptions, 0) << seed;
    // Steps run ahead: blocks whose last token is pending register when it resolves.
    for (const int num_blocks : {64, 14}) {
      const RunResult ahead = run_shared_prompts(true, num_blocks, num_blocks == 64 ? 32 : 12, seed, true);
      EXPECT_EQ(ahead.tokens, plain.tokens) << seed;
      EXPECT_GT(ahead.steps_ahead, 5) << seed;
      EXPECT_GT(ahead.attached, 0) << seed;
    }
  }
}

}  // namespace
}  // namespace slidesparse
