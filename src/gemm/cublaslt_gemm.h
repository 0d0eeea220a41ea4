// Dense W8A8 GEMM on cuBLASLt (INT8 -> int32, FP8 E4M3 -> bf16/fp32), TN layout. The matmul
// descriptor and weight layout are built once per shape; per padded row count a plan (activation
// and output layouts + algorithm) is built on first use and reused, so steady-state calls only
// launch. Plans for every M the caller will use should be prepared before CUDA graph capture.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <optional>
#include <vector>

#include "gemm/gemm_types.h"

namespace slidesparse {

cublasLtHandle_t cublaslt_handle();  // process-wide

class CublasLtGemm {
 public:
  explicit CublasLtGemm(const GemmShape& shape);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm&) = delete;
  CublasLtGemm& operator=(const CublasLtGemm&) = delete;

  const GemmShape& shape() const { return shape_; }

  // The library's heuristic candidates for m rows (padded), in its order; for the tuner.
  std::vector<cublasLtMatmulHeuristicResult_t> heuristic_candidates(int64_t m, int max_count, size_t max_workspace);
  // Pins the algorithm for m rows (from tuning); throws Error if cuBLASLt rejects it for this shape.
  void set_algorithm(int64_t m, const cublasLtMatmulAlgo_t& algo, size_t workspace_bytes);
  // Builds the plan for m rows if absent (first heuristic candidate unless pinned).
  void prepare(int64_t m, size_t max_workspace);
  size_t workspace_bytes(int64_t m) const;

  // d [m, n] = x [m, k] . w [n, k]^T with the shape's scale mode: scale_w [n] for WeightInGemm and
  // BothInGemm, scale_x [m] for BothInGemm (device pointers, may be null otherwise).
  void run(const void* w, const void* x, void* d, int64_t m, const float* scale_w, const float* scale_x,
           void* workspace, size_t workspace_size, cudaStream_t stream);

 private:
  struct Plan {
    cublasLtMatrixLayout_t x_layout = nullptr;
    cublasLtMatrixLayout_t d_layout = nullptr;
    cublasLtMatmulAlgo_t algo{};
    size_t workspace = 0;
    bool has_algo = false;
  };
  Plan& plan_for(int64_t m);

  GemmShape shape_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t w_layout_ = nullptr;
  std::map<int64_t, Plan> plans_;
};

}  // namespace slidesparse
