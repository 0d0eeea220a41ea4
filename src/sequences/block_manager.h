// The paged KV cache's bookkeeping: a fixed pool of blocks of `block_size` tokens, handed to
// sequences from a free list and returned when they finish or are preempted. Pure host logic; the
// model runner maps a sequence's block table to cache addresses.
//
// With prefix caching, a full block of tokens whose keys and values have been computed is
// registered under its content: its tokens and the block before it in the table (itself registered,
// so a block stands for the whole prefix up to its end). A sequence admitted later whose prompt
// starts with the same tokens attaches those blocks instead of computing them again; blocks are
// reference counted, and a registered block nobody holds stays cached until the pool runs short,
// then the least recently released is reused first. Blocks are only ever written at positions past
// a sequence's computed tokens, so a shared block is never written: at least the prompt's last token
// is always computed (it gives the logits), and the block holding it is never attached.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "sequences/sequence.h"

namespace slidesparse {

class BlockManager {
 public:
  BlockManager(int num_blocks, int block_size, bool prefix_caching = false);

  int block_size() const { return block_size_; }
  int num_blocks() const { return static_cast<int>(ref_.size()); }
  // Blocks a sequence can be given now: unused ones and cached ones nobody holds.
  int free_blocks() const { return static_cast<int>(free_.size() + evictable_.size()); }
  bool prefix_caching() const { return prefix_caching_; }
  static int blocks_for(int tokens, int block_size) { return (tokens + block_size - 1) / block_size; }

  // Whether the sequence's table can be grown to hold `tokens` tokens.
  bool can_hold(const Sequence& seq, int tokens) const;
  // Grows the table to hold `tokens` tokens; throws Error if the pool is short (check can_hold first).
  void hold(Sequence& seq, int tokens);
  // Returns every block of the sequence to the pool (registered ones stay cached until reused).
  void release(Sequence& seq);

  // Prefix caching (no-ops without it). For a sequence holding no block: attaches the longest run of
  // registered blocks that matches the start of its tokens, leaving at least its last token to
  // compute; sets num_computed_tokens to the tokens they cover and returns that count.
  int attach_cached_prefix(Sequence& seq);
  // Registers the sequence's full blocks whose tokens (prompt or generated) are all computed and
  // known (call after its num_computed_tokens grew or a pending token was resolved). A block whose
  // content is already registered by another sequence stays the sequence's own, and so do the
  // blocks after it.
  void register_computed_blocks(Sequence& seq);
  int64_t cached_tokens_attached() const { return cached_tokens_attached_; }  // since construction

 private:
  struct Content {  // what a registered block stands for
    int32_t parent = -1;       // the block before it in the table, -1 for the first
    uint32_t parent_generation = 0;
    std::vector<int32_t> tokens;
    uint64_t hash = 0;         // its key in registered_ (the parent's generation may move on)
  };
  int32_t take_block();
  uint64_t content_hash(int32_t parent, const int32_t* tokens) const;
  // The registered block holding `tokens` after `parent`, -1 for none; `hash` is their content_hash.
  int32_t find_cached(uint64_t hash, int32_t parent, const int32_t* tokens) const;
  void forget(int32_t block);  // drops its registration

  int block_size_;
  bool prefix_caching_;
  std::vector<int32_t> free_;          // a stack: the most recently freed block is reused first
  std::vector<int32_t> ref_;           // sequences holding each block
  std::vector<uint32_t> generation_;   // bumped whenever a block is given new content
  std::vector<Content> content_;       // per block; tokens empty when not registered
  std::unordered_multimap<uint64_t, int32_t> registered_;  // content hash -> block
  std::list<int32_t> evictable_;       // registered, held by nobody; least recently released first
  std::vector<std::list<int32_t>::iterator> evictable_at_;
  int64_t cached_tokens_attached_ = 0;
};

}  // namespace slidesparse
