#include "sequences/block_manager.h"

#include <string>

#include "core/error.h"

namespace slidesparse {

BlockManager::BlockManager(int num_blocks, int block_size) : block_size_(block_size) {
  require(num_blocks > 0 && block_size > 0, "KV cache: need at least one block of at least one token");
  free_.reserve(static_cast<size_t>(num_blocks));
  for (int b = num_blocks - 1; b >= 0; --b) free_.push_back(b);  // block 0 is handed out first
}

bool BlockManager::can_hold(const Sequence& seq, int tokens) const {
  const int needed = blocks_for(tokens, block_size_) - static_cast<int>(seq.block_table.size());
  return needed <= static_cast<int>(free_.size());
}

void BlockManager::hold(Sequence& seq, int tokens) {
  // Runs for every sequence of every step: the message is built only when it is needed.
  if (!can_hold(seq, tokens))
    fail("KV cache: sequence " + std::to_string(seq.id) + " needs " + std::to_string(blocks_for(tokens, block_size_)) +
         " blocks, " + std::to_string(free_.size()) + " are free");
  while (static_cast<int>(seq.block_table.size()) < blocks_for(tokens, block_size_)) {
    seq.block_table.push_back(free_.back());
    free_.pop_back();
    ++used_;
  }
}

void BlockManager::release(Sequence& seq) {
  for (auto it = seq.block_table.rbegin(); it != seq.block_table.rend(); ++it) free_.push_back(*it);
  used_ -= static_cast<int>(seq.block_table.size());
  seq.block_table.clear();
}

}  // namespace slidesparse
