#include "gemm/cublaslt_gemm.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

namespace {

template <typename T>
void set_desc(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute, const T& value) {
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof(value)));
}

}  // namespace

cublasLtHandle_t cublaslt_handle() {
  static std::once_flag once;
  static cublasLtHandle_t handle = nullptr;
  std::call_once(once, [] { CUBLAS_CHECK(cublasLtCreate(&handle)); });
  return handle;
}

CublasLtGemm::CublasLtGemm(const GemmShape& shape) : shape_(shape) {
  const bool int8 = shape.kind == QuantKind::Int8;
  CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc_, int8 ? CUBLAS_COMPUTE_32I : CUBLAS_COMPUTE_32F,
                                        int8 ? CUDA_R_32I : CUDA_R_32F));
  set_desc(desc_, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T);
  set_desc(desc_, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N);
  if (!int8 && shape.fast_accum) set_desc(desc_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, int8_t{1});
  if (shape.scales == ScaleMode::WeightInGemm)
    set_desc(desc_, CUBLASLT_MATMUL_DESC_POINTER_MODE, CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_ZERO);
  if (shape.scales == ScaleMode::BothInGemm) {
    set_desc(desc_, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, int32_t{CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F});
    set_desc(desc_, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, int32_t{CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F});
  }
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&w_layout_, cuda_input_type(shape.kind), shape.k, shape.n, shape.k));
}

CublasLtGemm::~CublasLtGemm() {
  for (auto& [m, plan] : plans_) {
    cublasLtMatrixLayoutDestroy(plan.x_layout);
    cublasLtMatrixLayoutDestroy(plan.d_layout);
  }
  if (w_layout_) cublasLtMatrixLayoutDestroy(w_layout_);
  if (desc_) cublasLtMatmulDescDestroy(desc_);
}

CublasLtGemm::Plan& CublasLtGemm::plan_for(int64_t m) {
  auto it = plans_.find(m);
  if (it != plans_.end()) return it->second;
  Plan plan;
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.x_layout, cuda_input_type(shape_.kind), shape_.k, m, shape_.k));
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.d_layout, cuda_output_type(shape_.output), shape_.n, m, shape_.n));
  return plans_.emplace(m, plan).first->second;
}

std::vector<cublasLtMatmulHeuristicResult_t> CublasLtGemm::heuristic_candidates(int64_t m, int max_count,
                                                                                  size_t max_workspace) {
  Plan& plan = plan_for(m);
  cublasLtMatmulPreference_t pref = nullptr;
  CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t workspace = max_workspace;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace);
  std::vector<cublasLtMatmulHeuristicResult_t> results(static_cast<size_t>(max_count));
  int returned = 0;
  const cublasStatus_t status =
      cublasLtMatmulAlgoGetHeuristic(cublaslt_handle(), desc_, w_layout_, plan.x_layout, plan.d_layout,
                                     plan.d_layout, pref, max_count, results.data(), &returned);
  cublasLtMatmulPreferenceDestroy(pref);
  if (status != CUBLAS_STATUS_SUCCESS) returned = 0;
  results.resize(static_cast<size_t>(returned));
  return results;
}

void CublasLtGemm::set_algorithm(int64_t m, const cublasLtMatmulAlgo_t& algo, size_t workspace_bytes) {
  Plan& plan = plan_for(m);
  cublasLtMatmulHeuristicResult_t check{};
  CUBLAS_CHECK(cublasLtMatmulAlgoCheck(cublaslt_handle(), desc_, w_layout_, plan.x_layout, plan.d_layout,
                                       plan.d_layout, &algo, &check));
  plan.algo = algo;
  plan.workspace = std::max(workspace_bytes, check.workspaceSize);
  plan.has_algo = true;
}

void CublasLtGemm::prepare(int64_t m, size_t max_workspace) {
  if (plan_for(m).has_algo) return;
  const auto candidates = heuristic_candidates(m, 1, max_workspace);
  require(!candidates.empty(), "cuBLASLt has no algorithm for " + std::string(quant_kind_name(shape_.kind)) +
                                   " -> " + std::string(gemm_output_name(shape_.output)) + " (" +
                                   std::string(scale_mode_name(shape_.scales)) + ") M=" + std::to_string(m) +
                                   " N=" + std::to_string(shape_.n) + " K=" + std::to_string(shape_.k) + " on this GPU");
  set_algorithm(m, candidates[0].algo, candidates[0].workspaceSize);
}

size_t CublasLtGemm::workspace_bytes(int64_t m) const {
  const auto it = plans_.find(m);
  return it == plans_.end() ? 0 : it->second.workspace;
}

void CublasLtGemm::run(const void* w, const void* x, void* d, int64_t m, const float* scale_w,
                       const float* scale_x, void* workspace, size_t workspace_size, cudaStream_t stream) {
  // Every GEMM of every eager step passes here: messages are built only on failure.
  const auto it = plans_.find(m);
  if (it == plans_.end() || !it->second.has_algo)
    fail("cuBLASLt GEMM for M=" + std::to_string(m) + " was not prepared (call prepare before running)");
  const Plan& plan = it->second;
  if (plan.workspace > workspace_size)
    fail("cuBLASLt GEMM needs " + std::to_string(plan.workspace) + " bytes of workspace, got " +
         std::to_string(workspace_size));
  const int32_t one_i = 1, zero_i = 0;
  const float one_f = 1.0f, zero_f = 0.0f;
  const bool int8 = shape_.kind == QuantKind::Int8;
  const void* alpha = int8 ? static_cast<const void*>(&one_i) : &one_f;
  const void* beta = int8 ? static_cast<const void*>(&zero_i) : &zero_f;
  if (shape_.scales == ScaleMode::WeightInGemm) alpha = scale_w;
  if (shape_.scales == ScaleMode::BothInGemm) {
    set_desc(desc_, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, scale_w);
    set_desc(desc_, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, scale_x);
  }
  CUBLAS_CHECK(cublasLtMatmul(cublaslt_handle(), desc_, alpha, w, w_layout_, x, plan.x_layout, beta, d,
                              plan.d_layout, d, plan.d_layout, &plan.algo, workspace, plan.workspace, stream));
}

}  // namespace slidesparse
