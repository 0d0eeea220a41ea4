#include "runtime/step_batch.h"

namespace slidesparse {

void StepBatch::clear() {
  decode = false;
  tokens.clear();
  positions.clear();
  slots.clear();
  query_start.clear();
  seq_len.clear();
  block_table.clear();
  sample_rows.clear();
  max_query_len = max_seq_len = 0;
}

}  // namespace slidesparse
