// Small memset nodes of a captured CUDA graph turned into kernel nodes. cuBLASLt zeroes a few bytes
// of its workspace before some of its kernels (persistent ones keep counters there); captured into
// a decode graph that zeroing is a memset node between the norm kernel and the GEMM. On an H200 the
// GEMM behind such a node started 6-7 us after the norm ended, where every other GEMM of the step
// starts within 0.4 us of its norm (docs/PERF.md, "Decode steps on a timeline").
#pragma once

#include <cuda_runtime.h>

namespace slidesparse {

// Replaces every one-row memset node of at most 64 KiB in `graph` (before instantiation) by a
// kernel node that writes the same value over the same bytes, with the same dependencies on both
// sides. Returns how many nodes it replaced. Throws Error on a failing graph call.
int memset_nodes_as_kernels(cudaGraph_t graph);

// Whether graphs get their memset nodes replaced: yes unless SLIDESPARSE_GRAPH_MEMSETS=keep (for
// comparisons). Decided once per process.
bool graph_memsets_as_kernels();

}  // namespace slidesparse
