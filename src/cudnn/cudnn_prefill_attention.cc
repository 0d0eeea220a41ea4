#include "cudnn/cudnn_prefill_attention.h"

#define NV_CUDNN_FRONTEND_USE_DYNAMIC_LOADING
#define CUDNN_FRONTEND_SKIP_JSON_LIB
#include <cudnn_frontend.h>

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "cudnn/cudnn_library.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

namespace fe = cudnn_frontend;

namespace {

// Tensor ids of the graph (the variant pack maps them to device pointers).
enum Uid : int64_t { kQ = 1, kK, kV, kOut, kSeqLenQ, kSeqLenKv, kQOffsets, kKOffsets, kVOffsets, kOutOffsets };

int next_power_of_two(int x) {
  int p = 1;
  while (p < x) p *= 2;
  return p;
}

cudnnHandle_t as_handle(void* h) { return static_cast<cudnnHandle_t>(h); }

}  // namespace

int cudnn_sequence_bucket(int seqs, int max_seqs) { return std::min(next_power_of_two(std::max(seqs, 1)), max_seqs); }

int cudnn_length_bucket(int max_len, int max_seq_tokens) {
  return std::min(std::max(next_power_of_two(std::max(max_len, 1)), 64), max_seq_tokens);
}

struct CudnnPrefillAttention::Graph {
  std::shared_ptr<fe::graph::Graph> graph;
  std::unordered_map<int64_t, void*> pack;  // built once; run() only overwrites the pointers
};

CudnnPrefillAttention::CudnnPrefillAttention(const CudnnAttentionShape& shape, cudaStream_t stream)
    : shape_(shape), stream_(stream) {
  std::string why;
  require(cudnn_library(&why) != nullptr, "cuDNN attention: " + why);
  require(shape.heads > 0 && shape.kv_heads > 0 && shape.heads % shape.kv_heads == 0 && shape.head_dim % 8 == 0 &&
              shape.max_seqs > 0 && shape.max_len > 0,
          "cuDNN attention: invalid attention geometry");
  cudnnHandle_t handle = nullptr;
  cudnnStatus_t status = CUDNN_STATUS_NOT_INITIALIZED;
  try {
    status = fe::detail::create_handle(&handle);
  } catch (const std::exception& e) {
    fail(std::string("cuDNN attention: cudnnCreate: ") + e.what());
  }
  require(status == CUDNN_STATUS_SUCCESS, "cuDNN attention: cudnnCreate failed (status " +
                                              std::to_string(static_cast<int>(status)) + ")");
  handle_ = handle;
  require(fe::detail::set_stream(handle, stream) == CUDNN_STATUS_SUCCESS, "cuDNN attention: cudnnSetStream failed");
}

CudnnPrefillAttention::~CudnnPrefillAttention() {
  graphs_.clear();
  if (handle_) fe::detail::destroy_handle(as_handle(handle_));
}

namespace {

// The SDPA graph of one bucket, described but not built: logical [b, h, s, d] tensors with
// token-major strides, each sequence starting at its ragged offset (q and out: rows of h x d; k and
// v: the halves of rows of 2 x kv_heads x d), padding masks from the lengths, causal. sm_version > 0
// describes it for that GPU instead of the current one (the nodes copy the graph's context when
// added, so it is set first).
std::shared_ptr<fe::graph::Graph> describe_prefill_graph(const CudnnAttentionShape& shape,
                                                         const CudnnAttentionBucket& bucket, int sm_version = 0) {
  const int64_t b = bucket.seqs, s = bucket.len;
  const int64_t h = shape.heads, hk = shape.kv_heads, d = shape.head_dim;
  auto g = std::make_shared<fe::graph::Graph>();
  if (sm_version > 0) g->set_sm_version(sm_version);
  g->set_io_data_type(fe::DataType_t::BFLOAT16)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  auto int32_tensor = [&](const std::string& name, int64_t uid, int64_t n) {
    return g->tensor(fe::graph::Tensor_attributes()
                         .set_name(name)
                         .set_uid(uid)
                         .set_data_type(fe::DataType_t::INT32)
                         .set_dim({n, 1, 1, 1})
                         .set_stride({1, 1, 1, 1}));
  };
  auto ragged = [&](const char* name, int64_t uid, int64_t heads, int64_t row, int64_t offsets_uid) {
    return g->tensor(fe::graph::Tensor_attributes()
                         .set_name(name)
                         .set_uid(uid)
                         .set_dim({b, heads, s, d})
                         .set_stride({s * row, d, row, 1})
                         .set_ragged_offset(int32_tensor(std::string(name) + "_offsets", offsets_uid, b + 1)));
  };
  auto q = ragged("q", kQ, h, h * d, kQOffsets);
  auto k = ragged("k", kK, hk, 2 * hk * d, kKOffsets);
  auto v = ragged("v", kV, hk, 2 * hk * d, kVOffsets);
  auto options = fe::graph::SDPA_attributes()
                     .set_name("prefill_attention")
                     .set_generate_stats(false)
                     .set_attn_scale(shape.softmax_scale)
                     .set_padding_mask(true)
                     .set_seq_len_q(int32_tensor("seq_len_q", kSeqLenQ, b))
                     .set_seq_len_kv(int32_tensor("seq_len_kv", kSeqLenKv, b));
  // Causal: query i sees keys 0 .. i of its own sequence.
  options.set_diagonal_alignment(fe::DiagonalAlignment_t::TOP_LEFT).set_diagonal_band_right_bound(0);
  auto [out, stats] = g->sdpa(q, k, v, options);
  (void)stats;
  out->set_output(true)
      .set_uid(kOut)
      .set_dim({b, h, s, d})
      .set_stride({s * h * d, d, h * d, 1})
      .set_ragged_offset(int32_tensor("out_offsets", kOutOffsets, b + 1));
  return g;
}

}  // namespace

bool validate_cudnn_prefill_graph(const CudnnAttentionShape& shape, const CudnnAttentionBucket& bucket, int sm_version,
                                  std::string* why) {
  std::string missing;
  require(cudnn_library(&missing) != nullptr, "cuDNN attention: " + missing);
  auto g = describe_prefill_graph(shape, bucket, sm_version);
  fe::error_t status = g->validate();
  if (!status.is_good() && why) *why = status.get_message();
  return status.is_good();
}

bool CudnnPrefillAttention::prepare(const CudnnAttentionBucket& bucket, std::string* why) {
  if (const auto it = graphs_.find(bucket); it != graphs_.end()) {
    if (!it->second && why) *why = "not supported by cuDNN (see the first warning)";
    return it->second != nullptr;
  }
  require(bucket.seqs > 0 && bucket.seqs <= shape_.max_seqs && bucket.len > 0 && bucket.len <= shape_.max_len,
          "cuDNN attention: bucket outside the engine's limits");
  std::shared_ptr<fe::graph::Graph> g;
  std::string failure;
  try {  // the frontend throws std::runtime_error where the backend lacks a symbol it needs
    g = describe_prefill_graph(shape_, bucket);
    // Heuristic A only: the fallback list offers generic (SM80) kernels that are slower than ours.
    fe::error_t status = g->build(as_handle(handle_), {fe::HeurMode_t::A});
    if (!status.is_good()) failure = status.get_message();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    if (why) *why = "cuDNN cannot run prefill attention for " + std::to_string(bucket.seqs) + " sequences of up to " +
                    std::to_string(bucket.len) + " tokens: " + failure;
    graphs_[bucket] = nullptr;
    return false;
  }
  int64_t workspace = 0;
  require(g->get_workspace_size(workspace).is_good(), "cuDNN attention: workspace size query failed");
  if (static_cast<size_t>(workspace) > workspace_.bytes()) {
    CUDA_CHECK(cudaStreamSynchronize(stream_));  // queued steps may still use the old workspace
    workspace_ = DeviceBuffer(static_cast<size_t>(workspace), "cuDNN attention workspace");
  }
  auto entry = std::make_unique<Graph>();
  entry->graph = std::move(g);
  for (int64_t uid : {kQ, kK, kV, kOut, kSeqLenQ, kSeqLenKv, kQOffsets, kKOffsets, kVOffsets, kOutOffsets})
    entry->pack[uid] = nullptr;
  graphs_[bucket] = std::move(entry);
  return true;
}

bool CudnnPrefillAttention::run(const __nv_bfloat16* q, const __nv_bfloat16* kv, const CudnnAttentionBatch& batch,
                                __nv_bfloat16* out, std::string* why) {
  const auto it = graphs_.find(batch.bucket);
  if (it == graphs_.end() || !it->second)
    fail("cuDNN attention: bucket " + std::to_string(batch.bucket.seqs) + " x " + std::to_string(batch.bucket.len) +
         " was not prepared");
  auto& pack = it->second->pack;
  auto set = [&pack](int64_t uid, const void* p) { pack.find(uid)->second = const_cast<void*>(p); };
  set(kQ, q);
  set(kK, kv);
  set(kV, kv + int64_t{shape_.kv_heads} * shape_.head_dim);
  set(kOut, out);
  set(kSeqLenQ, batch.seq_len);
  set(kSeqLenKv, batch.seq_len);
  set(kQOffsets, batch.q_offsets);
  set(kKOffsets, batch.kv_offsets);
  set(kVOffsets, batch.kv_offsets);
  set(kOutOffsets, batch.q_offsets);
  std::string failure;
  try {
    fe::error_t status = it->second->graph->execute(as_handle(handle_), pack, workspace_.data());
    if (!status.is_good()) failure = status.get_message();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (failure.empty()) return true;
  if (why) *why = "cuDNN attention failed: " + failure;
  return false;
}

}  // namespace slidesparse
