// `slidesparse synth`: a BF16 BitNet checkpoint with the released model's tensor names, shapes,
// dtypes and config.json, filled deterministically from a seed. The built-in model every later
// command can run on, since real weights cannot be downloaded everywhere.
#pragma once

#include <cstdint>
#include <filesystem>

#include "checkpoint/bitnet_layout.h"

namespace slidesparse {

struct SynthOptions {
  BitnetDims dims;
  uint64_t seed = 0;
  std::filesystem::path output;
  bool force = false;
};

struct SynthResult {
  int64_t tensors = 0;
  uint64_t bytes = 0;
};

// Linear weights and the embedding ~ N(0, 0.02^2) (the released initializer_range), norms ~
// 1 + N(0, 0.05^2); all bf16. Written atomically into options.output, with placeholder tokenizer
// files (text/placeholder_tokenizer.h) so that the text commands run on it.
SynthResult synth_bitnet(const SynthOptions& options);

}  // namespace slidesparse
