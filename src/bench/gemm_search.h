// Algorithm search for one GEMM shape at one M, shared by `tune` and `bench kernel`: every cuBLASLt
// heuristic candidate, or every cuSPARSELt alg id x split-K {1, 2, 4, Segment-K (SM90)}; each candidate
// is screened with a short timing, the best few are re-timed with the full warmup/repeat protocol.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <vector>

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

struct SearchResult {
  std::vector<GemmChoice> ranked;  // best first (full-protocol latency for the finalists)
  int candidates = 0;              // configurations that ran
};

// One GEMM shape with random operands (sized for max_m rows) and its backend object (the sparse
// weight compressed once); searched at any M up to max_m.
class GemmSearcher {
 public:
  GemmSearcher(GemmBackend backend, const GemmShape& shape, int64_t max_m, cudaStream_t stream);
  ~GemmSearcher();

  SearchResult search(int64_t m, const SearchProtocol& protocol);

 private:
  double time_current(int64_t m, int warmup, int repeat);
  bool apply(int64_t m, const GemmChoice& choice);  // false if the library rejects the configuration

  GemmBackend backend_;
  GemmShape shape_;
  cudaStream_t stream_;
  DeviceBuffer weight_, activations_, output_, scale_w_, scale_x_, workspace_;
  std::unique_ptr<CublasLtGemm> dense_;
  std::unique_ptr<CusparseLtGemm> sparse_;
};

}  // namespace slidesparse
