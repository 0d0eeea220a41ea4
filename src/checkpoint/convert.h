// `slidesparse convert`: prepared W8A8 checkpoint -> SlideSparse 2:L checkpoint (prune to 2:L, slide into 2:4 windows).
// Each linear weight is pruned to 2:L, verified, slid into [N, K'] (2:4-valid, every non-zero kept
// exactly once, verified) and written uncompressed; scales and all other tensors are copied. With
// slide off, the pruned weights are written as they are, [N, K], as a prepared W8A8 checkpoint: the
// dense model of the same pruned weights (the baseline that isolates what pruning costs in quality
// and what the sparse GEMMs buy in speed).
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
  std::filesystem::path output;  // empty: <input>-SlideSparse-2_L (slid) or <input>-pruned-2_L beside the input
  Sparsity pattern = Sparsity::two_of(4);  // a finite 2:L
  PruneMode mode = PruneMode::Magnitude;
  uint64_t seed = 0;
  std::filesystem::path source;  // optional BF16 latent checkpoint for magnitude tie-breaking
  bool force = false;
  bool slide = true;  // false: the pruned weights [N, K] as a prepared W8A8 checkpoint
};

struct ConvertedLinear {
  std::string name;
  int64_t n = 0, k = 0, k_slid = 0;  // k_slid: the slid width K' (0 when not slid)
  int64_t zeros_before = 0;  // zeros of the ternary weight before pruning
  int64_t zeros_added = 0;   // zeros added by pruning
};

struct ConvertResult {
  std::filesystem::path output;
  std::vector<ConvertedLinear> linears;
  double seconds = 0;
};

std::filesystem::path default_convert_output(const std::filesystem::path& input, Sparsity pattern, bool slide = true);

ConvertResult convert_slidesparse(const ConvertOptions& options);

}  // namespace slidesparse
