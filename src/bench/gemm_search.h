// Algorithm search for one GEMM shape at one M, shared by `tune` and `bench kernel`: every cuBLASLt
// heuristic candidate, or every cuSPARSELt alg id x split-K {1, 2, 4, Segment-K (SM90)}. Each
// candidate is first checked against our reference GEMM on the same operands (bench/gemm_reference.h;
// output poisoned before the run), then screened with a short timing; the best few are re-timed with
// the full warmup/repeat protocol and checked once more replayed from a CUDA graph, as the engine's
// decode steps run them, cycling through copies of the weight so that each launch reads it from
// memory as the engine does (bench/gpu_timer.h, cold_weight_copies). A candidate the library
// refuses, that fails to run or that computes a wrong result is dropped and reported with the reason.
#pragma once

#include <cuda_runtime.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/gemm_reference.h"
#include "gemm/cublaslt_gemm.h"
#include "gemm/cusparselt_gemm.h"
#include "gemm/gemm_types.h"
#include "gpu/device_buffer.h"
#include "tuning/tuning_db.h"

namespace slidesparse {

struct SearchProtocol {
  int warmup = 25;
  int repeat = 50;
  int screen_warmup = 3;
  int screen_repeat = 10;
  int finalists = 3;
  int max_cublaslt_candidates = 32;
  size_t max_workspace = size_t{64} << 20;
};

struct RejectedChoice {
  int index = 0;        // position in the candidate list (stable for a shape, M and library version)
  std::string choice;   // describe_gemm_choice()
  std::string reason;   // "refused by the library", "failed to run: ...", "wrong result: ...", ...
};

struct SearchResult {
  std::vector<GemmChoice> ranked;  // best first (full-protocol latency for the finalists)
  int candidates = 0;              // configurations that ran correctly
  std::vector<RejectedChoice> rejected;
};

// "alg 3 split-k 2", "alg 0 segment-k", "cuBLASLt heuristic 4 (workspace 0)".
std::string describe_gemm_choice(GemmBackend backend, const GemmChoice& choice, int index = -1);

// One GEMM shape with random operands (sized for max_m rows) and its backend object (the sparse
// weight compressed once); searched at any M up to max_m.
class GemmSearcher {
 public:
  GemmSearcher(GemmBackend backend, const GemmShape& shape, int64_t max_m, cudaStream_t stream);
  ~GemmSearcher();

  // `skip`: candidate indices left out (recorded by the caller, e.g. ones that crashed a worker
  // process). `before_candidate(index, description)`, when set, is called before each candidate
  // runs. Throws Error when a candidate breaks the CUDA context (a kernel fault).
  SearchResult search(int64_t m, const SearchProtocol& protocol, const std::set<int>& skip = {},
                      const std::function<void(int, const std::string&)>& before_candidate = {});

 private:
  std::vector<GemmChoice> candidates(int64_t rows, const SearchProtocol& protocol);
  double time_current(int64_t m, int warmup, int repeat);
  void run_current(int64_t rows, int copy = 0);  // copy: which of the weight's copies
  bool apply(int64_t m, const GemmChoice& choice);  // false if the library rejects the configuration
  GemmCheck check_current(int64_t rows, bool in_graph);

  GemmBackend backend_;
  GemmShape shape_;
  cudaStream_t stream_;
  DeviceBuffer weight_, activations_, output_, scale_w_, scale_x_, workspace_, reference_;
  // Timing cycles through cold_weight_copies() copies of the weight (weight_ is the first; for
  // cuSPARSELt, compressed indices 0..copies-1), so each launch reads it from memory.
  std::vector<DeviceBuffer> weight_copies_;
  int copies_ = 1;
  int64_t reference_rows_ = 0;  // rows reference_ holds the accumulator for (0: none yet)
  std::unique_ptr<CublasLtGemm> dense_;
  std::unique_ptr<CusparseLtGemm> sparse_;
};

}  // namespace slidesparse
