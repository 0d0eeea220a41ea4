// The attention reference (math/attention.h): hand-worked softmax cases, causal masking, the paged
// layout against a contiguous one, the GQA head mapping, chunked / decode queries against the rows
// of a full prefill, batching, and padding sequences.
#include "math/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/error.h"
#include "math/numeric_formats.h"
#include "bf16_values.h"

namespace slidesparse {
namespace {

using testing::floats;

constexpr uint16_t kPoison = 0x7FC1;  // a NaN no reference output can produce

// One sequence's keys or values, contiguous: [tokens][kv_heads][head_dim] bf16 bits.
struct SequenceKv {
  std::vector<uint16_t> k, v;
  int tokens = 0;
};

SequenceKv random_kv(std::mt19937& rng, int tokens, int kv_heads, int d) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  SequenceKv kv;
  kv.tokens = tokens;
  for (int i = 0; i < tokens * kv_heads * d; ++i) {
    kv.k.push_back(float_to_bf16(normal(rng)));
    kv.v.push_back(float_to_bf16(normal(rng)));
  }
  return kv;
}

std::vector<uint16_t> random_q(std::mt19937& rng, int rows, int heads, int d) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> q(static_cast<size_t>(rows) * heads * d);
  for (auto& x : q) x = float_to_bf16(normal(rng));
  return q;
}

// Lays sequences into a paged cache, sequence s using the blocks blocks[s] in order, and describes
// the step with qlen[s] queries per sequence (the last qlen[s] of its tokens).
struct PagedSetup {
  HostKvCache cache;
  HostAttentionBatch batch;
};

PagedSetup page(const std::vector<SequenceKv>& seqs, const std::vector<std::vector<int>>& blocks,
                const std::vector<int>& qlen, int num_blocks, int block_size, int kv_heads, int d) {
  PagedSetup setup;
  HostKvCache& c = setup.cache;
  c.num_blocks = num_blocks;
  c.block_size = block_size;
  c.kv_heads = kv_heads;
  c.head_dim = d;
  // Unused cache slots hold large values, so reading one by mistake changes the output.
  c.k.assign(static_cast<size_t>(num_blocks) * kv_heads * block_size * d, float_to_bf16(30.0f));
  c.v.assign(c.k.size(), float_to_bf16(-1000.0f));
  HostAttentionBatch& b = setup.batch;
  b.max_blocks_per_seq = 0;
  for (const auto& list : blocks) b.max_blocks_per_seq = std::max<int>(b.max_blocks_per_seq, list.size());
  b.block_table.assign(seqs.size() * b.max_blocks_per_seq, -1);
  b.query_start = {0};
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (size_t i = 0; i < blocks[s].size(); ++i) b.block_table[s * b.max_blocks_per_seq + i] = blocks[s][i];
    for (int t = 0; t < seqs[s].tokens; ++t) {
      const int block = blocks[s][t / block_size];
      for (int h = 0; h < kv_heads; ++h) {
        const size_t dst = ((static_cast<size_t>(block) * kv_heads + h) * block_size + t % block_size) * d;
        const size_t src = (static_cast<size_t>(t) * kv_heads + h) * d;
        std::copy_n(seqs[s].k.begin() + src, d, c.k.begin() + dst);
        std::copy_n(seqs[s].v.begin() + src, d, c.v.begin() + dst);
      }
    }
    b.seq_len.push_back(seqs[s].tokens);
    b.query_start.push_back(b.query_start.back() + qlen[s]);
  }
  return setup;
}

std::vector<uint16_t> run(const std::vector<uint16_t>& q, const PagedSetup& setup, int heads, float scale) {
  std::vector<uint16_t> out(static_cast<size_t>(setup.batch.query_start.back()) * heads * setup.cache.head_dim,
                            kPoison);
  attention_reference(q.data(), setup.cache, setup.batch, heads, scale, out.data());
  return out;
}

TEST(AttentionReference, HandWorkedSoftmax) {
  // One head, head_dim 2, two tokens. k0 = (0, 0), k1 = (1, 0), v0 = (0, 1), v1 = (1, 0); q = (1, 0)
  // for both queries. Query 0 (position 0) sees only token 0: out = v0. Query 1 scores (0, 1):
  // p1 = e / (1 + e) = 0.7310586 -> bf16 187/256; p0 = 0.2689414 -> bf16 138/512.
  SequenceKv kv;
  kv.tokens = 2;
  for (float x : {0, 0, 1, 0}) kv.k.push_back(float_to_bf16(x));
  for (float x : {0, 1, 1, 0}) kv.v.push_back(float_to_bf16(x));
  const std::vector<uint16_t> q = {float_to_bf16(1), 0, float_to_bf16(1), 0};
  const PagedSetup setup = page({kv}, {{0}}, {2}, 1, 16, 1, 2);
  EXPECT_EQ(floats(run(q, setup, 1, 1.0f)), (std::vector<float>{0, 1, 0.73046875f, 0.26953125f}));
  // The softmax scale multiplies the scores: k1 = (2, 0) with scale 1/2 gives the same scores.
  SequenceKv doubled = kv;
  doubled.k[2] = float_to_bf16(2);
  EXPECT_EQ(floats(run(q, page({doubled}, {{0}}, {2}, 1, 16, 1, 2), 1, 0.5f)),
            (std::vector<float>{0, 1, 0.73046875f, 0.26953125f}));
  // Equal scores average the values; a dominant score selects its value.
  SequenceKv same = kv;
  same.k = {0, 0, 0, 0};
  EXPECT_EQ(floats(run(q, page({same}, {{0}}, {2}, 1, 16, 1, 2), 1, 1.0f)), (std::vector<float>{0, 1, 0.5f, 0.5f}));
  SequenceKv dominant = kv;
  dominant.k[2] = float_to_bf16(200);
  EXPECT_EQ(floats(run(q, page({dominant}, {{0}}, {2}, 1, 16, 1, 2), 1, 1.0f)), (std::vector<float>{0, 1, 1, 0}));
}

TEST(AttentionReference, MatchesAFloatSoftmaxOnRandomInputs) {
  // A plain textbook evaluation (fp32 scores, softmax and sum in long double) of every row.
  std::mt19937 rng(1);
  const int heads = 4, kv_heads = 2, d = 64, tokens = 37;
  const SequenceKv kv = random_kv(rng, tokens, kv_heads, d);
  const std::vector<uint16_t> q = random_q(rng, tokens, heads, d);
  const float scale = 0.125f;
  const std::vector<uint16_t> out = run(q, page({kv}, {{2, 0, 1}}, {tokens}, 3, 16, kv_heads, d), heads, scale);
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < heads; ++h) {
      const int g = h / 2;
      std::vector<long double> p(t + 1);
      long double top = -1e30L, sum = 0;
      for (int j = 0; j <= t; ++j) {
        long double s = 0;
        for (int i = 0; i < d; ++i)
          s += static_cast<long double>(bf16_to_float(q[(t * heads + h) * d + i])) *
               bf16_to_float(kv.k[(j * kv_heads + g) * d + i]);
        p[j] = s * scale;
        top = std::max(top, p[j]);
      }
      for (auto& x : p) sum += (x = std::exp(x - top));
      for (int i = 0; i < d; ++i) {
        long double o = 0;
        for (int j = 0; j <= t; ++j) o += p[j] / sum * bf16_to_float(kv.v[(j * kv_heads + g) * d + i]);
        const float got = bf16_to_float(out[(t * heads + h) * d + i]);
        // Half a bf16 ulp of the result, plus the fp32 rounding of the scores.
        ASSERT_NEAR(got, static_cast<double>(o), std::fabs(static_cast<double>(o)) * std::ldexp(1.0, -8) + 1e-5)
            << t << " " << h << " " << i;
      }
    }
  }
}

TEST(AttentionReference, CausalMaskHidesLaterTokensOnly) {
  std::mt19937 rng(2);
  const int heads = 2, d = 64, tokens = 20;
  SequenceKv kv = random_kv(rng, tokens, 1, d);
  const std::vector<uint16_t> q = random_q(rng, tokens, heads, d);
  const std::vector<uint16_t> base = run(q, page({kv}, {{0, 1}}, {tokens}, 2, 16, 1, d), heads, 0.125f);
  // Change token 12's key and value: rows 0..11 keep every bit, rows 12.. change.
  for (int i = 0; i < d; ++i) {
    kv.k[12 * d + i] = float_to_bf16(3.0f);
    kv.v[12 * d + i] = float_to_bf16(-5.0f);
  }
  const std::vector<uint16_t> changed = run(q, page({kv}, {{0, 1}}, {tokens}, 2, 16, 1, d), heads, 0.125f);
  const size_t row = static_cast<size_t>(heads) * d;
  EXPECT_TRUE(std::equal(base.begin(), base.begin() + 12 * row, changed.begin()));
  for (int t = 12; t < tokens; ++t)
    EXPECT_FALSE(std::equal(base.begin() + t * row, base.begin() + (t + 1) * row, changed.begin() + t * row)) << t;
}

TEST(AttentionReference, PagedLayoutEqualsContiguous) {
  std::mt19937 rng(3);
  const int heads = 4, kv_heads = 2, d = 64, tokens = 45;
  const SequenceKv kv = random_kv(rng, tokens, kv_heads, d);
  const std::vector<uint16_t> q = random_q(rng, tokens, heads, d);
  // Contiguous: one block of 48 tokens. Paged: blocks of 16 scattered over a larger cache, and
  // blocks of 32 in reverse order.
  const auto contiguous = run(q, page({kv}, {{0}}, {tokens}, 1, 48, kv_heads, d), heads, 0.125f);
  const auto scattered = run(q, page({kv}, {{5, 1, 3}}, {tokens}, 6, 16, kv_heads, d), heads, 0.125f);
  const auto reversed = run(q, page({kv}, {{1, 0}}, {tokens}, 2, 32, kv_heads, d), heads, 0.125f);
  EXPECT_EQ(scattered, contiguous);
  EXPECT_EQ(reversed, contiguous);
}

TEST(AttentionReference, GroupedQueryHeadsReadTheirKvHead) {
  // 8 query heads on 2 kv heads equal 8 heads on 8 kv heads where kv head h copies kv head h / 4.
  std::mt19937 rng(4);
  const int heads = 8, kv_heads = 2, d = 64, tokens = 19;
  const SequenceKv grouped = random_kv(rng, tokens, kv_heads, d);
  SequenceKv expanded;
  expanded.tokens = tokens;
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < heads; ++h) {
      const size_t src = (static_cast<size_t>(t) * kv_heads + h / 4) * d;
      expanded.k.insert(expanded.k.end(), grouped.k.begin() + src, grouped.k.begin() + src + d);
      expanded.v.insert(expanded.v.end(), grouped.v.begin() + src, grouped.v.begin() + src + d);
    }
  }
  const std::vector<uint16_t> q = random_q(rng, tokens, heads, d);
  const auto gqa = run(q, page({grouped}, {{0, 1}}, {tokens}, 2, 16, kv_heads, d), heads, 0.125f);
  const auto mha = run(q, page({expanded}, {{1, 0}}, {tokens}, 2, 16, heads, d), heads, 0.125f);
  EXPECT_EQ(gqa, mha);
  // And a different mapping (kv head h % 2) would not match.
  SequenceKv wrong = expanded;
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < d; ++i) {
        wrong.k[(t * heads + h) * d + i] = grouped.k[(t * kv_heads + h % 2) * d + i];
        wrong.v[(t * heads + h) * d + i] = grouped.v[(t * kv_heads + h % 2) * d + i];
      }
  EXPECT_NE(run(q, page({wrong}, {{0, 1}}, {tokens}, 2, 16, heads, d), heads, 0.125f), gqa);
}

TEST(AttentionReference, ChunkedAndDecodeQueriesEqualRowsOfTheFullPrefill) {
  std::mt19937 rng(5);
  const int heads = 4, kv_heads = 1, d = 128, tokens = 50;
  const SequenceKv kv = random_kv(rng, tokens, kv_heads, d);
  const std::vector<uint16_t> q = random_q(rng, tokens, heads, d);
  const size_t row = static_cast<size_t>(heads) * d;
  const auto full = run(q, page({kv}, {{3, 0, 2, 1}}, {tokens}, 4, 16, kv_heads, d), heads, 0.088f);
  for (int chunk : {1, 7, 16, 33}) {
    // The last `chunk` queries, with all 50 tokens in the cache (chunked prefill; 1 = decode).
    const std::vector<uint16_t> tail(q.end() - chunk * row, q.end());
    const auto part = run(tail, page({kv}, {{3, 0, 2, 1}}, {chunk}, 4, 16, kv_heads, d), heads, 0.088f);
    EXPECT_TRUE(std::equal(part.begin(), part.end(), full.end() - chunk * row)) << chunk;
  }
  // A cache holding only the first 30 tokens and the queries 20..29.
  SequenceKv head_kv = kv;
  head_kv.tokens = 30;
  const std::vector<uint16_t> mid(q.begin() + 20 * row, q.begin() + 30 * row);
  const auto part = run(mid, page({head_kv}, {{1, 2}}, {10}, 4, 16, kv_heads, d), heads, 0.088f);
  EXPECT_TRUE(std::equal(part.begin(), part.end(), full.begin() + 20 * row));
}

TEST(AttentionReference, BatchedSequencesEqualEachAloneAndPaddingIsZero) {
  std::mt19937 rng(6);
  const int heads = 2, kv_heads = 2, d = 64;
  const SequenceKv a = random_kv(rng, 21, kv_heads, d), b = random_kv(rng, 9, kv_heads, d);
  SequenceKv pad;  // a CUDA-graph padding sequence: no tokens, one query row
  const std::vector<uint16_t> qa = random_q(rng, 21, heads, d), qb = random_q(rng, 3, heads, d),
                              qpad = random_q(rng, 1, heads, d);
  const auto alone_a = run(qa, page({a}, {{0, 1}}, {21}, 2, 16, kv_heads, d), heads, 0.125f);
  const auto alone_b = run(qb, page({b}, {{0}}, {3}, 1, 16, kv_heads, d), heads, 0.125f);
  std::vector<uint16_t> q = qb;
  q.insert(q.end(), qpad.begin(), qpad.end());
  q.insert(q.end(), qa.begin(), qa.end());
  const auto batched = run(q, page({b, pad, a}, {{4}, {}, {2, 0}}, {3, 1, 21}, 5, 16, kv_heads, d), heads, 0.125f);
  const size_t row = static_cast<size_t>(heads) * d;
  EXPECT_TRUE(std::equal(alone_b.begin(), alone_b.end(), batched.begin()));
  EXPECT_TRUE(std::all_of(batched.begin() + 3 * row, batched.begin() + 4 * row, [](uint16_t x) { return x == 0; }));
  EXPECT_TRUE(std::equal(alone_a.begin(), alone_a.end(), batched.begin() + 4 * row));
}

TEST(AttentionReference, RejectsInconsistentBatches) {
  std::mt19937 rng(7);
  const SequenceKv kv = random_kv(rng, 10, 2, 64);
  const std::vector<uint16_t> q = random_q(rng, 11, 4, 64);
  std::vector<uint16_t> out(11 * 4 * 64);
  PagedSetup setup = page({kv}, {{0}}, {10}, 1, 16, 2, 64);
  EXPECT_THROW(attention_reference(q.data(), setup.cache, setup.batch, 3, 1.0f, out.data()), Error);  // 3 % 2
  PagedSetup too_many = setup;
  too_many.batch.query_start = {0, 11};  // 11 queries, 10 tokens
  EXPECT_THROW(attention_reference(q.data(), too_many.cache, too_many.batch, 4, 1.0f, out.data()), Error);
  PagedSetup bad_block = setup;
  bad_block.batch.block_table = {1};
  EXPECT_THROW(attention_reference(q.data(), bad_block.cache, bad_block.batch, 4, 1.0f, out.data()), Error);
  PagedSetup long_seq = setup;
  long_seq.batch.seq_len = {17};  // needs 2 blocks, the table has 1
  EXPECT_THROW(attention_reference(q.data(), long_seq.cache, long_seq.batch, 4, 1.0f, out.data()), Error);
}

}  // namespace
}  // namespace slidesparse
