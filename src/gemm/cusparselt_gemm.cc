#include "gemm/cusparselt_gemm.h"

#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

namespace {

constexpr uint32_t kAlignment = 16;

}  // namespace

CusparseLtGemm::CusparseLtGemm(const GemmShape& shape) : lib_(cusparselt()), shape_(shape) {
  init_weight_descriptor(w_desc_);
}

void CusparseLtGemm::init_weight_descriptor(cusparseLtMatDescriptor_t& desc) const {
  // W' row-major [N, K'] is column-major [K', N] with ld K'; op = transpose gives [N, K'] and the
  // 2:4 groups run along K', contiguous in memory.
  CUSPARSELT_CHECK(lib_.api.cusparseLtStructuredDescriptorInit(&lib_.handle, &desc, shape_.k, shape_.n, shape_.k,
                                                               kAlignment, cuda_input_type(shape_.kind),
                                                               CUSPARSE_ORDER_COL, CUSPARSELT_SPARSITY_50_PERCENT));
}

CusparseLtGemm::~CusparseLtGemm() {
  for (auto& [m, plan] : plans_) {
    destroy_plan(plan);
    lib_.api.cusparseLtMatDescriptorDestroy(&plan.w_desc);
    lib_.api.cusparseLtMatDescriptorDestroy(&plan.x_desc);
    lib_.api.cusparseLtMatDescriptorDestroy(&plan.d_desc);
  }
  lib_.api.cusparseLtMatDescriptorDestroy(&w_desc_);
}

void CusparseLtGemm::destroy_plan(Plan& plan) {
  if (!plan.ready) return;
  lib_.api.cusparseLtMatmulPlanDestroy(&plan.plan);
  lib_.api.cusparseLtMatmulAlgSelectionDestroy(&plan.selection);
  plan.ready = false;
}

int CusparseLtGemm::compress(const void* w, cudaStream_t stream) {
  // Checked and compressed from the weight's descriptor alone (the "2" entry points): the library
  // promises that layout to every plan of this weight, whatever its row count, algorithm or split-K.
  // The plan-based calls compress for one plan's kernel, which other plans need not share.
  const auto& api = lib_.api;
  constexpr int kSparseA = 1;
  DeviceBuffer valid(sizeof(int), "cuSPARSELt prune check");
  CUDA_CHECK(cudaMemsetAsync(valid.data(), 0, sizeof(int), stream));  // the check writes only on failure
  CUSPARSELT_CHECK(api.cusparseLtSpMMAPruneCheck2(&lib_.handle, &w_desc_, kSparseA, CUSPARSE_OPERATION_TRANSPOSE, w,
                                                  valid.as<int>(), stream));
  int invalid = 0;
  CUDA_CHECK(cudaMemcpyAsync(&invalid, valid.data(), sizeof(int), cudaMemcpyDeviceToHost, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  require(invalid == 0, "weight [" + std::to_string(shape_.n) + ", " + std::to_string(shape_.k) +
                            "] is not 2:4 sparse along K; cuSPARSELt cannot compress it");
  size_t compressed_size = 0, buffer_size = 0;
  CUSPARSELT_CHECK(api.cusparseLtSpMMACompressedSize2(&lib_.handle, &w_desc_, &compressed_size, &buffer_size));
  DeviceBuffer compressed(compressed_size, "compressed sparse weight");
  DeviceBuffer scratch(buffer_size, "cuSPARSELt compression scratch");
  CUSPARSELT_CHECK(api.cusparseLtSpMMACompress2(&lib_.handle, &w_desc_, kSparseA, CUSPARSE_OPERATION_TRANSPOSE, w,
                                                compressed.data(), scratch.data(), stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));  // scratch is freed on return
  compressed_.push_back(std::move(compressed));
  return static_cast<int>(compressed_.size()) - 1;
}

size_t CusparseLtGemm::compressed_bytes() const {
  size_t total = 0;
  for (const auto& buffer : compressed_) total += buffer.bytes();
  return total;
}

CusparseLtGemm::Plan& CusparseLtGemm::descriptors_for(int64_t m) {
  auto it = plans_.find(m);
  if (it != plans_.end()) return it->second;
  Plan& plan = plans_[m];
  const auto& api = lib_.api;
  init_weight_descriptor(plan.w_desc);
  CUSPARSELT_CHECK(api.cusparseLtDenseDescriptorInit(&lib_.handle, &plan.x_desc, shape_.k, m, shape_.k, kAlignment,
                                                     cuda_input_type(shape_.kind), CUSPARSE_ORDER_COL));
  CUSPARSELT_CHECK(api.cusparseLtDenseDescriptorInit(&lib_.handle, &plan.d_desc, shape_.n, m, shape_.n, kAlignment,
                                                     cuda_output_type(shape_.output), CUSPARSE_ORDER_COL));
  const cusparseComputeType compute =
      shape_.kind == QuantKind::Int8 ? CUSPARSE_COMPUTE_32I : CUSPARSE_COMPUTE_32F;
  CUSPARSELT_CHECK(api.cusparseLtMatmulDescriptorInit(&lib_.handle, &plan.matmul, CUSPARSE_OPERATION_TRANSPOSE,
                                                      CUSPARSE_OPERATION_NON_TRANSPOSE, &plan.w_desc, &plan.x_desc,
                                                      &plan.d_desc, &plan.d_desc, compute));
  if (shape_.scales == ScaleMode::WeightInGemm) {
    const int enable = 1;
    CUSPARSELT_CHECK(api.cusparseLtMatmulDescSetAttribute(&lib_.handle, &plan.matmul,
                                                          CUSPARSELT_MATMUL_ALPHA_VECTOR_SCALING, &enable,
                                                          sizeof enable));
  }
  return plan;
}

void CusparseLtGemm::build_plan(Plan& plan, int alg_id, int split_k, bool set_split_k) {
  const auto& api = lib_.api;
  destroy_plan(plan);
  CUSPARSELT_CHECK(api.cusparseLtMatmulAlgSelectionInit(&lib_.handle, &plan.selection, &plan.matmul,
                                                        CUSPARSELT_MATMUL_ALG_DEFAULT));
  CUSPARSELT_CHECK(api.cusparseLtMatmulAlgSetAttribute(&lib_.handle, &plan.selection, CUSPARSELT_MATMUL_ALG_CONFIG_ID,
                                                       &alg_id, sizeof alg_id));
  if (set_split_k)
    CUSPARSELT_CHECK(api.cusparseLtMatmulAlgSetAttribute(&lib_.handle, &plan.selection, CUSPARSELT_MATMUL_SPLIT_K,
                                                         &split_k, sizeof split_k));
  const cusparseStatus_t status = api.cusparseLtMatmulPlanInit(&lib_.handle, &plan.plan, &plan.matmul, &plan.selection);
  if (status != CUSPARSE_STATUS_SUCCESS) {
    api.cusparseLtMatmulAlgSelectionDestroy(&plan.selection);
    CUSPARSELT_CHECK(status);
  }
  CUSPARSELT_CHECK(api.cusparseLtMatmulGetWorkspace(&lib_.handle, &plan.plan, &plan.workspace));
  plan.alg_id = alg_id;
  plan.split_k = split_k;
  plan.ready = true;
}

int CusparseLtGemm::algorithm_count(int64_t m) {
  Plan& plan = descriptors_for(m);
  cusparseLtMatmulAlgSelection_t selection{};
  CUSPARSELT_CHECK(lib_.api.cusparseLtMatmulAlgSelectionInit(&lib_.handle, &selection, &plan.matmul,
                                                             CUSPARSELT_MATMUL_ALG_DEFAULT));
  int max_id = 0;
  const cusparseStatus_t status = lib_.api.cusparseLtMatmulAlgGetAttribute(
      &lib_.handle, &selection, CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID, &max_id, sizeof max_id);
  lib_.api.cusparseLtMatmulAlgSelectionDestroy(&selection);
  CUSPARSELT_CHECK(status);
  return max_id;
}

void CusparseLtGemm::set_algorithm(int64_t m, int alg_id, int split_k) {
  build_plan(descriptors_for(m), alg_id, split_k, /*set_split_k=*/true);
}

void CusparseLtGemm::prepare(int64_t m) {
  Plan& plan = descriptors_for(m);
  if (!plan.ready) build_plan(plan, 0, 1, /*set_split_k=*/false);
}

size_t CusparseLtGemm::workspace_bytes(int64_t m) const {
  const auto it = plans_.find(m);
  return it == plans_.end() ? 0 : it->second.workspace;
}

std::string CusparseLtGemm::describe_plan(int64_t m) const {
  const auto it = plans_.find(m);
  require(it != plans_.end() && it->second.ready, "cuSPARSELt GEMM for M=" + std::to_string(m) + " was not prepared");
  const auto& api = lib_.api;
  int alg = 0, split_k = 0, mode = 0;
  CUSPARSELT_CHECK(api.cusparseLtMatmulAlgGetAttribute(&lib_.handle, &it->second.selection,
                                                       CUSPARSELT_MATMUL_ALG_CONFIG_ID, &alg, sizeof alg));
  CUSPARSELT_CHECK(api.cusparseLtMatmulAlgGetAttribute(&lib_.handle, &it->second.selection, CUSPARSELT_MATMUL_SPLIT_K,
                                                       &split_k, sizeof split_k));
  CUSPARSELT_CHECK(api.cusparseLtMatmulAlgGetAttribute(&lib_.handle, &it->second.selection,
                                                       CUSPARSELT_MATMUL_SPLIT_K_MODE, &mode, sizeof mode));
  return "alg " + std::to_string(alg) + " split-k " + std::to_string(split_k) + " (mode " + std::to_string(mode) + ")";
}

void CusparseLtGemm::run(const void* x, void* d, int64_t m, const float* scale_w, void* workspace,
                         size_t workspace_size, cudaStream_t stream, int weight) {
  // Every GEMM of every eager step passes here: messages are built only on failure.
  if (weight < 0 || weight >= static_cast<int>(compressed_.size()))
    fail("cuSPARSELt GEMM run with weight " + std::to_string(weight) + " of " + std::to_string(compressed_.size()));
  const auto it = plans_.find(m);
  if (it == plans_.end() || !it->second.ready)
    fail("cuSPARSELt GEMM for M=" + std::to_string(m) + " was not prepared (call prepare before running)");
  Plan& plan = it->second;
  if (plan.workspace > workspace_size)
    fail("cuSPARSELt GEMM needs " + std::to_string(plan.workspace) + " bytes of workspace, got " +
         std::to_string(workspace_size));
  const float one = 1.0f, zero = 0.0f;
  const void* alpha = shape_.scales == ScaleMode::WeightInGemm ? static_cast<const void*>(scale_w) : &one;
  CUSPARSELT_CHECK(lib_.api.cusparseLtMatmul(&lib_.handle, &plan.plan, alpha, compressed_[weight].data(), x, &zero, d, d,
                                             workspace, &stream, 1));
}

}  // namespace slidesparse
