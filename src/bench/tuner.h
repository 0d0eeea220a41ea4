// `slidesparse tune` (pipeline task 3): offline search for every BitNet GEMM the engine will run
// and every launch configuration of our quantization kernels, stored in the tuning database.
// Coarse pass: cuBLASLt + quantize at coarse Ms (the dense GEMMs also at the fine Ms when 2:L patterns
// are tuned); fine pass: cuSPARSELt + quantize-slide at fine Ms.
// The engine's own decode batch sizes (decode_ms) are searched too for what the engine runs at every
// step: the cuBLASLt GEMMs and the fused norms. With only the coarse Ms, decode M=512 took the M=1024
// picks and ran slower than with no database at all (60.5k vs 66.5k tokens/s, docs/BENCHMARKS.md).
#pragma once

#include <filesystem>
#include <vector>

#include "bench/gemm_search.h"
#include "math/sparsity.h"
#include "math/weight_code.h"

namespace slidesparse {

struct TuneOptions {
  std::vector<QuantKind> kinds{QuantKind::Int8, QuantKind::Fp8E4M3};
  std::vector<Sparsity> sparsities{Sparsity::two_of(4), Sparsity::two_of(6), Sparsity::two_of(8),
                                   Sparsity::two_of(10)};  // of the sparse pass
  std::vector<int64_t> coarse_ms{256, 1024, 4096, 16384, 32768};
  std::vector<int64_t> fine_ms{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
  std::vector<int64_t> decode_ms{64, 128, 256, 512};
  bool dense = true, sparse = true, kernels = true;
  // FP8 cuBLASLt in the accumulation mode the engine will run (its default: fast); a database holds
  // choices for the mode searched only (GemmKey::fast_accum).
  bool fp8_fast_accum = true;
  // INT8 2:L: also the sparse scaled GEMM's tiles (for engines run with --cutlass-sparse).
  bool sparse_scaled_gemm = false;
  SearchProtocol protocol;
  std::filesystem::path db_path;
};

// Updates (or creates) the database at options.db_path; entries from earlier runs on the same
// hardware are kept unless searched again. Ctrl-C stops between searches (Error "interrupted"); every
// finished GEMM shape is saved by then.
void run_tune(const TuneOptions& options);

// The sorted, distinct Ms at which the cuBLASLt GEMMs and the fused norms are searched: the coarse
// Ms and the decode Ms.
std::vector<int64_t> engine_step_ms(const TuneOptions& options);

// The sorted, distinct Ms at which the cuSPARSELt GEMMs and the quantize-slide kernels are searched:
// the fine Ms and the decode Ms. A 2:L linear runs its dense fallback at a row count only where the
// database holds both GEMMs' times there, so the decode batch sizes need a sparse time as well.
std::vector<int64_t> sparse_search_ms(const TuneOptions& options);

// The sorted, distinct Ms at which the dense GEMMs (cuBLASLt, the INT8 scaled GEMM) are searched:
// engine_step_ms, and with 2:L patterns tuned sparse_search_ms too, so that a 2:L linear's dense
// fallback is compared with its sparse GEMM at every row count the sparse one was timed at.
std::vector<int64_t> dense_gemm_search_ms(const TuneOptions& options);

}  // namespace slidesparse
