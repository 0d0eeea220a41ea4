#include "math/slide.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/parallel.h"

namespace slidesparse {

namespace {

// Rows per parallel chunk: enough columns that thread hand-off is negligible next to the work.
int64_t rows_per_chunk(int64_t columns) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, columns));
}

// Greedy allocation of one row: each window takes its group's two lowest unplaced non-zeros. Everything arrives by value: the byte stores would
// otherwise force the compiler to reload shared fields after every write. Returns the first group
// whose non-zeros could not all be placed, or -1.
int64_t slide_row(QuantKind kind, SlideGeometry geometry, const uint8_t* src, uint8_t* dst) {
  const int64_t k = geometry.k;
  const int group = geometry.group;
  const int windows = geometry.windows_per_group;
  const int width_slid = geometry.group_width_slid();
  // The short last group is read from a zero-padded copy so that every group loads L bytes.
  uint8_t tail[64] = {};
  const int64_t tail_base = (geometry.groups - 1) * group;
  std::memcpy(tail, src + tail_base, static_cast<size_t>(k - tail_base));
  int64_t bad_group = -1;
  for (int64_t g = 0; g < geometry.groups; ++g) {
    const uint8_t* codes = g * group + group <= k ? src + g * group : tail;
    uint64_t unplaced = nonzero_mask(kind, codes, group);  // bit i: non-zero, not yet copied
    uint8_t* out = dst + g * width_slid;
    for (int window = 0; window < windows; ++window) {
      // The window covers columns 2w..2w+3 and takes its two lowest unplaced non-zeros.
      const uint64_t candidates = unplaced & (uint64_t{0xF} << (2 * window));
      const uint64_t first = candidates & (~candidates + 1);
      const uint64_t rest = candidates & ~first;
      const uint64_t taken = first | (rest & (~rest + 1));
      unplaced &= ~taken;
      for (int lane = 0; lane < 4; ++lane) {
        const int i = 2 * window + lane;
        out[window * 4 + lane] = codes[i] & static_cast<uint8_t>(0 - (taken >> i & 1));
      }
    }
    if (unplaced && bad_group < 0) bad_group = g;
  }
  std::memset(dst + geometry.k_raw, 0, static_cast<size_t>(geometry.k_slid - geometry.k_raw));
  return bad_group;
}

}  // namespace

SlideGeometry make_slide_geometry(int64_t k, int group) {
  require(group >= 4 && group % 2 == 0,
          "slide geometry: group L = " + std::to_string(group) + " must be even and at least 4");
  require(k > 0, "slide geometry: K must be positive, got " + std::to_string(k));
  SlideGeometry g;
  g.group = group;
  g.windows_per_group = group / 2 - 1;
  g.k = k;
  g.groups = (k + group - 1) / group;
  g.k_padded = g.groups * group;
  g.k_raw = g.groups * g.group_width_slid();
  g.k_slid = (g.k_raw + 31) / 32 * 32;
  return g;
}

int64_t slide_source_column(const SlideGeometry& geometry, int64_t j) {
  if (j < 0 || j >= geometry.k_raw) return -1;
  const int64_t width = geometry.group_width_slid();
  const int64_t group = j / width;
  const int64_t window = (j % width) / 4;
  const int64_t source = group * geometry.group + 2 * window + j % 4;
  return source < geometry.k ? source : -1;
}

std::vector<int32_t> slide_column_map(const SlideGeometry& geometry) {
  std::vector<int32_t> map(static_cast<size_t>(geometry.k_slid));
  for (int64_t j = 0; j < geometry.k_slid; ++j) map[j] = static_cast<int32_t>(slide_source_column(geometry, j));
  return map;
}

void slide_weight_rows(QuantKind kind, const SlideGeometry& geometry, const uint8_t* w, int64_t rows,
                       uint8_t* w_slid) {
  require(geometry.group <= 64,
          "slide: group L = " + std::to_string(geometry.group) + " exceeds the 64 columns one row mask tracks");
  parallel_for(rows, rows_per_chunk(geometry.k_slid), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t bad_group = slide_row(kind, geometry, w + r * geometry.k, w_slid + r * geometry.k_slid);
      if (bad_group >= 0)
        fail("slide: row " + std::to_string(r) + " group " + std::to_string(bad_group) +
             " has fewer than 2 zeros; prune to 2:" + std::to_string(geometry.group) + " before sliding");
    }
  });
}

void unslide_weight_rows(const SlideGeometry& geometry, const uint8_t* w_slid, int64_t slid_stride, int64_t rows,
                         uint8_t* w) {
  require(slid_stride >= geometry.k_slid, "unslide: rows of " + std::to_string(slid_stride) +
                                              " codes are narrower than K' = " + std::to_string(geometry.k_slid));
  const std::vector<int32_t> map = slide_column_map(geometry);
  parallel_for(rows, rows_per_chunk(geometry.k_slid), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* src = w_slid + r * slid_stride;
      uint8_t* dst = w + r * geometry.k;
      std::memset(dst, 0, static_cast<size_t>(geometry.k));
      for (int64_t j = 0; j < geometry.k_slid; ++j) {
        if (src[j] == 0) continue;
        if (map[j] < 0 || dst[map[j]] != 0)
          fail("unslide: row " + std::to_string(r) + " slid column " + std::to_string(j) +
               (map[j] < 0 ? " is padding but holds a non-zero"
                           : " puts a second non-zero in column " + std::to_string(map[j])) +
               ": not a slid 2:" + std::to_string(geometry.group) + " weight");
        dst[map[j]] = src[j];
      }
    }
  });
}

void lift_activation_rows(const SlideGeometry& geometry, const uint8_t* x_q, int64_t rows, uint8_t* x_slid) {
  const std::vector<int32_t> map = slide_column_map(geometry);
  parallel_for(rows, rows_per_chunk(geometry.k_slid), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* src = x_q + r * geometry.k;
      uint8_t* dst = x_slid + r * geometry.k_slid;
      for (int64_t j = 0; j < geometry.k_slid; ++j) dst[j] = map[j] < 0 ? 0 : src[map[j]];
    }
  });
}

}  // namespace slidesparse
