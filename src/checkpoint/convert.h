// `slidesparse convert`: prepared W8A8 checkpoint -> SlideSparse 2:L checkpoint (prune to 2:L, slide into 2:4 windows).
// Each linear weight is pruned to 2:L, verified, slid into [N, K'] (2:4-valid, every non-zero kept
// exactly once, verified) and written uncompressed; scales and all other tensors are copied.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "math/prune.h"
#include "math/sparsity.h"

namespace slidesparse {

struct ConvertOptions {
  std::filesystem::path input;
  std::filesystem::path output;  // empty: <input>-SlideSparse-2_L beside the input
  Sparsity pattern = Sparsity::two_of(4);  // a finite 2:L
  PruneMode mode = PruneMode::Magnitude;
  uint64_t seed = 0;
  std::filesystem::path source;  // optional BF16 latent checkpoint for magnitude tie-breaking
  bool force = false;
};

struct ConvertedLinear {
  std::string name;
  int64_t n = 0, k = 0, k_slid = 0;
  int64_t zeros_before = 0;  // zeros of the ternary weight before pruning
  int64_t zeros_added = 0;   // zeros added by pruning
};

struct ConvertResult {
  std::filesystem::path output;
  std::vector<ConvertedLinear> linears;
  double seconds = 0;
};

std::filesystem::path default_convert_output(const std::filesystem::path& input, Sparsity pattern);

ConvertResult convert_slidesparse(const ConvertOptions& options);

}  // namespace slidesparse
