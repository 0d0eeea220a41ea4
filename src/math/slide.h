// Sliding-window decomposition of 2:L groups into overlapping 2:4 windows (window 4, stride 2), and
// the matching activation "lifting": slid column j' = (g*NW + w)*4 + lane takes original column
// map(j') = g*L + 2w + lane (group g, window w of NW = L/2 - 1, lane 0..3).
#pragma once

#include <cstdint>
#include <vector>

#include "math/weight_code.h"

namespace slidesparse {

struct SlideGeometry {
  int group = 4;                // L
  int windows_per_group = 1;    // NW = L/2 - 1
  int64_t k = 0;                // original K
  int64_t groups = 0;           // ceil(K / L)
  int64_t k_padded = 0;         // groups * L
  int64_t k_raw = 0;            // groups * (2L - 4)
  int64_t k_slid = 0;           // K' = ceil(k_raw / 32) * 32

  int group_width_slid() const { return 2 * group - 4; }
  double expand_ratio() const { return 2.0 - 4.0 / group; }
};

// Throws Error for L odd or < 4, or K <= 0.
SlideGeometry make_slide_geometry(int64_t k, int group);

// Original column feeding slid column j (0 <= j < k_slid), or -1 where the slid column is padding
// (j >= k_raw, or the source lies in the L-padding past K).
int64_t slide_source_column(const SlideGeometry& geometry, int64_t j);

// The whole map, one entry per slid column (-1 for padding).
std::vector<int32_t> slide_column_map(const SlideGeometry& geometry);

// Greedy allocation of each row of w [rows, K] (one-byte codes) into w_slid [rows, K'] (fully
// written). Every non-zero lands exactly once and every 4-chunk of K' holds at most two; throws Error
// naming the row and group if a group has fewer than two zeros (its values cannot all be placed).
void slide_weight_rows(QuantKind kind, const SlideGeometry& geometry, const uint8_t* w, int64_t rows,
                       uint8_t* w_slid);

// The inverse of slide_weight_rows: w [rows, K] (fully written) from slid rows of `slid_stride` >=
// K' codes (columns past K' ignored), each non-zero code returned to its source column, the rest 0.
// Runs a 2:L linear's pruned weight on a dense GEMM. Throws Error naming the row and column if two
// non-zeros share a source column or one sits where no source column is (not slide_weight_rows's
// output).
void unslide_weight_rows(const SlideGeometry& geometry, const uint8_t* w_slid, int64_t slid_stride, int64_t rows,
                         uint8_t* w);

// Activation lifting of already-quantized codes: x_slid[m, j] = x_q[m, map(j)], 0 at padding.
void lift_activation_rows(const SlideGeometry& geometry, const uint8_t* x_q, int64_t rows,
                          uint8_t* x_slid);

}  // namespace slidesparse
