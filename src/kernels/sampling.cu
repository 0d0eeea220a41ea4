// Row sampling (kernels/sampling.h): one block per row.
//
// The argmax, which every row starts with: the row is split into a scalar head up to the first
// 16-byte boundary, a body of 16-byte float4 loads (kBatch in flight per thread, so a block keeps
// 64 KB of reads outstanding: bandwidth-bound even when few rows occupy few SMs) and a scalar tail.
// Every comparison uses the full (value, index) order, so the result does not depend on which thread
// saw which element or on the reduction order. Greedy rows stop there, reading with evict-first
// loads; sampled rows read their row again and keep it cached.
//
// A sampled row's cuts (math/token_sampling.h) are found by radix selection on the 32-bit order
// keys, 8 bits per pass from the top: each pass adds up the count (top-k) or weight (top-p) of the
// keys that share the bits found so far, per value of their next 8 bits, and one warp finds the
// bucket where the running measure from the top reaches the target. The adds go to the warp's own
// histogram, aggregated over the lanes that share a digit (add_to_histogram): logits of similar
// size share their top bits, and atomics of every lane or every warp on one bucket would serialize
// the pass. The draw: each
// thread adds up the kept weights of a contiguous segment of the row, a block scan of those sums
// gives the kept total and where each segment starts, and the thread whose segment holds the draw
// point walks it again to the token. Integer weights make every sum exact, so the token is the CPU
// Sampler's whatever order the threads add in.
#include "kernels/sampling.h"

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/dependent_launch.cuh"

namespace slidesparse {

namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kBatch = 8;
constexpr int kUnroll = 4;  // elements loaded ahead per thread in the radix and draw passes
constexpr int kBuckets = 256;
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

// The row's (largest value, lowest index), the same in every thread.
template <bool kStreaming>
__device__ Candidate block_argmax(const float* row, int64_t vocab, Candidate* warp_best) {
  const int tid = static_cast<int>(threadIdx.x);
  Candidate best{-__int_as_float(0x7F800000), kNone};
  const int64_t misalignment = static_cast<int64_t>(reinterpret_cast<uintptr_t>(row) % 16 / sizeof(float));
  const int64_t head = misalignment ? (vocab < 4 - misalignment ? vocab : 4 - misalignment) : 0;
  const int64_t body = (vocab - head) / 4;  // float4 count
  if (tid < head) consider(best, row[tid], tid);

  const float4* vec = reinterpret_cast<const float4*>(row + head);
  for (int64_t v0 = tid; v0 < body; v0 += kBatch * kThreads) {
    float4 x[kBatch];
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int64_t v = v0 + b * kThreads;
      x[b] = v < body ? load_body<kStreaming>(vec + v) : make_float4(__int_as_float(0x7FC00000), 0, 0, 0);
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int64_t v = v0 + b * kThreads;
      if (v >= body) break;
      const int32_t i = static_cast<int32_t>(head + 4 * v);
      consider(best, x[b].x, i);
      consider(best, x[b].y, i + 1);
      consider(best, x[b].z, i + 2);
      consider(best, x[b].w, i + 3);
    }
  }
  const int64_t tail = head + 4 * body + tid;
  if (tail < vocab) consider(best, row[tail], static_cast<int32_t>(tail));

#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float value = __shfl_xor_sync(kFullWarp, best.value, offset);
    const int32_t index = __shfl_xor_sync(kFullWarp, best.index, offset);
    consider(best, value, index);
  }
  if (tid % 32 == 0) warp_best[tid / 32] = best;
  __syncthreads();
  best = warp_best[0];
  for (int w = 1; w < kWarps; ++w) consider(best, warp_best[w].value, warp_best[w].index);
  return best;
}

// Adds each taking lane's count (1) or weight to its digit's bin of the warp's own histogram, one
// add per digit where lanes share it. Counts: the lanes with the same digit found by
// __match_any_sync, their number by popc. Weights: a reduction over those groups' own masks
// compiles to a loop that runs once per group, serialized (Nsight Compute: half the kernel's
// stalls), so the digits most lanes share go in warp-uniform rounds, one full-warp reduction per
// digit, and the lanes of rarer digits then add one by one (top-p over 128k logits 1.2-1.3x faster;
// the same rounds for counts were 1.6-1.8x slower than match + popc).
constexpr int kUniformRounds = 4;

template <bool kByWeight>
__device__ __forceinline__ void add_to_histogram(unsigned long long* bins, bool take, uint32_t digit, uint32_t w,
                                                 int lane) {
  if constexpr (!kByWeight) {
    const unsigned takers = __ballot_sync(kFullWarp, take);
    if (!take) return;
    const unsigned peers = __match_any_sync(takers, digit);
    if (lane == __ffs(peers) - 1) atomicAdd(&bins[digit], static_cast<unsigned long long>(__popc(peers)));
    return;
  }
  unsigned remaining = __ballot_sync(kFullWarp, take);
  for (int round = 0; round < kUniformRounds && remaining; ++round) {
    // Lanes of the groups taken before have other digits, so every lane with this one is still here.
    const uint32_t d = __shfl_sync(kFullWarp, digit, __ffs(remaining) - 1);
    const bool mine = take && digit == d;
    const unsigned group = __ballot_sync(kFullWarp, mine);
    // w <= 2^31: the halves' sums over 32 lanes fit 32 bits.
    const unsigned long long add =
        (static_cast<unsigned long long>(__reduce_add_sync(kFullWarp, mine ? w >> 16 : 0u)) << 16) +
        __reduce_add_sync(kFullWarp, mine ? w & 0xFFFFu : 0u);
    if (lane == __ffs(group) - 1) atomicAdd(&bins[d], add);
    remaining &= ~group;
  }
  if (remaining >> lane & 1u) atomicAdd(&bins[digit], static_cast<unsigned long long>(w));
}

struct SearchShared {
  unsigned long long per_warp[kWarps][kBuckets];  // each warp's own sums: no atomic waits on another warp
  unsigned long long measure[kBuckets];  // per digit: the count or weight of the keys with it
  unsigned long long above;              // measure of the keys above the chosen bucket
  uint32_t prefix;                       // the cut's bits found so far
  int found;
};

// The largest key K >= lo whose measure over {key >= K} reaches the target, keys below lo left out:
// by count with target `count_target` (kByWeight false), or by weight with the target
// top_p_target(top_p, weight of every key >= lo). lo when even every key >= lo falls short.
template <bool kByWeight>
__device__ uint32_t radix_cut(const float* row, int64_t vocab, float top, float scale, uint32_t lo,
                              unsigned long long count_target, float top_p, SearchShared& s) {
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  uint32_t prefix = 0;
  unsigned long long above = 0, target = count_target;  // target: warp 0's copy is the one used
  for (int pass = 0; pass < 4; ++pass) {
    const int shift = 24 - 8 * pass;
    const uint32_t high = pass == 0 ? 0u : kFullWarp << (shift + 8);  // the bits found so far
    for (int b = tid; b < kWarps * kBuckets; b += kThreads) (&s.per_warp[0][0])[b] = 0;
    __syncthreads();
    // A uniform trip count: every lane reaches the warp intrinsics.
    for (int64_t base = 0; base < vocab; base += int64_t{kUnroll} * kThreads) {
      float x[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t i = base + u * kThreads + tid;
        x[u] = i < vocab ? row[i] : __int_as_float(0x7FC00000);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const uint32_t key = logit_order_key(x[u]);
        bool take = !isnan(x[u]) && key >= lo && (key & high) == prefix;
        // By weight, tokens of weight 0 add nothing and cannot be where the weight reaches a target > 0.
        const uint32_t w = kByWeight && take ? token_weight(x[u], top, scale) : 1u;  // <= 2^31
        take = take && w > 0;
        add_to_histogram<kByWeight>(s.per_warp[warp], take, (key >> shift) & 0xFFu, w, lane);
      }
    }
    __syncthreads();
    for (int b = tid; b < kBuckets; b += kThreads) {
      unsigned long long sum = 0;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) sum += s.per_warp[w][b];
      s.measure[b] = sum;
    }
    __syncthreads();
    if (warp == 0) {  // lane l holds buckets 255 - 8l - j, j = 0..7: the keys in descending order
      unsigned long long mine[8], sum = 0;
#pragma unroll
      for (int j = 0; j < 8; ++j) sum += mine[j] = s.measure[kBuckets - 1 - 8 * lane - j];
      unsigned long long inclusive = sum;
#pragma unroll
      for (int offset = 1; offset < 32; offset <<= 1) {
        const unsigned long long v = __shfl_up_sync(kFullWarp, inclusive, offset);
        if (lane >= offset) inclusive += v;
      }
      const unsigned long long total = __shfl_sync(kFullWarp, inclusive, 31);
      if (kByWeight && pass == 0) target = top_p_target(top_p, total);
      unsigned long long run = above + inclusive - sum;
      if (run < target && run + sum >= target) {  // one lane: the crossing is among its buckets
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          if (run + mine[j] >= target) {
            s.prefix = prefix | (static_cast<uint32_t>(kBuckets - 1 - 8 * lane - j) << shift);
            s.above = run;
            break;
          }
          run += mine[j];
        }
      }
      if (lane == 0) s.found = above + total >= target;
    }
    __syncthreads();
    if (!s.found) return lo;  // only on the first pass: later ones refine a bucket that reached it
    prefix = s.prefix;
    above = s.above;
    __syncthreads();  // everyone has read s before the next pass writes it
  }
  return prefix;
}

// The weight of the tokens of [first, last) at or above the cut.
__device__ __forceinline__ unsigned long long segment_weight(const float* row, int64_t first, int64_t last, float top,
                                                             float scale, uint32_t cut) {
  unsigned long long sum = 0;
  for (int64_t i = first; i < last; i += kUnroll) {
    float x[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) x[u] = i + u < last ? row[i + u] : __int_as_float(0x7FC00000);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (!isnan(x[u]) && logit_order_key(x[u]) >= cut) sum += token_weight(x[u], top, scale);
  }
  return sum;
}

__global__ void __launch_bounds__(kThreads) sample_rows_kernel(const float* __restrict__ logits, int64_t vocab,
                                                               int64_t ld, const SampleRowParams* __restrict__ params,
                                                               int32_t* __restrict__ out) {
  begin_dependent_kernel();
  __shared__ Candidate warp_best[kWarps];
  __shared__ SearchShared search;
  __shared__ unsigned long long warp_sums[kWarps];
  const float* row = logits + int64_t{blockIdx.x} * ld;
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const SampleRowParams p = params ? params[blockIdx.x] : SampleRowParams{};
  const bool greedy = samples_greedily(p);
  const Candidate best = greedy ? block_argmax<true>(row, vocab, warp_best) : block_argmax<false>(row, vocab, warp_best);
  if (greedy || best.index == kNone || !isfinite(best.value)) {
    if (tid == 0) out[blockIdx.x] = best.index == kNone ? -1 : best.index;
    return;
  }
  const float top = best.value, scale = p.exponent_scale;
  uint32_t cut = 0;
  if (p.top_k > 0) cut = radix_cut<false>(row, vocab, top, scale, 0, static_cast<unsigned long long>(p.top_k), 0, search);
  if (p.top_p < 1.0f) cut = radix_cut<true>(row, vocab, top, scale, cut, 0, p.top_p, search);

  // The draw: contiguous segments, a block scan of their weights, one thread's walk.
  const int64_t per = (vocab + kThreads - 1) / kThreads;
  const int64_t first = tid * per < vocab ? tid * per : vocab, last = first + per < vocab ? first + per : vocab;
  const unsigned long long mine = segment_weight(row, first, last, top, scale, cut);
  unsigned long long inclusive = mine;
#pragma unroll
  for (int offset = 1; offset < 32; offset <<= 1) {
    const unsigned long long v = __shfl_up_sync(kFullWarp, inclusive, offset);
    if (lane >= offset) inclusive += v;
  }
  if (lane == 31) warp_sums[warp] = inclusive;
  __syncthreads();
  unsigned long long before = inclusive - mine, kept = 0;
  for (int w = 0; w < kWarps; ++w) {
    before += w < warp ? warp_sums[w] : 0;
    kept += warp_sums[w];
  }
  const unsigned long long u = draw_point(p.random_bits, kept);
  if (before <= u && u < before + mine) {  // exactly one thread: the segments tile [0, kept)
    unsigned long long running = before;
    for (int64_t i = first; i < last; ++i) {
      const float x = row[i];
      if (isnan(x) || logit_order_key(x) < cut) continue;
      running += token_weight(x, top, scale);
      if (running > u) {
        out[blockIdx.x] = static_cast<int32_t>(i);
        break;
      }
    }
  }
}

}  // namespace

void sample_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, const SampleRowParams* params,
                     int32_t* out, cudaStream_t stream) {
  require(rows >= 0 && vocab >= 1 && vocab <= INT32_MAX - 1 && ld >= vocab,
          "sample_rows: invalid shape rows=" + std::to_string(rows) + " vocab=" + std::to_string(vocab) +
              " ld=" + std::to_string(ld) + " (need 1 <= vocab < 2^31 - 1, ld >= vocab)");
  require(rows <= INT_MAX, "sample_rows: too many rows (" + std::to_string(rows) + ") for one launch");
  if (rows == 0) return;
  require(logits && out, "sample_rows: a required device pointer is null");
  require(reinterpret_cast<uintptr_t>(logits) % sizeof(float) == 0 &&
              reinterpret_cast<uintptr_t>(params) % alignof(SampleRowParams) == 0,
          "sample_rows: logits must be 4-byte aligned, params 8-byte aligned");
  launch_dependent(sample_rows_kernel, static_cast<unsigned>(rows), kThreads, 0, stream, logits, vocab, ld, params,
                   out);
}

void argmax_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, int32_t* out, cudaStream_t stream) {
  sample_rows_gpu(logits, rows, vocab, ld, nullptr, out, stream);
}

}  // namespace slidesparse
