// What `slidesparse pipeline` runs: the nine tasks with the protocols of docs/PROTOCOLS.md by default,
// and the --quick profile for a first look.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "math/sparsity.h"
#include "math/weight_code.h"

namespace slidesparse {

struct PipelineOptions {
  std::string model;                 // empty: `synth` of `preset`; a hub repo id; a local BF16 directory
  std::string preset = "bitnet-2b";  // only without --model
  uint64_t seed = 0;                 // synth weights and benchmark prompts
  std::filesystem::path out = "runs/pipeline";
  std::array<bool, 9> tasks{true, true, true, true, true, true, true, true, true};
  std::vector<QuantKind> kinds{QuantKind::Int8, QuantKind::Fp8E4M3};
  // tasks 2, 4, 5, 7 (and 3's fine pass)
  std::vector<Sparsity> sparsities{Sparsity::two_of(4), Sparsity::two_of(6), Sparsity::two_of(8), Sparsity::two_of(10)};
  // task 8
  std::vector<Sparsity> low_sparsities{Sparsity::two_of(12), Sparsity::two_of(14), Sparsity::two_of(16),
                                       Sparsity::two_of_inf()};
  std::vector<int64_t> prefill_ms{512, 1024, 2048, 4096, 8192, 16384, 32768};
  std::vector<int64_t> decode_ms{64, 128, 256, 512};
  std::vector<int64_t> kernel_ms{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  std::vector<int64_t> tune_coarse_ms{256, 1024, 4096, 16384, 32768};
  std::vector<int64_t> tune_fine_ms{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
  bool tune_fine = true;
  // Task 9: the perplexity of every checkpoint on this text (none: the task is skipped).
  std::filesystem::path eval_text;
  int eval_context = 1024, eval_stride = 512;
  int kernel_warmup = 25, kernel_repeat = 50;
  bool restart = false;     // forget OUT/pipeline_status.json (results are rewritten as units run)
  bool console_log = true;  // copy everything the console shows into OUT/pipeline.log
  // This invocation, kept by the fresh processes it continues in after a GPU fault (empty: a new id
  // is drawn). A unit that failed within the same invocation is not tried again.
  std::string run_id;
  // Tests only (SLIDESPARSE_PIPELINE_TEST_FAULT): this unit fails as if it had broken the CUDA
  // context, so the fresh-process continuation can be exercised without a GPU fault.
  std::string inject_fault_unit;
};

// --quick: the bitnet-small preset (unless --model), both dtypes, 2:4 and 2:8 (task 8: 2:inf), prefill
// M 512,2048, decode M 64,256, kernel M 256,4096, coarse tuning only at M 1024,4096. Options given
// explicitly on the command line are applied after it.
void apply_quick_profile(PipelineOptions& options);

// "1,1,0,0,0,0,0,0,0" -> tasks 1 and 2. Eight flags (the form of older builds) leave task 9 on.
// Throws Error "option '--tasks' expects 9 comma-separated 0/1 flags (e.g. 1,1,0,0,0,0,0,0,0), got
// '<text>'".
std::array<bool, 9> parse_task_mask(const std::string& text);

// Checkpoint names: "BitNet-2B" for the bitnet-2b preset and for --model, "BitNet-Small" and
// "BitNet-Tiny" for the smaller presets.
std::string pipeline_model_label(const PipelineOptions& options);

}  // namespace slidesparse
