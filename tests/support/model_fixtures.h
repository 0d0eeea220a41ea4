// Fixtures shared by the CPU reference-model tests and the GPU engine tests: transformers' oracle
// logits for the tiny committed BitNet (tests/data), a logits comparison, and the dense twin of a
// SlideSparse conversion.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace slidesparse::testing {

// tests/data/tiny_bitnet_expected.safetensors: oracle.input_ids [B, T] and oracle.logits [B, T, V].
struct Oracle {
  std::vector<std::vector<int32_t>> sequences;
  std::vector<float> logits;  // [sequences, tokens, vocab]
  int64_t tokens = 0, vocab = 0;
};
Oracle load_oracle();

struct Agreement {
  double max_diff_over_rms = 0;  // max |ours - oracle| / rms(oracle)
  double mean_relative = 0;      // mean |ours - oracle| / mean |oracle|
  double argmax = 0;             // fraction of rows whose argmax agrees
};
Agreement compare_logits(const std::vector<float>& ours, const std::vector<float>& oracle, int64_t vocab);

// A prepared checkpoint whose linear weights are pruned to 2:L exactly as `convert` prunes them
// (magnitude, lowest index on ties, seed 0, the tensor's stream): the dense twin of the conversion.
void write_pruned_dense(const std::filesystem::path& prepared, const std::filesystem::path& out, int group);

}  // namespace slidesparse::testing
