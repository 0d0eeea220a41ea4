// The record and the table of every memory-bound kernel benchmark (activation quantization, the
// fused norms, RoPE + KV write, argmax): what one launch moves, its time, and the achieved bandwidth
// against the device-to-device copy bandwidth measured on the spot (bench/device_ceilings.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "math/sparsity.h"

namespace slidesparse {

struct BandwidthRow {
  std::string kernel;  // e.g. "int8", "fp8+norm", "rope_kv int32", "argmax"
  Sparsity sparsity;   // the weights the kernel feeds: 2:L slides by L, dense does not slide
  int64_t rows = 0;    // M: tokens or logit rows
  int64_t cols = 0;    // K, the QKV width or the vocabulary
  double us = 0, gbps = 0, fraction_of_copy = 0;
  std::string launch;  // the launch shape timed and the kernel it ran, where the benchmark chose one
};

// Column headings of the rows and cols fields ("M" / "K", "rows" / "cols").
struct BandwidthColumns {
  std::string rows = "M", cols = "K";
  bool group = true;  // an L column ("-" for rows without a slide)
};

// A fixed-width text table, one line per row, the kernel column as wide as its longest name, and a
// launch column where some row has one ("-" for the others):
//   kernel  L      M     K         us      GB/s  of copy  launch
//   int8    -   1024  2560       4.10      1281    30.1%  128x1
std::string format_bandwidth_rows(const std::vector<BandwidthRow>& rows, const BandwidthColumns& columns);

}  // namespace slidesparse
