#include "runtime/model_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/stopwatch.h"
#include "gpu/cuda_check.h"
#include "kernels/attention_decode.h"
#include "kernels/attention_prefill_tuning.h"
#include "kernels/graph_memsets.h"
#include "kernels/norm_quant.h"
#include "math/rope.h"

namespace slidesparse {

namespace {

constexpr size_t kWorkspaceBytes = size_t{128} << 20;  // GEMM workspace shared by every plan
constexpr int64_t kLargeRowStep = 128;  // prefill row counts above 256 are padded to this (fewer plans)

double gib(size_t bytes) { return static_cast<double>(bytes) / (1 << 30); }

}  // namespace

ModelRunner::ModelRunner(ModelWeights& weights, const RunnerOptions& options, cudaStream_t stream)
    : weights_(weights),
      options_(options),
      stream_(stream),
      hidden_(weights.config().hidden_size),
      inter_(weights.config().intermediate_size),
      heads_(weights.config().num_attention_heads),
      kv_heads_(weights.config().num_key_value_heads),
      head_dim_(weights.config().head_dim),
      vocab_(weights.config().vocab_size),
      lm_head_gemm_(weights.config().vocab_size, weights.config().hidden_size, options.batch_invariant) {
  const auto& o = options_;
  require(o.block_size > 0 && o.block_size % 16 == 0,
          "--block-size must be a positive multiple of 16, got " + std::to_string(o.block_size));
  require(o.max_num_seqs > 0 && o.max_num_batched_tokens > 0 && o.max_model_len > 0,
          "engine limits (max sequences, batched tokens, model length) must be positive");
  require(o.gpu_memory_utilization > 0 && o.gpu_memory_utilization <= 1,
          "--gpu-memory-utilization must be in (0, 1], got " + std::to_string(o.gpu_memory_utilization));
  require(head_dim_ == 64 || head_dim_ == 128, "attention supports head_dim 64 or 128, the model has " +
                                                   std::to_string(head_dim_));
  max_blocks_per_seq_ = (o.max_model_len + o.block_size - 1) / o.block_size;
  softmax_scale_ = 1.0f / std::sqrt(static_cast<float>(head_dim_));

  const int64_t max_tokens = o.max_num_batched_tokens;
  const int64_t max_rows = rows_needed(o);
  int64_t max_gemm_k = 0, max_output_row_bytes = 0;
  for (LinearSlot slot : {LinearSlot::Qkv, LinearSlot::O, LinearSlot::GateUp, LinearSlot::Down}) {
    const W8A8Linear& l = weights_.linear(slot);
    require(l.config().max_m >= max_rows, "linear layers were loaded for fewer rows than the engine runs");
    max_gemm_k = std::max(max_gemm_k, l.gemm_k());
    max_output_row_bytes =
        std::max(max_output_row_bytes, l.config().n * static_cast<int64_t>(gemm_output_bytes(l.config().output)));
  }
  // GEMMs that add into the residual stream in their epilogue write whole padded row tiles.
  residual_ = DeviceBuffer(max_rows * hidden_ * 2, "residual stream");
  q_ = DeviceBuffer(max_tokens * heads_ * head_dim_ * 2, "attention queries");
  attn_ = DeviceBuffer(max_tokens * heads_ * head_dim_ * 2, "attention output");
  codes_ = DeviceBuffer(max_rows * max_gemm_k, "quantized activations");
  for (auto& s : scale_) s = DeviceBuffer(max_rows * sizeof(float), "activation scales");
  acc_ = DeviceBuffer(max_rows * max_output_row_bytes, "GEMM output");
  workspace_ = DeviceBuffer(kWorkspaceBytes, "GEMM workspace");
  const int64_t max_samples = padded_rows(o.max_num_seqs);
  final_x_ = DeviceBuffer(max_samples * hidden_ * 2, "final norm output");
  logits_ = DeviceBuffer(max_samples * vocab_ * sizeof(float), "logits");
  sampled_ = DeviceBuffer(max_samples * sizeof(int32_t), "sampled tokens");
  error_flag_ = DeviceBuffer(sizeof(int32_t), "token id check");
  CUDA_CHECK(cudaMemsetAsync(error_flag_.data(), 0, sizeof(int32_t), stream_));
  if (o.batch_invariant) decode_config_.fixed_chunk = kBatchInvariantDecodeChunk;
  decode_workspace_ = DeviceBuffer(
      std::max<size_t>(attention_decode_workspace_bytes(o.max_num_seqs, static_cast<int>(heads_),
                                                        static_cast<int>(head_dim_), o.max_model_len, decode_config_),
                       16),
      "decode attention workspace");

  const RopeTable rope = make_rope_table(static_cast<int>(head_dim_), o.max_model_len, weights_.config().rope_theta);
  rope_cos_ = DeviceBuffer(rope.cos.size() * 2, "rope cos table");
  rope_sin_ = DeviceBuffer(rope.sin.size() * 2, "rope sin table");
  CUDA_CHECK(cudaMemcpyAsync(rope_cos_.data(), rope.cos.data(), rope.cos.size() * 2, cudaMemcpyHostToDevice, stream_));
  CUDA_CHECK(cudaMemcpyAsync(rope_sin_.data(), rope.sin.data(), rope.sin.size() * 2, cudaMemcpyHostToDevice, stream_));

  // The step arrays of the largest step (cuDNN's bucket is at most max_num_seqs sequences), and
  // each launch slot's pinned mirror of them, its results and events.
  max_samples_ = padded_rows(o.max_num_seqs);
  staged_capacity_ =
      staged_layout(static_cast<int>(std::max<int64_t>(max_tokens, o.max_num_seqs)), o.max_num_seqs,
                    max_blocks_per_seq_, o.max_num_seqs, o.max_num_seqs)
          .end;
  staged_device_ = DeviceBuffer(staged_capacity_ * sizeof(int32_t), "step inputs");
  for (LaunchSlot& slot : slots_) {
    CUDA_CHECK(cudaMallocHost(&slot.staged_host, staged_capacity_ * sizeof(int32_t)));
    CUDA_CHECK(cudaMallocHost(&slot.results_host, (max_samples_ + 1) * sizeof(int32_t)));
    CUDA_CHECK(cudaEventCreate(&slot.forward_begin));
    CUDA_CHECK(cudaEventCreate(&slot.forward_end));
    CUDA_CHECK(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming));
  }
  CUDA_CHECK(cudaStreamSynchronize(stream_));

  // Decode buckets: powers of two up to the sequence limit (and the limit itself).
  for (int b = 1; b < o.max_num_seqs; b *= 2) graph_batch_sizes_.push_back(b);
  graph_batch_sizes_.push_back(o.max_num_seqs);
  for (int b : graph_batch_sizes_) prepare_rows(padded_rows(b));

  // cuDNN (its handle, the packed K/V) before the KV cache, which takes what memory is left.
  const CudnnAttentionShape cudnn_shape{static_cast<int>(heads_), static_cast<int>(kv_heads_),
                                        static_cast<int>(head_dim_), o.max_num_seqs,
                                        std::min(o.max_model_len, o.max_num_batched_tokens),  // longest fresh prompt
                                        softmax_scale_};
  attention_ = std::make_unique<PrefillAttentionChoice>(o.cudnn_attention && !o.batch_invariant, cudnn_shape,
                                                        max_tokens, stream_);
  allocate_kv_cache();
  if (o.cuda_graphs) capture_graphs();
}

ModelRunner::~ModelRunner() {
  cudaStreamSynchronize(stream_);  // a step launched ahead may still be copying into the slots
  for (auto& [size, exec] : graphs_) cudaGraphExecDestroy(exec);
  for (LaunchSlot& slot : slots_) {
    if (slot.staged_host) cudaFreeHost(slot.staged_host);
    if (slot.results_host) cudaFreeHost(slot.results_host);
    for (cudaEvent_t e : {slot.forward_begin, slot.forward_end, slot.done})
      if (e) cudaEventDestroy(e);
  }
}

int64_t ModelRunner::rows_needed(const RunnerOptions& o) {
  return std::max(prefill_rows(o.max_num_batched_tokens), padded_rows(o.max_num_seqs));
}

int64_t ModelRunner::prefill_rows(int tokens) {
  const int64_t rows = padded_rows(tokens);
  return rows <= 256 ? rows : (rows + kLargeRowStep - 1) / kLargeRowStep * kLargeRowStep;
}

void ModelRunner::prepare_rows(int64_t rows) {
  if (prepared_rows_.count(rows)) return;
  // The fused norms' tuned launch shapes (the default shape when the database has none: the
  // consumer's plain-quantizer shape is tuned for fewer bytes per row and can be much slower here).
  constexpr LinearSlot kSlots[] = {LinearSlot::Qkv, LinearSlot::O, LinearSlot::GateUp, LinearSlot::Down};
  for (LinearSlot slot : kSlots) {
    W8A8Linear& l = weights_.linear(slot);
    l.prepare(rows, options_.tuning);
    require(l.workspace_bytes(rows) <= kWorkspaceBytes,
            "GEMM plan for M=" + std::to_string(rows) + " wants more than the engine's 128 MiB workspace");
  }
  const QuantKind kind = weights_.description().quant;
  // The norms quantize for the GEMMs that run at these rows: where every linear runs its dense
  // fallback, plain codes, under the dense model's kernel names.
  const bool all_dense = std::all_of(std::begin(kSlots), std::end(kSlots), [&](LinearSlot slot) {
    return weights_.linear(slot).input_slide(rows) == nullptr;
  });
  const Sparsity sparsity = all_dense ? Sparsity::dense() : weights_.description().sparsity;
  // The accumulator-fed norms read what o_proj / down_proj (residual) and gate_up (relu2 * up) leave.
  auto form = [&](FusedNormKernel norm) -> std::string {
    if (norm == FusedNormKernel::Tensor) return {};
    const LinearSlot feeding = norm == FusedNormKernel::Relu2Mul ? LinearSlot::GateUp : LinearSlot::O;
    return accumulator_form(weights_.linear(feeding).running_config(rows));
  };
  // Batch-invariant runs keep the default shapes: a row's reduction order then does not depend on
  // the step's row count.
  const TuningDatabase* launch_db = options_.batch_invariant ? nullptr : options_.tuning;
  auto tuned = [&](FusedNormKernel norm, int64_t k) -> std::optional<QuantLaunchConfig> {
    if (launch_db)
      if (auto t = launch_db->lookup_kernel(fused_norm_kernel_name(norm, kind, sparsity, form(norm)), k, rows)) {
        const QuantLaunchConfig d;
        return QuantLaunchConfig{t->value("threads", d.threads), t->value("rows_per_block", d.rows_per_block)};
      }
    return std::nullopt;
  };
  RowLaunchConfigs row_launch;
  row_launch.tensor = tuned(FusedNormKernel::Tensor, hidden_).value_or(QuantLaunchConfig{});
  row_launch.residual = tuned(FusedNormKernel::Residual, hidden_).value_or(QuantLaunchConfig{});
  row_launch.relu2 = tuned(FusedNormKernel::Relu2Mul, inter_).value_or(QuantLaunchConfig{});
  // The tensor norm on the MLP activation; a database from before it was tuned has the relu2 norm's
  // shape for the same rows of the same width, the closer guess than the default.
  row_launch.mlp_tensor = tuned(FusedNormKernel::Tensor, inter_).value_or(row_launch.relu2);
  if (launch_db)
    if (auto t = launch_db->lookup_kernel(kAttentionPrefillKernelName, head_dim_, rows)) {
      row_launch.attention = attention_prefill_config_from_json(*t);
      row_launch.cudnn_attention = attention_prefill_prefers_cudnn(*t);
    }
  prepared_rows_[rows] = row_launch;
}

void ModelRunner::allocate_kv_cache() {
  const auto& c = weights_.config();
  size_t free = 0, total = 0;
  CUDA_CHECK(cudaMemGetInfo(&free, &total));
  const size_t used = total - free;
  const size_t budget = static_cast<size_t>(static_cast<double>(total) * options_.gpu_memory_utilization);
  // One block: keys and values of block_size tokens for every layer.
  const size_t block_bytes = size_t{2} * c.num_hidden_layers * kv_heads_ * options_.block_size * head_dim_ * 2;
  const size_t reserve = size_t{256} << 20;  // graphs, library handles, fragmentation
  const size_t available = budget > used + reserve ? budget - used - reserve : 0;
  num_blocks_ = static_cast<int>(std::min<size_t>(available / block_bytes, 1 << 30));
  if (options_.num_kv_blocks > 0) {
    require(static_cast<size_t>(options_.num_kv_blocks) * block_bytes <= available,
            "--num-kv-blocks " + std::to_string(options_.num_kv_blocks) + " needs " +
                std::to_string(gib(options_.num_kv_blocks * block_bytes)) + " GiB, only " +
                std::to_string(gib(available)) + " GiB are available");
    num_blocks_ = options_.num_kv_blocks;
  }
  require(num_blocks_ >= max_blocks_per_seq_,
          "not enough GPU memory for one sequence of " + std::to_string(options_.max_model_len) + " tokens: its KV "
          "cache needs " + std::to_string(max_blocks_per_seq_) + " blocks (" +
              std::to_string(gib(max_blocks_per_seq_ * block_bytes)) + " GiB) but " +
              std::to_string(gib(available)) + " GiB are left under --gpu-memory-utilization " +
              std::to_string(options_.gpu_memory_utilization) + " (weights and buffers hold " +
              std::to_string(gib(used)) + " GiB); lower --max-model-len or --max-num-batched-tokens");
  kv_ = DeviceBuffer(block_bytes * num_blocks_, "KV cache");
  const size_t half = static_cast<size_t>(num_blocks_) * kv_heads_ * options_.block_size * head_dim_;
  auto* base = kv_.as<__nv_bfloat16>();
  for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
    KvCacheLayer l;
    l.k = base + (2 * layer) * half;
    l.v = base + (2 * layer + 1) * half;
    l.num_blocks = num_blocks_;
    l.block_size = options_.block_size;
    l.kv_heads = static_cast<int>(kv_heads_);
    l.head_dim = static_cast<int>(head_dim_);
    cache_layers_.push_back(l);
  }
}

void ModelRunner::prepare_prefill(int seqs, int prompt_len) {
  require(seqs > 0 && prompt_len > 0 && int64_t{seqs} * prompt_len <= options_.max_num_batched_tokens &&
              seqs <= options_.max_num_seqs,
          "prepare_prefill: " + std::to_string(seqs) + " x " + std::to_string(prompt_len) +
              " tokens exceed the engine's step limits");
  const int64_t rows = prefill_rows(seqs * prompt_len);
  prepare_rows(rows);
  lm_head_gemm_.prepare(padded_rows(seqs), kWorkspaceBytes);
  attention_->prepare(seqs, prompt_len, prepared_rows_.at(rows).cudnn_attention);
}

StagedLayout ModelRunner::layout(const StepShape& shape, int cudnn_seqs) const {
  const StagedLayout l = staged_layout(shape.tokens, shape.seqs, max_blocks_per_seq_, shape.samples, cudnn_seqs);
  require(l.end <= staged_capacity_, "step arrays larger than the engine's limits");
  return l;
}

void ModelRunner::stage(const StepBatch& b, const StepShape& shape, const StagedLayout& l, int cudnn_seqs,
                        int32_t* host) {
  const int tokens = shape.tokens, seqs = shape.seqs, samples = shape.samples;
  // Copies `values` to its place in the block and pads to `count` with `pad` (or, for index arrays,
  // with the values that continue them one by one).
  auto put = [&](size_t offset, const std::vector<int32_t>& values, size_t count, int32_t pad, bool continue_values) {
    int32_t* at = host + offset;
    std::copy(values.begin(), values.end(), at);
    for (size_t i = values.size(); i < count; ++i) at[i] = continue_values && i > 0 ? at[i - 1] + 1 : pad;
  };
  put(l.tokens, b.tokens, tokens, 0, false);
  put(l.carried_rows, b.carried_rows, tokens, -1, false);
  put(l.positions, b.positions, tokens, 0, false);
  put(l.slots, b.slots, tokens, -1, false);
  put(l.query_start, b.query_start, seqs + 1, 0, true);  // padding sequences own one row each
  // cuDNN's bucket reads the lengths of its padding sequences too: zero.
  put(l.seq_len, b.seq_len, std::max(seqs, cudnn_seqs), 0, false);
  put(l.block_table, b.block_table, static_cast<size_t>(seqs) * max_blocks_per_seq_, 0, false);
  put(l.sample_rows, b.sample_rows, samples, 0, true);  // padding rows sample too (graph buckets)
  // Padding rows' parameters are zero: greedy.
  auto* params = reinterpret_cast<SampleRowParams*>(host + l.sample_params);
  std::copy(b.sample_params.begin(), b.sample_params.end(), params);
  std::fill(params + b.sample_params.size(), params + samples, SampleRowParams{});
  if (cudnn_seqs) {
    put(l.cudnn_q_offsets, attention_->q_offsets_host(), cudnn_seqs + 1, 0, false);
    put(l.cudnn_kv_offsets, attention_->kv_offsets_host(), cudnn_seqs + 1, 0, false);
  }
  CUDA_CHECK(cudaMemcpyAsync(staged_device_.data(), host, l.end * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
}

void ModelRunner::capture_graphs() {
  StepBatch warm;
  warm.decode = true;
  warm.query_start = {0};
  for (int size : graph_batch_sizes_) {
    const int64_t rows = padded_rows(size);
    const Bf16Gemm::TimingOperands timing{weights_.lm_head(), final_x_.as<__nv_bfloat16>(), logits_.as<float>(),
                                          workspace_.data(), stream_};
    lm_head_gemm_.prepare(rows, kWorkspaceBytes, &timing);
    const StepShape shape{size, rows, size, size, true, 1, options_.max_model_len};
    const StagedLayout staged_at = layout(shape, 0);
    // One eager run first: libraries finish their lazy set-up outside the capture.
    stage(warm, shape, staged_at, 0, slots_[0].staged_host);
    forward(shape, staged_at);
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    cudaGraph_t graph = nullptr;
    CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    forward(shape, staged_at);
    CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    if (graph_memsets_as_kernels()) memset_nodes_as_kernels(graph);  // cuBLASLt's workspace zeroing
    cudaGraphExec_t exec = nullptr;
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    CUDA_CHECK(cudaGraphDestroy(graph));
    graphs_[size] = exec;
  }
}

bool ModelRunner::replays_graph(int seqs) const {
  return options_.cuda_graphs && !profiler_ && seqs >= 1 && seqs <= graph_batch_sizes_.back();
}

void ModelRunner::launch(const StepBatch& batch, bool keep_logits) {
  const int tokens = batch.num_tokens(), seqs = batch.num_seqs();
  const int samples = static_cast<int>(batch.sample_rows.size());
  require(tokens > 0 && tokens <= options_.max_num_batched_tokens, [&] {
    return "step of " + std::to_string(tokens) + " tokens outside 1.." +
           std::to_string(options_.max_num_batched_tokens);
  });
  require(seqs > 0 && seqs <= options_.max_num_seqs && samples <= options_.max_num_seqs,
          "step with more sequences or sampled rows than --max-num-seqs");
  require(batch.sample_params.size() == batch.sample_rows.size(), "model runner: one sampling entry per sample row");
  if (batch.decode)
    for (int i = 0; i < samples; ++i) require(batch.sample_rows[i] == i, "decode steps sample every row in order");
  require(in_flight_ < kSlots - 1, "model runner: two steps are in flight already");
  require(in_flight_ == 0 || !slots_[(next_slot_ + kSlots - 1) % kSlots].keep_logits,
          "model runner: a step that keeps its logits must be waited for before the next launch");
  if (!batch.carried_rows.empty()) {
    require(batch.carried_rows.size() == batch.tokens.size(), "model runner: one carried row per token expected");
    for (int32_t r : batch.carried_rows)
      require(r < last_launch_samples_, "model runner: a carried row the previous step did not sample");
  }
  LaunchSlot& slot = slots_[next_slot_];
  const auto graph = batch.decode ? std::lower_bound(graph_batch_sizes_.begin(), graph_batch_sizes_.end(), seqs)
                                  : graph_batch_sizes_.end();
  if (profiler_) profiler_->begin(stream_);
  if (batch.decode && replays_graph(seqs)) {
    const int size = *graph;
    const StepShape shape{size, padded_rows(size), size, size, true, 1, options_.max_model_len};
    stage(batch, shape, layout(shape, 0), 0, slot.staged_host);
    CUDA_CHECK(cudaEventRecord(slot.forward_begin, stream_));
    CUDA_CHECK(cudaGraphLaunch(graphs_.at(size), stream_));
  } else {
    const StepShape shape{tokens,       batch.decode ? padded_rows(tokens) : prefill_rows(tokens),
                          seqs,         samples,
                          batch.decode, batch.max_query_len,
                          batch.max_seq_len};
    prepare_rows(shape.rows);
    if (samples > 0) lm_head_gemm_.prepare(padded_rows(samples), kWorkspaceBytes);
    const std::optional<CudnnAttentionBucket> bucket =
        attention_->choose(batch, prepared_rows_.at(shape.rows).cudnn_attention);
    const StagedLayout staged_at = layout(shape, bucket ? bucket->seqs : 0);
    stage(batch, shape, staged_at, bucket ? bucket->seqs : 0, slot.staged_host);
    CudnnAttentionBatch cudnn;
    if (bucket) {
      const int32_t* staged = staged_device_.as<int32_t>();
      cudnn = {*bucket, staged + staged_at.cudnn_q_offsets, staged + staged_at.cudnn_kv_offsets,
               staged + staged_at.seq_len};
    }
    CUDA_CHECK(cudaEventRecord(slot.forward_begin, stream_));
    forward(shape, staged_at, bucket ? &cudnn : nullptr);
  }
  CUDA_CHECK(cudaEventRecord(slot.forward_end, stream_));
  CUDA_CHECK(cudaMemcpyAsync(slot.results_host, sampled_.data(), samples * sizeof(int32_t), cudaMemcpyDeviceToHost,
                             stream_));
  CUDA_CHECK(cudaMemcpyAsync(slot.results_host + max_samples_, error_flag_.data(), sizeof(int32_t),
                             cudaMemcpyDeviceToHost, stream_));
  CUDA_CHECK(cudaEventRecord(slot.done, stream_));
  slot.samples = samples;
  slot.keep_logits = keep_logits;
  slot.decode = batch.decode;
  last_launch_samples_ = samples;
  next_slot_ = (next_slot_ + 1) % kSlots;
  ++in_flight_;
}

void ModelRunner::wait(std::vector<int32_t>& tokens, std::vector<float>* logits) {
  require(in_flight_ > 0, "model runner: no step in flight to wait for");
  const int index = (next_slot_ + kSlots - in_flight_) % kSlots;
  const LaunchSlot& slot = slots_[index];
  require(!logits || slot.keep_logits, "model runner: the step was launched without keeping its logits");
  const Stopwatch clock;
  CUDA_CHECK(cudaEventSynchronize(slot.done));
  last_wait_seconds_ = clock.seconds();
  --in_flight_;
  last_decode_gap_seconds_ = -1;
  if (slot.decode && last_waited_ >= 0 && slots_[last_waited_].decode) {
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, slots_[last_waited_].forward_end, slot.forward_begin));
    last_decode_gap_seconds_ = ms * 1e-3;
  }
  last_waited_ = index;
  tokens.assign(slot.results_host, slot.results_host + slot.samples);
  const int32_t bad_token = slot.results_host[max_samples_];
  if (logits) {  // nothing was launched after this step (launch refuses it): logits_ is still its own
    logits->resize(static_cast<size_t>(slot.samples) * static_cast<size_t>(vocab_));
    CUDA_CHECK(cudaMemcpyAsync(logits->data(), logits_.data(), logits->size() * sizeof(float), cudaMemcpyDeviceToHost,
                               stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  require(bad_token == 0, [&] {
    return "a token id outside the vocabulary (0.." + std::to_string(vocab_ - 1) + ") reached the model";
  });
}

void ModelRunner::run(const StepBatch& batch, std::vector<int32_t>& tokens, std::vector<float>* logits) {
  launch(batch, logits != nullptr);
  wait(tokens, logits);
}

}  // namespace slidesparse
