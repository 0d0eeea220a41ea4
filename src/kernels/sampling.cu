// Row sampling (kernels/sampling.h): one row per cluster of 1, 2, 4 or 8 blocks. Each block works on
// its piece of the row (a share of its 16-byte body; the first piece takes the head, the last the
// tail), and what a pass needs of the whole row (the argmax, a histogram, the kept weight) the blocks
// combine through distributed shared memory after a cluster barrier: few rows then still spread over
// the GPU, and every block reaches the same answers. A histogram is combined by the cluster's
// threads each summing its buckets over the pieces (each bucket read once per piece), not by every
// block reading every piece's whole histogram, which measured 2-5x slower with 4-8 blocks.
//
// The argmax, which every row starts with: the row is split into a scalar head up to the first
// 16-byte boundary, a body of 16-byte float4 loads (kBatch in flight per thread, so a block keeps
// 64 KB of reads outstanding: bandwidth-bound even when few rows occupy few SMs) and a scalar tail.
// Every comparison uses the full (value, index) order, so the result does not depend on which thread
// saw which element or on the reduction order. Greedy rows stop there, reading with evict-first
// loads; sampled rows read their row again and keep it cached.
//
// A sampled row's cuts (math/token_sampling.h) are found by math/key_window.h's search, the CPU
// Sampler's: only keys between lowest_weighted_key and the top's can hold a cut, and that window is
// split into at most 2,048 buckets; a pass adds up the count (top-k) or weight (top-p) per bucket in
// a shared histogram (one atomic per token, one per warp where the whole warp shares a bucket; 32-bit
// words, see SplitMeasure), a scan from the top finds the crossing bucket, and the next pass looks at
// that bucket's tokens alone, until a bucket is one key. The second pass over the row also copies
// the crossing bucket's keys to shared memory (a key is all a token's measure needs: its weight is a
// function of it), so later rounds read those instead of the row when they fit. The draw, over the
// kept tokens in index order: each piece's body is cut into kDrawSlices contiguous slices, each warp
// adds up the kept weight of its slices with coalesced loads, and one warp of the block whose piece
// holds the draw point finds its slice and walks it again, a scan per 512 tokens, to the token.
// With spread logits a top-p row is thus read four times (the argmax, two histogram passes, the
// draw), every pass with 16-byte loads. Integer weights make every sum exact, so the token is the CPU
// Sampler's whatever order the threads add in.
#include "kernels/sampling.h"

#include <cooperative_groups.h>

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/dependent_launch.cuh"
#include "math/key_window.h"

namespace slidesparse {

namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kBatch = 8;
constexpr int kVectors = 4;  // float4 loads in flight per thread in the histogram and draw passes
// Buckets each thread of a row's cluster of kParts blocks holds in the scan for the crossing bucket
// (the cluster's threads together cover every bucket).
template <int kParts>
constexpr int kBucketsPerThread = (static_cast<int>(kKeyWindowBuckets) + kParts * kThreads - 1) / (kParts * kThreads);
static_assert(kBucketsPerThread<1> * kThreads == static_cast<int>(kKeyWindowBuckets), "one block covers every bucket");
constexpr int kCandidates = 4096;  // keys of a crossing bucket kept in shared memory
constexpr int kDrawSlices = 256;   // contiguous pieces of the row's body in the draw
constexpr int kSlicesPerLane = kDrawSlices / 32;
constexpr int64_t kDrawChunk = 32 * kVectors;  // float4s a warp loads at once in the draw
constexpr int32_t kNone = INT32_MAX;  // no candidate yet (only NaN seen)
constexpr unsigned kFullWarp = 0xFFFFFFFFu;

struct Candidate {
  float value;
  int32_t index;
};

// Larger value first, then lower index. NaN compares false both ways, so it never replaces anything;
// -inf still beats "none" through the index.
__device__ __forceinline__ void consider(Candidate& best, float value, int32_t index) {
  if (value > best.value || (value == best.value && index < best.index)) best = {value, index};
}

template <bool kStreaming>
__device__ __forceinline__ float4 load_body(const float4* p) {
  if constexpr (kStreaming) return __ldcs(p);
  return __ldg(p);
}

constexpr float kNaN = __builtin_nanf("");
__device__ __forceinline__ float4 nan4() { return make_float4(kNaN, kNaN, kNaN, kNaN); }

// A row as a scalar head up to its first 16-byte boundary, a body of float4s and a scalar tail; or
// one of `parts` consecutive pieces of it (the rows' blocks of a cluster): piece p holds the p-th
// share of the body's float4s, the first piece the head, the last the tail (the others none).
struct RowSplit {
  const float* row;
  const float4* body;  // this piece's float4s
  int64_t head;        // elements before the body (0 but in the first piece)
  int64_t vectors;     // float4s of this piece's body
  int64_t body_index;  // the row index of body[0]'s first element
  int64_t tail_start;  // the tail's first element
  int64_t tail;        // elements after the body (0 but in the last piece)
};

__device__ __forceinline__ RowSplit split_row(const float* row, int64_t vocab, int part = 0, int parts = 1) {
  const int64_t misalignment = static_cast<int64_t>(reinterpret_cast<uintptr_t>(row) % 16 / sizeof(float));
  const int64_t head = misalignment ? (vocab < 4 - misalignment ? vocab : 4 - misalignment) : 0;
  const int64_t vectors = (vocab - head) / 4;
  const int64_t tail_start = head + 4 * vectors;
  const int64_t share = (vectors + parts - 1) / parts;
  const int64_t first = share * part < vectors ? share * part : vectors;
  const int64_t last = first + share < vectors ? first + share : vectors;
  return {row,
          reinterpret_cast<const float4*>(row + head) + first,
          part == 0 ? head : 0,
          last - first,
          head + 4 * first,
          tail_start,
          part == parts - 1 ? vocab - tail_start : 0};
}

// The blocks of one row: a cluster of kParts blocks (sm_90; 1 is a plain block) whose shared memory
// each reads from the others. sync() is a barrier of every thread of the cluster that also makes
// each block's shared-memory writes before it visible to the others after it.
template <int kParts>
struct RowCluster {
  static_assert(kParts == 1 || kParts == 2 || kParts == 4 || kParts == 8, "a portable cluster of 1-8 blocks");
  // The host launches clusters on sm_90 and later only; below, a cluster kernel traps.
  __device__ static int rank() {
    if constexpr (kParts == 1) {
      return 0;
    } else {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
      return static_cast<int>(cooperative_groups::this_cluster().block_rank());
#else
      __trap();
      return 0;
#endif
    }
  }
  __device__ static void sync() {
    if constexpr (kParts == 1) {
      __syncthreads();
    } else {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
      cooperative_groups::this_cluster().sync();
#else
      __trap();
#endif
    }
  }
  // `p` (a variable in this block's shared memory) as block `rank` of the cluster holds it.
  template <typename T>
  __device__ static const T* at(T* p, int rank) {
    if constexpr (kParts == 1) {
      return p;
    } else {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
      return cooperative_groups::this_cluster().map_shared_rank(p, rank);
#else
      __trap();
      return p;
#endif
    }
  }
};

// The head's and tail's elements (at most six), one per thread from thread 0 on; NaN for the others.
__device__ __forceinline__ float edge_element(const RowSplit& r, int t) {
  if (t < r.head) return r.row[t];
  if (t < r.head + r.tail) return r.row[r.tail_start + t - r.head];
  return kNaN;
}

// The warp's (largest value, lowest index), in every lane.
__device__ __forceinline__ Candidate warp_argmax(Candidate best) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float value = __shfl_xor_sync(kFullWarp, best.value, offset);
    const int32_t index = __shfl_xor_sync(kFullWarp, best.index, offset);
    consider(best, value, index);
  }
  return best;
}

// The (largest value, lowest index) of the row's piece r, the same in every thread.
template <bool kStreaming>
__device__ Candidate block_argmax(const RowSplit& r, Candidate* warp_best) {
  const int tid = static_cast<int>(threadIdx.x);
  Candidate best{-__int_as_float(0x7F800000), kNone};
  const int64_t head = r.head, body = r.vectors;
  if (tid < head) consider(best, r.row[tid], tid);

  const float4* vec = r.body;
  for (int64_t v0 = tid; v0 < body; v0 += kBatch * kThreads) {
    float4 x[kBatch];
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int64_t v = v0 + b * kThreads;
      x[b] = v < body ? load_body<kStreaming>(vec + v) : nan4();
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int64_t v = v0 + b * kThreads;
      if (v >= body) break;
      const int32_t i = static_cast<int32_t>(r.body_index + 4 * v);
      consider(best, x[b].x, i);
      consider(best, x[b].y, i + 1);
      consider(best, x[b].z, i + 2);
      consider(best, x[b].w, i + 3);
    }
  }
  if (tid < r.tail) consider(best, r.row[r.tail_start + tid], static_cast<int32_t>(r.tail_start + tid));

  best = warp_argmax(best);
  if (tid % 32 == 0) warp_best[tid / 32] = best;
  __syncthreads();
  best = warp_best[0];
  for (int w = 1; w < kWarps; ++w) consider(best, warp_best[w].value, warp_best[w].index);
  return best;
}

// The row's (largest value, lowest index) over every piece of the cluster, the same in every thread
// of every block. part_best[0]: this block's piece's, read by the others; part_best[1]: the row's.
template <int kParts, bool kStreaming>
__device__ Candidate row_argmax(const RowSplit& r, Candidate* warp_best, Candidate* part_best) {
  Candidate best = block_argmax<kStreaming>(r, warp_best);
  if constexpr (kParts > 1) {
    const int tid = static_cast<int>(threadIdx.x);
    if (tid == 0) part_best[0] = best;
    RowCluster<kParts>::sync();
    if (tid < 32) {  // lane p reads piece p's
      const Candidate none{-__int_as_float(0x7F800000), kNone};
      const Candidate c = tid < kParts ? *RowCluster<kParts>::at(part_best, tid) : none;
      best = warp_argmax(c);
      if (tid == 0) part_best[1] = best;
    }
    __syncthreads();
    best = part_best[1];
  }
  return best;
}

__device__ __forceinline__ unsigned long long warp_sum(unsigned long long v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

__device__ __forceinline__ unsigned long long warp_inclusive_scan(unsigned long long v, int lane) {
#pragma unroll
  for (int offset = 1; offset < 32; offset <<= 1) {
    const unsigned long long before = __shfl_up_sync(kFullWarp, v, offset);
    if (lane >= offset) v += before;
  }
  return v;
}

// The exclusive prefix of `value` in thread order, and the block's total; every thread calls it.
__device__ unsigned long long block_exclusive_scan(unsigned long long value, unsigned long long* warp_sums,
                                                   unsigned long long& total) {
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const unsigned long long inclusive = warp_inclusive_scan(value, lane);
  if (lane == 31) warp_sums[warp] = inclusive;
  __syncthreads();
  unsigned long long before = inclusive - value;
  total = 0;
  for (int w = 0; w < kWarps; ++w) {
    before += w < warp ? warp_sums[w] : 0;
    total += warp_sums[w];
  }
  __syncthreads();  // warp_sums is free for the next scan
  return before;
}

// Per bucket, the count or weight of its tokens as two 32-bit words: a 64-bit shared-memory atomic
// add compiles to a compare-and-swap loop, a 32-bit one is a single instruction that returns the
// previous word, which tells whether the add carried out of it.
struct SplitMeasure {
  uint32_t low[kKeyWindowBuckets];
  uint32_t high[kKeyWindowBuckets];
};

__device__ __forceinline__ void add_to_bucket(SplitMeasure& m, uint32_t bucket, unsigned long long value) {
  const uint32_t low = static_cast<uint32_t>(value);
  const uint32_t before = atomicAdd(&m.low[bucket], low);
  const uint32_t high = static_cast<uint32_t>(value >> 32) + (before + low < before ? 1u : 0u);
  if (high) atomicAdd(&m.high[bucket], high);
}

__device__ __forceinline__ unsigned long long bucket_measure(const SplitMeasure& m, int bucket) {
  return (static_cast<unsigned long long>(m.high[bucket]) << 32) | m.low[bucket];
}

struct WindowSearchShared {
  SplitMeasure measure;  // the current window's histogram
  uint32_t candidates[kCandidates];  // the keys of the current window's tokens, when they fit
  unsigned long long warp_sums[kWarps];
  unsigned long long slice_weight[kDrawSlices];  // the draw's kept weight per slice
  unsigned candidate_count;  // how many were found, kept or not
  uint32_t bucket;           // the crossing bucket
  unsigned long long above;  // the measure above it
  unsigned long long part_weight;  // the draw's kept weight in this block's piece of the row
  // A cluster's scan: this block's sum of its buckets, then what the others' sums give it.
  unsigned long long block_total, blocks_above, cluster_total;
  int holder;  // the rank of the block whose buckets hold the crossing
  bool fits;   // every piece's crossing keys are in its candidates
};

// Adds each member lane's measure m (1 when counting) to its bucket. Where every member shares one
// bucket (a crowded bucket, equal logits) the warp adds once: 32 atomics on one address would
// serialize.
template <bool kByWeight>
__device__ __forceinline__ void add_measure(SplitMeasure& measure, bool member, uint32_t bucket, uint32_t m, int lane) {
  const unsigned members = __ballot_sync(kFullWarp, member);
  if (!members) return;
  const int leader = __ffs(members) - 1;
  const uint32_t shared_bucket = __shfl_sync(kFullWarp, bucket, leader);
  if (__all_sync(kFullWarp, !member || bucket == shared_bucket)) {
    unsigned long long sum = __popc(members);
    if constexpr (kByWeight)  // m <= 2^31: the halves' sums over 32 lanes fit 32 bits
      sum = (static_cast<unsigned long long>(__reduce_add_sync(kFullWarp, member ? m >> 16 : 0u)) << 16) +
            __reduce_add_sync(kFullWarp, member ? m & 0xFFFFu : 0u);
    if (lane == leader) add_to_bucket(measure, shared_bucket, sum);
  } else if (member) {
    add_to_bucket(measure, bucket, m);
  }
}

// Appends the member lanes' keys to the candidates (as far as they fit), one counter add per warp.
__device__ __forceinline__ void collect_keys(WindowSearchShared& s, bool member, uint32_t key, int lane) {
  const unsigned members = __ballot_sync(kFullWarp, member);
  if (!members) return;
  const int leader = __ffs(members) - 1;
  unsigned first = 0;
  if (lane == leader) first = atomicAdd(&s.candidate_count, static_cast<unsigned>(__popc(members)));
  first = __shfl_sync(kFullWarp, first, leader);
  const unsigned slot = first + __popc(members & ((1u << lane) - 1u));
  if (member && slot < kCandidates) s.candidates[slot] = key;
}

// Adds one token (x: its logit) of window w to the histogram, and its key to the candidates when
// `collect`. Every lane calls it (NaN for none): it holds warp intrinsics.
template <bool kByWeight>
__device__ __forceinline__ void histogram_token(WindowSearchShared& s, KeyWindow w, float x, float top, float scale,
                                                bool collect, int lane) {
  const uint32_t key = logit_order_key(x);
  const bool member = key_in_window(w, key);  // never for NaN: w lies within [lowest_weighted_key, top's key]
  const uint32_t m = kByWeight && member ? token_weight(x, top, scale) : 1u;
  add_measure<kByWeight>(s.measure, member, key_bucket(w, key), m, lane);
  if (collect) collect_keys(s, member, key, lane);
}

// One histogram of the tokens in window w: from the row's piece r, copying their keys to the
// candidates when `collect`, or from the candidates. Trip counts are uniform so that every lane
// reaches the warp intrinsics.
template <bool kByWeight>
__device__ void window_histogram(const RowSplit& r, bool from_candidates, bool collect, KeyWindow w, float top,
                                 float scale, WindowSearchShared& s) {
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32;
  if (from_candidates) {
    const int n = static_cast<int>(s.candidate_count);
    for (int base = 0; base < n; base += kThreads) {
      const float x = base + tid < n ? logit_of_order_key(s.candidates[base + tid]) : kNaN;
      histogram_token<kByWeight>(s, w, x, top, scale, false, lane);
    }
    return;
  }
  for (int64_t v0 = tid; v0 - tid < r.vectors; v0 += int64_t{kVectors} * kThreads) {
    float4 x[kVectors];
#pragma unroll
    for (int b = 0; b < kVectors; ++b) {
      const int64_t v = v0 + b * kThreads;
      x[b] = v < r.vectors ? __ldg(r.body + v) : nan4();
    }
#pragma unroll
    for (int b = 0; b < kVectors; ++b) {
      histogram_token<kByWeight>(s, w, x[b].x, top, scale, collect, lane);
      histogram_token<kByWeight>(s, w, x[b].y, top, scale, collect, lane);
      histogram_token<kByWeight>(s, w, x[b].z, top, scale, collect, lane);
      histogram_token<kByWeight>(s, w, x[b].w, top, scale, collect, lane);
    }
  }
  histogram_token<kByWeight>(s, w, edge_element(r, tid), top, scale, collect, lane);
}

// The largest key K of window w whose measure over the row's tokens of keys >= K reaches the target:
// their count `count_target` (kByWeight false), or top_p_target(top_p, the weight of the window's
// tokens); w.lo when every token of the window together falls short. Each block of the cluster
// measures its piece r (and keeps its piece's candidates); every round adds up the pieces'
// histograms, so every block finds the same buckets. `collect_first`: the first pass copies the
// window's keys too (worth it where the window holds few tokens, as after a top-k cut).
template <bool kByWeight, int kParts>
__device__ uint32_t window_cut(const RowSplit& r, KeyWindow w, float top, float scale,
                               unsigned long long count_target, float top_p, bool collect_first,
                               WindowSearchShared& s) {
  using Cluster = RowCluster<kParts>;
  constexpr int kPerThread = kBucketsPerThread<kParts>;
  const int tid = static_cast<int>(threadIdx.x), rank = Cluster::rank();
  // Thread t of block `rank` scans the buckets from the top: position 0 (thread 0 of the first block)
  // holds the highest kPerThread of them. Each thread adds up its buckets over the pieces.
  const int position = rank * kThreads + tid;
  unsigned long long above = 0, target = count_target;
  bool from_candidates = false;
  for (int round = 0;; ++round) {
    const bool collect = !from_candidates && (round > 0 || collect_first);
    for (int b = tid; b < static_cast<int>(kKeyWindowBuckets); b += kThreads) s.measure.low[b] = s.measure.high[b] = 0;
    if (collect && tid == 0) s.candidate_count = 0;
    __syncthreads();
    window_histogram<kByWeight>(r, from_candidates, collect, w, top, scale, s);
    Cluster::sync();  // every piece's histogram is complete
    const int highest = static_cast<int>(window_buckets(w)) - 1 - kPerThread * position;
    const int lowest = highest >= kPerThread - 1 ? highest - (kPerThread - 1) : 0;
    uint64_t measure[kPerThread] = {};
#pragma unroll 1  // one piece at a time: unrolled, the pieces' loads spill registers
    for (int p = 0; p < kParts; ++p) {
      const SplitMeasure& piece = *Cluster::at(&s.measure, p);
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) measure[i] += lowest + i <= highest ? bucket_measure(piece, lowest + i) : 0;
    }
    unsigned long long mine = 0;
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) mine += measure[i];
    unsigned long long block_total;
    const unsigned long long before = block_exclusive_scan(mine, s.warp_sums, block_total);
    // The measure of the buckets of the blocks above this one, the cluster's total, and which block
    // holds the crossing (one block: its own).
    unsigned long long blocks_above = 0, total = block_total;
    int holder = 0;
    bool fits = collect && s.candidate_count <= kCandidates;
    if constexpr (kParts == 1) {
      if (kByWeight && round == 0) target = top_p_target(top_p, total);
    } else {
      if (tid == 0) s.block_total = block_total;
      Cluster::sync();
      if (tid < 32) {  // lane p reads block p's
        const unsigned long long t = tid < kParts ? *Cluster::at(&s.block_total, tid) : 0;
        const unsigned count = tid < kParts && collect ? *Cluster::at(&s.candidate_count, tid) : 0;
        const unsigned long long through = warp_inclusive_scan(t, tid);  // blocks 0..lane
        const unsigned long long all = __shfl_sync(kFullWarp, through, 31);
        const unsigned long long goal = kByWeight && round == 0 ? top_p_target(top_p, all) : target;
        const unsigned crossing = __ballot_sync(kFullWarp, tid < kParts && above + through >= goal);
        if (tid == rank) s.blocks_above = through - t;
        if (tid == 0) {
          s.cluster_total = all;
          s.holder = crossing ? __ffs(crossing) - 1 : 0;
        }
        const bool ok = __all_sync(kFullWarp, count <= kCandidates);
        if (tid == 0) s.fits = collect && ok;
      }
      __syncthreads();
      blocks_above = s.blocks_above, total = s.cluster_total, holder = s.holder, fits = s.fits;
      if (kByWeight && round == 0) target = top_p_target(top_p, total);
    }
    const unsigned long long run = above + blocks_above + before;
    const bool short_of_target = above + total < target;  // the same in every thread; only in the first round
    if (!short_of_target && highest >= 0 && run < target && run + mine >= target) {  // exactly one thread
      const BucketCrossing crossing = crossing_bucket(measure, highest - lowest + 1, run, target);
      s.bucket = lowest + crossing.bucket;
      s.above = crossing.above;
    }
    Cluster::sync();  // the crossing is written
    const KeyWindow next = short_of_target ? w : bucket_window(w, *Cluster::at(&s.bucket, holder));
    const unsigned long long next_above = *Cluster::at(&s.above, holder);
    Cluster::sync();  // every block has read what it needs of the others before they are reset
    if (short_of_target) return w.lo;
    w = next;
    above = next_above;
    from_candidates = from_candidates || fits;
    if (w.lo == w.hi) return w.lo;
  }
}

// The weight of a token if the draw keeps it (its key within cut..top_key, cut >= lowest_weighted_key).
struct DrawWindow {
  uint32_t cut;
  uint32_t top_key;
  float top;
  float scale;
};

__device__ __forceinline__ uint32_t kept_weight(const DrawWindow& d, float x) {
  const uint32_t key = logit_order_key(x);
  return key - d.cut <= d.top_key - d.cut ? token_weight(x, d.top, d.scale) : 0u;
}

__device__ __forceinline__ unsigned long long kept_weight(const DrawWindow& d, const float4& x) {
  return static_cast<unsigned long long>(kept_weight(d, x.x)) + kept_weight(d, x.y) + kept_weight(d, x.z) +
         kept_weight(d, x.w);
}

// Walks x[0..n) (one lane's elements, in index order from index `first`) with the running weight
// from `before`: the index of the first kept token at which it passes u, -1 if none.
__device__ __forceinline__ int64_t walk(const DrawWindow& d, const float* x, int n, int64_t first,
                                        unsigned long long before, unsigned long long u) {
  for (int i = 0; i < n; ++i) {
    before += kept_weight(d, x[i]);
    if (before > u) return first + i;
  }
  return -1;
}

// The end (exclusive, in float4s) of the draw's slice j of `slice` float4s over piece r's body.
__device__ __forceinline__ int64_t slice_end(const RowSplit& r, int64_t slice, int j) {
  return (j + 1) * slice < r.vectors ? (j + 1) * slice : r.vectors;
}

// Warp 0 of the block whose piece r holds the draw point u (counted from the piece's first kept
// token; u < head + body + tail, the piece's kept weight in its head, slices and tail) walks to its
// token and one lane writes it to `out`. `mine` and `inclusive`: each lane's slices' weight and the
// warp's inclusive scan of it.
__device__ void walk_to_token(const RowSplit& r, const DrawWindow& d, unsigned long long u, unsigned long long head,
                              unsigned long long body, unsigned long long mine, unsigned long long inclusive,
                              int64_t slice, const unsigned long long* slice_weight, int32_t* out) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  if (u < head || u >= head + body) {  // in the head or the tail: lane 0 walks it
    if (lane == 0) {
      float x[3];
      const bool in_head = u < head;
      const int n = static_cast<int>(in_head ? r.head : r.tail);
      for (int i = 0; i < n; ++i) x[i] = r.row[(in_head ? 0 : r.tail_start) + i];
      *out = static_cast<int32_t>(walk(d, x, n, in_head ? 0 : r.tail_start, in_head ? 0 : head + body, u));
    }
    return;
  }
  // The slice that holds u, and the weight before it.
  unsigned long long before = head + inclusive - mine;
  int found = -1;
  if (before <= u && u < before + mine)
    for (int k = 0; k < kSlicesPerLane; ++k) {
      const unsigned long long w = slice_weight[kSlicesPerLane * lane + k];
      if (u < before + w) {
        found = kSlicesPerLane * lane + k;
        break;
      }
      before += w;
    }
  const int holder = __ffs(__ballot_sync(kFullWarp, found >= 0)) - 1;
  const int j = __shfl_sync(kFullWarp, found, holder);
  before = __shfl_sync(kFullWarp, before, holder);
  // Walk slice j in chunks: within a chunk index order is float4 b, then lane, then component.
  const int64_t end = slice_end(r, slice, j);
  for (int64_t c = j * slice; c < end; c += kDrawChunk)
    for (int b = 0; b < kVectors; ++b) {
      const int64_t v = c + b * 32 + lane;
      const float4 x = v < end ? __ldg(r.body + v) : nan4();
      const unsigned long long w = kept_weight(d, x);
      const unsigned long long through = before + warp_inclusive_scan(w, lane);
      if (through - w <= u && u < through) {  // exactly one lane
        const float xs[4] = {x.x, x.y, x.z, x.w};
        *out = static_cast<int32_t>(walk(d, xs, 4, r.body_index + 4 * v, through - w, u));
      }
      if (__any_sync(kFullWarp, through - w <= u && u < through)) return;
      before = __shfl_sync(kFullWarp, through, 31);
    }
}

// The draw point's token among the row's kept tokens in index order: the first whose running weight
// passes floor(random_bits * kept / 2^64). Each block of the cluster adds up the kept weight of its
// piece r, and the block whose piece holds the draw point walks it. Every thread calls it; one lane
// of one block writes `out`.
template <int kParts>
__device__ void draw_token(const RowSplit& r, const DrawWindow& d, uint64_t random_bits, WindowSearchShared& s,
                           int32_t* out) {
  using Cluster = RowCluster<kParts>;
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const int64_t slice = ((r.vectors + kDrawSlices - 1) / kDrawSlices + kDrawChunk - 1) / kDrawChunk * kDrawChunk;
  for (int j = warp; j < kDrawSlices; j += kWarps) {
    const int64_t end = slice_end(r, slice, j);
    unsigned long long sum = 0;
    for (int64_t c = j * slice; c < end; c += kDrawChunk) {
      float4 x[kVectors];
#pragma unroll
      for (int b = 0; b < kVectors; ++b) {
        const int64_t v = c + b * 32 + lane;
        x[b] = v < end ? __ldg(r.body + v) : nan4();
      }
#pragma unroll
      for (int b = 0; b < kVectors; ++b) sum += kept_weight(d, x[b]);
    }
    sum = warp_sum(sum);
    if (lane == 0) s.slice_weight[j] = sum;
  }
  __syncthreads();

  // Warp 0: the piece's head, its slices in order (lane l holds kSlicesPerLane of them), its tail.
  unsigned long long head = 0, body = 0, tail = 0, mine = 0, inclusive = 0;
  if (warp == 0) {
    head = warp_sum(lane < r.head ? kept_weight(d, r.row[lane]) : 0u);
    const float tail_x = lane < r.tail ? r.row[r.tail_start + lane] : kNaN;
    tail = warp_sum(kept_weight(d, tail_x));
#pragma unroll
    for (int k = 0; k < kSlicesPerLane; ++k) mine += s.slice_weight[kSlicesPerLane * lane + k];
    inclusive = warp_inclusive_scan(mine, lane);
    body = __shfl_sync(kFullWarp, inclusive, 31);
    if (lane == 0) s.part_weight = head + body + tail;
  }
  Cluster::sync();  // every piece's kept weight is known
  if (warp == 0) {
    const int part = Cluster::rank();
    unsigned long long before = 0, all = 0;
    for (int p = 0; p < kParts; ++p) {
      const unsigned long long w = *Cluster::at(&s.part_weight, p);
      before += p < part ? w : 0;
      all += w;
    }
    const unsigned long long u = draw_point(random_bits, all);
    if (before <= u && u - before < head + body + tail)
      walk_to_token(r, d, u - before, head, body, mine, inclusive, slice, s.slice_weight, out);
  }
  if constexpr (kParts > 1) Cluster::sync();  // no block leaves while another reads its part_weight
}

// One row per cluster of kParts blocks, each block on its piece of the row.
template <int kParts>
__global__ void __launch_bounds__(kThreads, 2) sample_rows_kernel(const float* __restrict__ logits, int64_t vocab,
                                                               int64_t ld, const SampleRowParams* __restrict__ params,
                                                               int32_t* __restrict__ out) {
  using Cluster = RowCluster<kParts>;
  begin_dependent_kernel();
  __shared__ Candidate warp_best[kWarps];
  __shared__ Candidate part_best[2];
  __shared__ WindowSearchShared search;
  const int64_t index = blockIdx.x / kParts;
  const int part = Cluster::rank();
  const RowSplit r = split_row(logits + index * ld, vocab, part, kParts);
  const int tid = static_cast<int>(threadIdx.x);
  const SampleRowParams p = params ? params[index] : SampleRowParams{};
  const bool greedy = samples_greedily(p);
  const Candidate best = greedy ? row_argmax<kParts, true>(r, warp_best, part_best)
                                : row_argmax<kParts, false>(r, warp_best, part_best);
  if (greedy || best.index == kNone || !isfinite(best.value)) {
    if (part == 0 && tid == 0) out[index] = best.index == kNone ? -1 : best.index;
    if constexpr (kParts > 1) Cluster::sync();  // no block leaves while another reads its part_best
    return;
  }
  const float top = best.value, scale = p.exponent_scale;
  const uint32_t top_key = logit_order_key(top);
  uint32_t cut = lowest_weighted_key(top, scale);  // tokens below it weigh nothing
  if (p.top_k > 0)
    cut = window_cut<false, kParts>(r, key_window(cut, top_key), top, scale, static_cast<unsigned long long>(p.top_k),
                                    1.0f, false, search);
  if (p.top_p < 1.0f)
    cut = window_cut<true, kParts>(r, key_window(cut, top_key), top, scale, 0, p.top_p, p.top_k > 0, search);
  draw_token<kParts>(r, DrawWindow{cut, top_key, top, scale}, p.random_bits, search, out + index);
}

template <int kParts>
void launch_sample_rows(const float* logits, int64_t rows, int64_t vocab, int64_t ld, const SampleRowParams* params,
                        int32_t* out, cudaStream_t stream) {
  launch_dependent_cluster(sample_rows_kernel<kParts>, dim3(static_cast<unsigned>(rows * kParts)), dim3(kParts),
                           kThreads, 0, stream, logits, vocab, ld, params, out);
}

}  // namespace

void sample_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, const SampleRowParams* params,
                     int32_t* out, cudaStream_t stream, int blocks_per_row) {
  require(rows >= 0 && vocab >= 1 && vocab <= INT32_MAX - 1 && ld >= vocab,
          "sample_rows: invalid shape rows=" + std::to_string(rows) + " vocab=" + std::to_string(vocab) +
              " ld=" + std::to_string(ld) + " (need 1 <= vocab < 2^31 - 1, ld >= vocab)");
  require(blocks_per_row == 0 || blocks_per_row == 1 || blocks_per_row == 2 || blocks_per_row == 4 ||
              blocks_per_row == 8,
          "sample_rows: blocks_per_row " + std::to_string(blocks_per_row) + " (need 0, 1, 2, 4 or 8)");
  if (rows == 0) return;
  require(logits && out, "sample_rows: a required device pointer is null");
  require(reinterpret_cast<uintptr_t>(logits) % sizeof(float) == 0 &&
              reinterpret_cast<uintptr_t>(params) % alignof(SampleRowParams) == 0,
          "sample_rows: logits must be 4-byte aligned, params 8-byte aligned");
  int device = 0, cc_major = 0, sms = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, device));
  require(blocks_per_row <= 1 || cc_major >= 9, "sample_rows: blocks_per_row " + std::to_string(blocks_per_row) +
                                                    " needs thread-block clusters (compute capability 9.0 or later)");
  if (blocks_per_row == 0) {
    // The kernel's blocks per SM are fixed by its registers and shared memory: asked once, not on
    // every launch (the engine runs one GPU architecture per process).
    static const int per_sm = [] {
      int n = 0;
      CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, sample_rows_kernel<1>, kThreads, 0));
      return n;
    }();
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    blocks_per_row = sampling_blocks_per_row(rows, sms, per_sm, cc_major);
  }
  require(rows * blocks_per_row <= INT_MAX, "sample_rows: too many rows (" + std::to_string(rows) + ") for one launch");
  switch (blocks_per_row) {
    case 1: return launch_sample_rows<1>(logits, rows, vocab, ld, params, out, stream);
    case 2: return launch_sample_rows<2>(logits, rows, vocab, ld, params, out, stream);
    case 4: return launch_sample_rows<4>(logits, rows, vocab, ld, params, out, stream);
    default: return launch_sample_rows<8>(logits, rows, vocab, ld, params, out, stream);
  }
}

int sampling_blocks_per_row(int64_t rows, int sms, int blocks_per_sm, int cc_major) {
  if (cc_major < 9) return 1;
  for (int blocks = 8; blocks >= 2; blocks /= 2)
    if (rows * blocks <= sms) return blocks;
  return rows * 2 <= int64_t{sms} * blocks_per_sm ? 2 : 1;
}

void argmax_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, int32_t* out, cudaStream_t stream,
                     int blocks_per_row) {
  sample_rows_gpu(logits, rows, vocab, ld, nullptr, out, stream, blocks_per_row);
}

}  // namespace slidesparse
