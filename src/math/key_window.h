// The cut search of the sampling rule (math/token_sampling.h) by buckets of order keys relative to a
// window, shared by the CPU Sampler (sequences/sampler.h) and the GPU sampler (kernels/sampling.cu).
//
// A cut is the largest key K of a window [lo, hi] at which a measure of the keys >= K (their count
// for top-k, their weight for top-p) reaches a target. Only tokens of non-zero weight can matter, and
// their keys lie between lowest_weighted_key and the largest logit's key, so the search starts from
// that window rather than from all 2^32 keys: split into at most 2^11 buckets of 2^shift consecutive
// keys each, one histogram of the measure per bucket finds the bucket where the running measure from
// the top reaches the target, that bucket becomes the next window, and so on until a bucket is one
// key. A window of w keys takes ceil(log2(w) / 11) histograms (three at most, one for w <= 2048), and
// after the first only the tokens of the crossing bucket remain to be looked at: where logits are
// spread, few (docs/PERF.md, "Sampling on the device").
#pragma once

#include <cstdint>

#include "math/rmsnorm_grid.h"  // SLIDESPARSE_HOST_DEVICE

namespace slidesparse {

inline constexpr int kKeyWindowDigitBits = 11;
inline constexpr uint32_t kKeyWindowBuckets = 1u << kKeyWindowDigitBits;

// The keys lo..hi (inclusive, lo <= hi) in buckets of 2^shift keys, bucket 0 starting at lo.
struct KeyWindow {
  uint32_t lo = 0;
  uint32_t hi = 0;
  int shift = 0;
};

// The window [lo, hi] with the narrowest buckets that keep their number at most kKeyWindowBuckets.
SLIDESPARSE_HOST_DEVICE inline KeyWindow key_window(uint32_t lo, uint32_t hi) {
  KeyWindow w{lo, hi, 0};
  while ((hi - lo) >> w.shift >= kKeyWindowBuckets) ++w.shift;  // at most 21: (2^32 - 1) >> 21 = 2047
  return w;
}

// Whether lo <= key <= hi, in one unsigned comparison.
SLIDESPARSE_HOST_DEVICE inline bool key_in_window(const KeyWindow& w, uint32_t key) {
  return key - w.lo <= w.hi - w.lo;
}

// The bucket of a key inside the window; buckets grow with the key.
SLIDESPARSE_HOST_DEVICE inline uint32_t key_bucket(const KeyWindow& w, uint32_t key) { return (key - w.lo) >> w.shift; }

// How many buckets the window has (the last one may hold fewer than 2^shift keys).
SLIDESPARSE_HOST_DEVICE inline uint32_t window_buckets(const KeyWindow& w) { return ((w.hi - w.lo) >> w.shift) + 1; }

// The keys of one bucket (< window_buckets(w)) as a window of their own.
SLIDESPARSE_HOST_DEVICE inline KeyWindow bucket_window(const KeyWindow& w, uint32_t bucket) {
  const uint32_t lo = w.lo + (bucket << w.shift);
  const uint32_t last = (1u << w.shift) - 1;  // shift <= 21
  return key_window(lo, w.hi - lo <= last ? w.hi : lo + last);
}

// Where the measure from the top reaches a target: the highest bucket b with
// above + measure[b] + ... + measure[buckets - 1] >= target, and `above` grown by the buckets over b.
struct BucketCrossing {
  bool found = false;  // false: even every bucket together falls short of the target
  uint32_t bucket = 0;
  uint64_t above = 0;  // the measure above the window plus that of the buckets over `bucket`
};

SLIDESPARSE_HOST_DEVICE inline BucketCrossing crossing_bucket(const uint64_t* measure, uint32_t buckets, uint64_t above,
                                                             uint64_t target) {
  for (uint32_t b = buckets; b-- > 0;) {
    if (above + measure[b] >= target) return {true, b, above};
    above += measure[b];
  }
  return {false, 0, above};
}

}  // namespace slidesparse
