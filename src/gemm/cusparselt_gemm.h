// Sparse W8A8 GEMM on cuSPARSELt: the SlideSparse weight W' [N, K'] (2:4 along K') is the
// structured operand, compressed once at load; quantized, lifted activations X' [M_pad, K'] are the
// dense operand. As for cuBLASLt, per padded row count a plan (descriptors, algorithm, split-K) is
// built on first use and reused; run() only launches, so it is safe inside CUDA graph capture once
// every M has been prepared.
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <string>
#include <vector>

#include "gemm/cusparselt_library.h"
#include "gemm/gemm_types.h"
#include "gpu/device_buffer.h"

namespace slidesparse {

class CusparseLtGemm {
 public:
  explicit CusparseLtGemm(const GemmShape& shape);  // loads cuSPARSELt (clear error if missing)
  ~CusparseLtGemm();
  CusparseLtGemm(const CusparseLtGemm&) = delete;
  CusparseLtGemm& operator=(const CusparseLtGemm&) = delete;

  const GemmShape& shape() const { return shape_; }

  // Checks that w [n, k] (device, row-major) is 2:4 along k and compresses it into an owned buffer;
  // returns its index for run(). Plans depend on the shape only, so one object serves every weight
  // of that shape (e.g. the same linear of all layers). Throws Error if w is not 2:4-valid.
  int compress(const void* w, cudaStream_t stream);
  size_t compressed_bytes() const;

  // Number of algorithm configurations the library offers for m rows (alg ids 0..count-1).
  int algorithm_count(int64_t m);
  // Pins alg id and split-K (1 = none, -1 = Segment-K on SM90) for m rows; rebuilds its plan.
  void set_algorithm(int64_t m, int alg_id, int split_k);
  // Builds the plan for m rows if absent (alg 0, library default split-K unless pinned).
  void prepare(int64_t m);
  size_t workspace_bytes(int64_t m) const;
  // What the plan for m rows runs, as the library reports it: "alg 7 split-k 1 (mode 0)".
  std::string describe_plan(int64_t m) const;

  // d [m, n] = x [m, k] . W'^T with compressed weight `weight`; scale_w [n] (device) for
  // WeightInGemm, else unused.
  void run(const void* x, void* d, int64_t m, const float* scale_w, void* workspace, size_t workspace_size,
           cudaStream_t stream, int weight = 0);

 private:
  struct Plan {
    // Each plan has its own descriptor of the weight: plan initialization may record the chosen
    // kernel's needs in the descriptor, so one shared by several plans serves only the last.
    cusparseLtMatDescriptor_t w_desc{}, x_desc{}, d_desc{};
    cusparseLtMatmulDescriptor_t matmul{};
    cusparseLtMatmulAlgSelection_t selection{};
    cusparseLtMatmulPlan_t plan{};
    size_t workspace = 0;
    int alg_id = 0, split_k = 1;
    bool ready = false;
  };
  Plan& descriptors_for(int64_t m);
  void build_plan(Plan& plan, int alg_id, int split_k, bool set_split_k);
  void destroy_plan(Plan& plan);

  void init_weight_descriptor(cusparseLtMatDescriptor_t& desc) const;

  const CusparseLt& lib_;
  GemmShape shape_;
  cusparseLtMatDescriptor_t w_desc_{};  // for checking and compressing the weights
  std::vector<DeviceBuffer> compressed_;
  std::map<int64_t, Plan> plans_;  // node-based: descriptors keep stable addresses for the library
};

}  // namespace slidesparse
