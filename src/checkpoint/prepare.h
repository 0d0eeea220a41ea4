// `slidesparse prepare`: BitNet BF16 latent (or released packed-ternary) checkpoint -> W8A8 INT8 or
// FP8 checkpoint. Each linear weight becomes its ternary values in int8 / E4M3 [N, K]
// plus `<name>_scale` = s (F32 [1], multiplies); everything else is copied unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_kind.h"
#include "math/weight_code.h"

namespace slidesparse {

struct PrepareOptions {
  std::filesystem::path input;
  std::filesystem::path output;
  QuantKind kind = QuantKind::Int8;
  bool force = false;
};

struct PreparedLinear {
  std::string name;
  float scale = 0;
  int64_t zeros = 0;
  int64_t numel = 0;
};

struct PrepareResult {
  CheckpointKind source = CheckpointKind::LatentBf16;
  std::vector<PreparedLinear> linears;
  int64_t tensors_written = 0;
};

// From BF16: s = max(mean|W|, 1e-5), T = clamp(rne(W / s), -1, 1). From the packed layout: T is
// unpacked and s = 1 / weight_scale (transformers' BitLinear divides the output by weight_scale).
PrepareResult prepare_w8a8(const PrepareOptions& options);

}  // namespace slidesparse
