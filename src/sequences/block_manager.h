// The paged KV cache's bookkeeping: a fixed pool of blocks of `block_size` tokens, handed to
// sequences from a free list and returned when they finish or are preempted. Pure host logic; the
// model runner maps a sequence's block table to cache addresses.
#pragma once

#include <cstdint>
#include <vector>

#include "sequences/sequence.h"

namespace slidesparse {

class BlockManager {
 public:
  BlockManager(int num_blocks, int block_size);

  int block_size() const { return block_size_; }
  int num_blocks() const { return static_cast<int>(free_.size()) + used_; }
  int free_blocks() const { return static_cast<int>(free_.size()); }
  static int blocks_for(int tokens, int block_size) { return (tokens + block_size - 1) / block_size; }

  // Whether the sequence's table can be grown to hold `tokens` tokens.
  bool can_hold(const Sequence& seq, int tokens) const;
  // Grows the table to hold `tokens` tokens; throws Error if the pool is short (check can_hold first).
  void hold(Sequence& seq, int tokens);
  // Returns every block of the sequence to the pool.
  void release(Sequence& seq);

 private:
  int block_size_;
  int used_ = 0;
  std::vector<int32_t> free_;  // a stack: the most recently freed block is reused first
};

}  // namespace slidesparse
