#include "sequences/block_manager.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace slidesparse {

BlockManager::BlockManager(int num_blocks, int block_size, bool prefix_caching)
    : block_size_(block_size), prefix_caching_(prefix_caching) {
  require(num_blocks > 0 && block_size > 0, "KV cache: need at least one block of at least one token");
  free_.reserve(static_cast<size_t>(num_blocks));
  for (int b = num_blocks - 1; b >= 0; --b) free_.push_back(b);  // block 0 is handed out first
  ref_.assign(static_cast<size_t>(num_blocks), 0);
  if (prefix_caching_) {
    generation_.assign(static_cast<size_t>(num_blocks), 0);
    content_.resize(static_cast<size_t>(num_blocks));
    evictable_at_.resize(static_cast<size_t>(num_blocks), evictable_.end());
  }
}

bool BlockManager::can_hold(const Sequence& seq, int tokens) const {
  const int needed = blocks_for(tokens, block_size_) - static_cast<int>(seq.block_table.size());
  return needed <= free_blocks();
}

int32_t BlockManager::take_block() {
  int32_t block;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else {  // the least recently released cached block gets new content
    block = evictable_.front();
    evictable_.pop_front();
    evictable_at_[static_cast<size_t>(block)] = evictable_.end();
    forget(block);
  }
  if (prefix_caching_) ++generation_[static_cast<size_t>(block)];
  ref_[static_cast<size_t>(block)] = 1;
  return block;
}

void BlockManager::hold(Sequence& seq, int tokens) {
  // Runs for every sequence of every step: the message is built only when it is needed.
  if (!can_hold(seq, tokens))
    fail("KV cache: sequence " + std::to_string(seq.id) + " needs " + std::to_string(blocks_for(tokens, block_size_)) +
         " blocks, " + std::to_string(free_blocks()) + " are free");
  while (static_cast<int>(seq.block_table.size()) < blocks_for(tokens, block_size_))
    seq.block_table.push_back(take_block());
}

void BlockManager::release(Sequence& seq) {
  // The table's tail first: a sequence's later blocks are evicted before its earlier ones, so a
  // registered block is never reused while a block registered after it (its child) is still cached.
  for (auto it = seq.block_table.rbegin(); it != seq.block_table.rend(); ++it) {
    const auto b = static_cast<size_t>(*it);
    if (--ref_[b] > 0) continue;
    if (prefix_caching_ && !content_[b].tokens.empty())
      evictable_at_[b] = evictable_.insert(evictable_.end(), *it);
    else
      free_.push_back(*it);
  }
  seq.block_table.clear();
  seq.num_cached_blocks = 0;
  seq.cache_registration_stopped = false;
}

uint64_t BlockManager::content_hash(int32_t parent, const int32_t* tokens) const {
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(static_cast<uint32_t>(parent));
  h = (h ^ (parent < 0 ? 0 : generation_[static_cast<size_t>(parent)])) * 1099511628211ull;
  for (int i = 0; i < block_size_; ++i) h = (h ^ static_cast<uint32_t>(tokens[i])) * 1099511628211ull;
  return h;
}

int32_t BlockManager::find_cached(uint64_t hash, int32_t parent, const int32_t* tokens) const {
  const uint32_t parent_generation = parent < 0 ? 0 : generation_[static_cast<size_t>(parent)];
  const auto [first, last] = registered_.equal_range(hash);
  for (auto it = first; it != last; ++it) {
    const Content& c = content_[static_cast<size_t>(it->second)];
    if (c.parent == parent && c.parent_generation == parent_generation &&
        std::equal(c.tokens.begin(), c.tokens.end(), tokens))
      return it->second;
  }
  return -1;
}

void BlockManager::forget(int32_t block) {
  Content& c = content_[static_cast<size_t>(block)];
  if (c.tokens.empty()) return;
  const auto [first, last] = registered_.equal_range(c.hash);
  for (auto it = first; it != last; ++it)
    if (it->second == block) {
      registered_.erase(it);
      break;
    }
  c = Content{};
}

int BlockManager::attach_cached_prefix(Sequence& seq) {
  if (!prefix_caching_ || !seq.block_table.empty()) return 0;
  // Never the block holding the last token: that token is computed (its logits), and its block
  // written.
  const int attachable = (seq.num_tokens() - 1) / block_size_;
  int32_t parent = -1;
  for (int i = 0; i < attachable; ++i) {
    const int32_t* tokens = seq.tokens.data() + static_cast<size_t>(i) * block_size_;
    const int32_t block = find_cached(content_hash(parent, tokens), parent, tokens);
    if (block < 0) break;
    const auto b = static_cast<size_t>(block);
    if (ref_[b]++ == 0) {  // cached and held by nobody until now
      evictable_.erase(evictable_at_[b]);
      evictable_at_[b] = evictable_.end();
    }
    seq.block_table.push_back(block);
    parent = block;
  }
  seq.num_cached_blocks = static_cast<int>(seq.block_table.size());
  seq.num_computed_tokens = seq.num_cached_blocks * block_size_;
  cached_tokens_attached_ += seq.num_computed_tokens;
  return seq.num_computed_tokens;
}

void BlockManager::register_computed_blocks(Sequence& seq) {
  if (!prefix_caching_ || seq.cache_registration_stopped) return;
  const int full = seq.num_computed_tokens / block_size_;
  for (int i = seq.num_cached_blocks; i < full; ++i) {
    const int32_t block = seq.block_table[static_cast<size_t>(i)];
    const int32_t parent = i == 0 ? -1 : seq.block_table[static_cast<size_t>(i - 1)];
    const int32_t* tokens = seq.tokens.data() + static_cast<size_t>(i) * block_size_;
    // A token sampled but not known on the host yet (a step run ahead): registered once it is.
    if (std::any_of(tokens, tokens + block_size_, [](int32_t t) { return t < 0; })) return;
    const uint64_t hash = content_hash(parent, tokens);
    if (find_cached(hash, parent, tokens) >= 0) {  // computed twice at once: the other copy stays the cached one
      seq.cache_registration_stopped = true;
      return;
    }
    Content& c = content_[static_cast<size_t>(block)];
    c.parent = parent;
    c.parent_generation = parent < 0 ? 0 : generation_[static_cast<size_t>(parent)];
    c.tokens.assign(tokens, tokens + block_size_);
    c.hash = hash;
    registered_.emplace(hash, block);
    seq.num_cached_blocks = i + 1;
  }
}

}  // namespace slidesparse
