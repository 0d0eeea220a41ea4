#include "math/prune.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <string>

#include "core/counter_rng.h"
#include "core/error.h"
#include "core/parallel.h"

namespace slidesparse {

namespace {

constexpr int kZerosPerGroup = 2;

int64_t rows_per_chunk(int64_t k) { return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, k)); }

// Column of the non-zero to prune next by magnitude: smallest |code|, then smallest |latent|, then
// lowest index (strict comparisons keep the first). bf16 bits with the sign cleared order exactly
// like the magnitudes they encode, so the latent is compared as an integer.
int smallest_nonzero(const float* magnitude, const uint8_t* codes, const uint16_t* latent, uint64_t nonzeros) {
  int best = -1;
  float best_code = 0.0f;
  uint16_t best_latent = 0;
  for (; nonzeros; nonzeros &= nonzeros - 1) {
    const int i = std::countr_zero(nonzeros);
    const float code = magnitude[codes[i]];
    const uint16_t lat = latent ? latent[i] & 0x7FFF : 0;
    if (best < 0 || code < best_code || (code == best_code && lat < best_latent)) {
      best = i;
      best_code = code;
      best_latent = lat;
    }
  }
  return best;
}

// A uniformly chosen non-zero: the top 32 random bits scaled to [0, count) by a multiply (Lemire's
// range reduction; bias below count / 2^32), which avoids a 64-bit division per pick.
int random_nonzero(uint64_t nonzeros, uint64_t bits) {
  const uint64_t count = static_cast<uint64_t>(std::popcount(nonzeros));
  for (uint64_t skip = ((bits >> 32) * count) >> 32; skip; --skip) nonzeros &= nonzeros - 1;
  return std::countr_zero(nonzeros);
}

// Prunes one row; parameters by value so the byte stores do not force reloads of shared state.
// Returns the zeros added and adds the row's zeros (padding excluded) to zeros_before.
int64_t prune_row(QuantKind kind, const float* magnitude, PruneOptions options, int64_t row, int64_t k,
                  uint8_t* codes_row, int64_t& zeros_before) {
  const int group = options.group;
  const int64_t groups = (k + group - 1) / group;
  int64_t added = 0;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t base = g * group;
    const int width = static_cast<int>(std::min<int64_t>(group, k - base));
    uint8_t* codes = codes_row + base;
    uint64_t nonzeros = nonzero_mask(kind, codes, width);
    const int count = std::popcount(nonzeros);
    zeros_before += width - count;
    for (int pick = 0; pick < kZerosPerGroup - (group - count); ++pick) {
      int victim;
      if (options.mode == PruneMode::Magnitude) {
        const uint16_t* latent = options.latent_bf16 ? options.latent_bf16 + row * k + base : nullptr;
        victim = smallest_nonzero(magnitude, codes, latent, nonzeros);
      } else {
        const uint64_t counter = (static_cast<uint64_t>(row) * groups + g) * kZerosPerGroup + pick;
        victim = random_nonzero(nonzeros, counter_hash(options.seed, options.stream, counter));
      }
      codes[victim] = 0;
      nonzeros &= ~(uint64_t{1} << victim);
      ++added;
    }
  }
  return added;
}

}  // namespace

PruneStats prune_rows(QuantKind kind, uint8_t* w, int64_t rows, int64_t k, const PruneOptions& options) {
  require(options.group >= kZerosPerGroup && options.group <= 64,
          "prune: group L = " + std::to_string(options.group) + " must be in [2, 64]");
  std::array<float, 256> magnitude;
  for (int c = 0; c < 256; ++c) magnitude[c] = code_magnitude(kind, static_cast<uint8_t>(c));
  std::atomic<int64_t> zeros_before{0};
  std::atomic<int64_t> zeros_added{0};
  parallel_for(rows, rows_per_chunk(k), [&](int64_t begin, int64_t end) {
    int64_t before = 0;
    int64_t added = 0;
    for (int64_t r = begin; r < end; ++r)
      added += prune_row(kind, magnitude.data(), options, r, k, w + r * k, before);
    zeros_before += before;
    zeros_added += added;
  });
  return PruneStats{zeros_before.load(), zeros_added.load()};
}

int64_t count_pattern_violations(QuantKind kind, const uint8_t* w, int64_t rows, int64_t k, int group, int zeros) {
  require(group >= 1, "pattern check: group L = " + std::to_string(group) + " must be positive");
  const int64_t groups = (k + group - 1) / group;
  std::atomic<int64_t> violations{0};
  parallel_for(rows, rows_per_chunk(k), [&](int64_t begin, int64_t end) {
    int64_t local = 0;
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t base = g * group;
        const int width = static_cast<int>(std::min<int64_t>(group, k - base));
        int zero_count = group - width;  // padding
        for (int i = 0; i < width; ++i) zero_count += code_is_zero(kind, w[r * k + base + i]);
        local += zero_count < zeros;
      }
    }
    violations += local;
  });
  return violations.load();
}

}  // namespace slidesparse
