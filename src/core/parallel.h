// Data-parallel loops over short-lived worker threads (callers hand in whole tensors, so spawning is
// negligible next to the work). Work items are independent chunks; results must
// not depend on the number of threads (every deterministic routine indexes its RNG by element, never
// by thread).
#pragma once

#include <cstdint>
#include <functional>

namespace slidesparse {

// Number of worker threads (hardware concurrency unless SLIDESPARSE_THREADS is set).
int worker_count();

// Calls body(begin, end) on disjoint sub-ranges covering [0, n), in parallel, each sub-range at least
// min_chunk long. Exceptions thrown by body are rethrown (the first one) after all workers stop.
void parallel_for(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& body);

}  // namespace slidesparse
