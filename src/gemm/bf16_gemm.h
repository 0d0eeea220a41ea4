// The model's one floating-point GEMM: lm_head, logits fp32 [m, n] = x bf16 [m, k] . W bf16 [n, k]^T
// on cuBLASLt (fp32 accumulation and output, so greedy argmax sees fewer ties than bf16 logits
// would give). Per row count a plan is built on first prepare() and reused; run() only launches.
// Without split-K, every row count sums each logit's products in the same order (row-count
// invariant logits, for batch-invariant engines).
#pragma once

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <map>

namespace slidesparse {

class Bf16Gemm {
 public:
  Bf16Gemm(int64_t n, int64_t k, bool no_split_k = false);
  ~Bf16Gemm();
  Bf16Gemm(const Bf16Gemm&) = delete;
  Bf16Gemm& operator=(const Bf16Gemm&) = delete;

  // Operands to time candidate algorithms on (their contents do not matter).
  struct TimingOperands {
    const __nv_bfloat16* w;
    const __nv_bfloat16* x;
    float* d;
    void* workspace;
    cudaStream_t stream;
  };
  // Without `timing` the heuristic's first choice is taken; with it (start-up only: it synchronizes)
  // its first kMaxCandidates are timed and the fastest kept — at decode row counts the first choice
  // reads the 656 MB weight at well under the bandwidth (docs/PERF.md).
  void prepare(int64_t m, size_t max_workspace, const TimingOperands* timing = nullptr);
  static constexpr int kMaxCandidates = 8;
  // The timing: launches to warm the GPU, then rounds over the candidates, launches per round.
  static constexpr int kWarmupLaunches = 20, kTimingRounds = 3, kTimedLaunches = 3;
  size_t workspace_bytes(int64_t m) const;
  void run(const __nv_bfloat16* w, const __nv_bfloat16* x, float* d, int64_t m, void* workspace,
           size_t workspace_size, cudaStream_t stream) const;

 private:
  struct Plan {
    cublasLtMatrixLayout_t x_layout = nullptr, d_layout = nullptr;
    cublasLtMatmulAlgo_t algo{};
    size_t workspace = 0;
  };
  int64_t n_, k_;
  bool no_split_k_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t w_layout_ = nullptr;
  std::map<int64_t, Plan> plans_;
};

}  // namespace slidesparse
