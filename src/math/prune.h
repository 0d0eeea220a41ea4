// Pruning one-byte weight codes to Z:L (Z = 2) per row, in L-aligned groups; the row is treated as
// right-padded with zeros to a multiple of L and existing zeros (padding included) count.
#pragma once

#include <cstdint>

#include "math/weight_code.h"

namespace slidesparse {

enum class PruneMode {
  // Zero the non-zeros of smallest |w|. Ties (all ternary non-zeros tie at 1) are broken by the
  // smaller latent magnitude |latent| when latent weights are given, then by the lower column index.
  Magnitude,
  // Zero uniformly random non-zeros, from a counter-based hash of (seed, stream, row, group): the
  // result does not depend on thread count or processing order.
  Random,
};

struct PruneOptions {
  int group = 4;  // L
  PruneMode mode = PruneMode::Magnitude;
  uint64_t seed = 0;
  uint64_t stream = 0;                   // distinguishes tensors under one seed
  const uint16_t* latent_bf16 = nullptr;  // optional [rows, K] latent weights for tie-breaking
};

struct PruneStats {
  int64_t zeros_before = 0;  // zero codes in [rows, K] before pruning (padding not counted)
  int64_t zeros_added = 0;
};

// Prunes w [rows, K] in place (parallel over rows).
PruneStats prune_rows(QuantKind kind, uint8_t* w, int64_t rows, int64_t k, const PruneOptions& options);

// Number of L-aligned groups (with zero padding) holding fewer than `zeros` zeros; 0 = valid.
int64_t count_pattern_violations(QuantKind kind, const uint8_t* w, int64_t rows, int64_t k, int group,
                                 int zeros = 2);

}  // namespace slidesparse
