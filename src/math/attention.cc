#include "math/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "math/numeric_formats.h"

namespace slidesparse {

namespace {

// bf16 of a double with a single rounding. Going through float first could round twice; rounding
// the float to odd (forcing its last bit when it is inexact) keeps the second rounding correct,
// since float has more than bf16's 8 + 2 significand bits.
uint16_t double_to_bf16(double value) {
  float f = static_cast<float>(value);
  if (std::isfinite(f) && static_cast<double>(f) != value) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    if ((bits & 1u) == 0) {
      // The float was rounded toward the neighbour with an even last bit; the odd neighbour lies
      // on the value's side of it.
      const bool rounded_away = std::fabs(static_cast<double>(f)) > std::fabs(value);
      bits = rounded_away ? bits - 1 : bits + 1;
      std::memcpy(&f, &bits, sizeof bits);
    }
  }
  return float_to_bf16(f);
}

void validate(const HostKvCache& cache, const HostAttentionBatch& batch, int heads) {
  require(cache.kv_heads > 0 && heads > 0 && heads % cache.kv_heads == 0,
          "attention: " + std::to_string(heads) + " query heads are not a multiple of " +
              std::to_string(cache.kv_heads) + " kv heads");
  require(cache.block_size > 0 && cache.head_dim > 0, "attention: empty cache geometry");
  const size_t cache_elems =
      static_cast<size_t>(cache.num_blocks) * cache.kv_heads * cache.block_size * cache.head_dim;
  require(cache.k.size() == cache_elems && cache.v.size() == cache_elems,
          "attention: cache tensors hold " + std::to_string(cache.k.size()) + " / " +
              std::to_string(cache.v.size()) + " values, the geometry needs " + std::to_string(cache_elems));
  const size_t num_seqs = batch.seq_len.size();
  require(batch.query_start.size() == num_seqs + 1 && batch.query_start.front() == 0,
          "attention: query_start must hold num_seqs + 1 offsets starting at 0");
  require(batch.block_table.size() >= num_seqs * static_cast<size_t>(batch.max_blocks_per_seq),
          "attention: block_table is shorter than num_seqs * max_blocks_per_seq");
  for (size_t s = 0; s < num_seqs; ++s) {
    const int qlen = batch.query_start[s + 1] - batch.query_start[s];
    const int len = batch.seq_len[s];
    const std::string which = "attention: sequence " + std::to_string(s);
    require(qlen >= 0, which + " has a negative query count");
    if (len == 0) continue;  // padding: its rows are zeroed, nothing is read
    require(qlen <= len, which + " has " + std::to_string(qlen) + " queries but only " + std::to_string(len) +
                             " tokens in the cache");
    const int blocks = (len + cache.block_size - 1) / cache.block_size;
    require(blocks <= batch.max_blocks_per_seq, which + " needs " + std::to_string(blocks) +
                                                    " blocks, the table has " +
                                                    std::to_string(batch.max_blocks_per_seq));
    for (int b = 0; b < blocks; ++b) {
      const int block = batch.block_table[s * batch.max_blocks_per_seq + b];
      require(block >= 0 && block < cache.num_blocks,
              which + " maps to block " + std::to_string(block) + " outside the cache");
    }
  }
}

}  // namespace

void attention_reference(const uint16_t* q, const HostKvCache& cache, const HostAttentionBatch& batch, int heads,
                         float softmax_scale, uint16_t* out) {
  validate(cache, batch, heads);
  const int d = cache.head_dim;
  const int group = heads / cache.kv_heads;
  const int num_seqs = static_cast<int>(batch.seq_len.size());
  const int64_t total_rows = batch.query_start.back();
  // Row -> sequence, so the parallel loop can run over (row, head) pairs.
  std::vector<int> row_seq(static_cast<size_t>(total_rows));
  for (int s = 0; s < num_seqs; ++s)
    std::fill(row_seq.begin() + batch.query_start[s], row_seq.begin() + batch.query_start[s + 1], s);

  parallel_for(total_rows * heads, 4, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    std::vector<double> acc(d);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t row = item / heads;
      const int h = static_cast<int>(item % heads);
      const int s = row_seq[row];
      uint16_t* o = out + (row * heads + h) * d;
      const int len = batch.seq_len[s];
      if (len == 0) {
        std::fill(o, o + d, uint16_t{0});
        continue;
      }
      const int qlen = batch.query_start[s + 1] - batch.query_start[s];
      const int position = len - qlen + static_cast<int>(row - batch.query_start[s]);
      const int kv = h / group;
      const int32_t* blocks = batch.block_table.data() + static_cast<size_t>(s) * batch.max_blocks_per_seq;
      auto tile = [&](int token) {
        const int64_t block = blocks[token / cache.block_size];
        return ((block * cache.kv_heads + kv) * cache.block_size + token % cache.block_size) * int64_t{d};
      };
      const uint16_t* qh = q + (row * heads + h) * d;

      scores.assign(static_cast<size_t>(position) + 1, 0.0f);
      float max_score = -INFINITY;
      for (int j = 0; j <= position; ++j) {
        const uint16_t* k = cache.k.data() + tile(j);
        double dot = 0;
        for (int i = 0; i < d; ++i) dot += static_cast<double>(bf16_to_float(qh[i])) * bf16_to_float(k[i]);
        scores[j] = static_cast<float>(dot) * softmax_scale;
        max_score = std::max(max_score, scores[j]);
      }
      double denominator = 0;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int j = 0; j <= position; ++j) {
        const double p = std::exp(static_cast<double>(scores[j]) - max_score);
        denominator += p;
        const uint16_t* v = cache.v.data() + tile(j);
        for (int i = 0; i < d; ++i) acc[i] += p * bf16_to_float(v[i]);
      }
      for (int i = 0; i < d; ++i) o[i] = double_to_bf16(acc[i] / denominator);
    }
  });
}

}  // namespace slidesparse
