// Fixtures shared by the checkpoint, CPU reference-model, runtime and GPU engine tests: a folder of
// checkpoints (source, prepared, converted), transformers' oracle logits for the tiny committed
// BitNet (tests/data), a logits comparison, and the dense twin of a SlideSparse conversion.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "math/weight_code.h"
#include "test_support.h"

namespace slidesparse::testing {

// The checkpoints a test suite works on, written under one folder by write_checkpoints:
//   bf16/                   synth's bitnet-tiny (seed, intermediate_size), unless `source` is given
//   int8/, fp8/             prepare_w8a8 of the BF16 source, one per entry of `kinds`
//   int8-SlideSparse-2_L/   convert_slidesparse of int8/ to 2:L, one per entry of `groups`
struct CheckpointSet {
  std::filesystem::path source;   // a BF16 checkpoint to prepare; empty: synth into bf16/
  uint64_t seed = 0;              // synth's seed
  int64_t intermediate_size = 0;  // synth's FFN width; 0: the preset's
  std::vector<QuantKind> kinds{QuantKind::Int8};
  std::vector<int> groups;  // requires QuantKind::Int8 in kinds
};
void write_checkpoints(const std::filesystem::path& dir, const CheckpointSet& set);

// A test suite whose tests share one folder of checkpoints (dir_), written once before the first
// test by write_checkpoints(dir, Suite::checkpoints()) and removed after the last.
template <typename Suite>
class CheckpointSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir();
    write_checkpoints(dir_->path(), Suite::checkpoints());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static inline ScratchDir* dir_ = nullptr;
};

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

// `convert --pruned-dense` of `prepared` to 2:L with the fixtures' convert options (magnitude, lowest
// index on ties): the dense twin of their SlideSparse conversion.
void write_pruned_dense(const std::filesystem::path& prepared, const std::filesystem::path& out, int group);

}  // namespace slidesparse::testing
