#include "runtime/model_weights.h"

#include <cstring>
#include <optional>
#include <span>
#include <string>

#include "checkpoint/bitnet_layout.h"
#include "core/error.h"
#include "gemm/hardware_tag.h"
#include "gemm/scaled_gemm.h"
#include "gpu/cuda_check.h"
#include "io/safetensors_reader.h"
#include "math/slide.h"

namespace slidesparse {

namespace {

DeviceBuffer upload(const void* host, size_t bytes, const std::string& what, cudaStream_t stream) {
  DeviceBuffer buffer(bytes, what);
  CUDA_CHECK(cudaMemcpyAsync(buffer.data(), host, bytes, cudaMemcpyHostToDevice, stream));
  return buffer;
}

LinearConfig engine_linear_config(const WeightLoadOptions& o, const CheckpointDescription& d, int64_t n,
                                  int64_t k) {
  LinearConfig c =
      default_linear_config(d.quant, n, k, d.sparsity, o.max_tokens, {o.fp8_fast_accum, o.scaled_gemm,
                                                                      o.sparse_scaled_gemm});
  c.standalone = false;
  if (o.exact_scales && d.quant == QuantKind::Int8) {
    // Integer accumulators on both backends: the same slid and dense products give the same bits.
    c.output = GemmOutput::Int32;
    c.scales = ScaleMode::Epilogue;
  }
  return c;
}

// A 2:L linear's dense configuration, where its GEMM can run the same pruned weight (un-slid where
// K' != K) into the sparse GEMM's output buffer (no wider output).
std::optional<LinearConfig> dense_fallback_config(const WeightLoadOptions& o, const CheckpointDescription& d,
                                                  int64_t n, int64_t k) {
  if (o.backend != GemmBackend::CusparseLt || d.sparsity.is_dense() || d.sparsity.is_inf()) return std::nullopt;
  CheckpointDescription dense = d;
  dense.sparsity = Sparsity::dense();
  const LinearConfig sparse = engine_linear_config(o, d, n, k), plain = engine_linear_config(o, dense, n, k);
  // On the sparse scaled GEMM, only the dense scaled GEMM can run the same fused forms.
  if ((runs_scaled_gemm(sparse) && !runs_scaled_gemm(plain)) ||
      gemm_output_bytes(plain.output) > gemm_output_bytes(sparse.output))
    return std::nullopt;
  return plain;
}

// Whether this slot's engine linear takes relu2(gate) * up into its epilogue: gate_up on a scaled
// GEMM (INT8 on Hopper), whose weight then goes up with gate and up rows interleaved.
bool relu2_mul_in_epilogue(const WeightLoadOptions& o, const CheckpointDescription& d, LinearSlot slot, int64_t n,
                           int64_t k) {
  return o.relu2_mul_epilogue && slot == LinearSlot::GateUp && runs_scaled_gemm(engine_linear_config(o, d, n, k));
}

// Whether this slot's engine linear adds its output to the residual stream in its epilogue: o_proj
// and down_proj on a scaled GEMM.
bool residual_in_epilogue(const WeightLoadOptions& o, const CheckpointDescription& d, LinearSlot slot, int64_t n,
                          int64_t k) {
  return o.residual_epilogue && (slot == LinearSlot::O || slot == LinearSlot::Down) &&
         runs_scaled_gemm(engine_linear_config(o, d, n, k));
}

// Weight scales kept as bytes (to interleave with the rows), read as the floats they are.
std::span<const float> as_floats(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const float*>(bytes.data()), bytes.size() / sizeof(float)};
}

// A linear slot's engine configuration and its dense fallback, if the database ever runs one.
struct SlotPlan {
  LinearConfig config;
  std::optional<LinearConfig> fallback;  // the dense model's GEMM on the pruned weight, in its form
  bool fallback_copy = false;  // the fallback runs copies of its own (un-slid, in its row order)
  // The fallback runs at every row count (the database timed it faster wherever it searched): the
  // slid weights are not uploaded where the fallback has copies of its own.
  bool fallback_only = false;
};

SlotPlan plan_slot(const WeightLoadOptions& o, const CheckpointDescription& d, const TuningDatabase* fallback_db,
                   LinearSlot slot, int64_t n, int64_t k) {
  SlotPlan plan;
  plan.config = engine_linear_config(o, d, n, k);
  plan.config.relu2_mul_epilogue = relu2_mul_in_epilogue(o, d, slot, n, k);
  plan.config.residual_epilogue = residual_in_epilogue(o, d, slot, n, k);
  plan.config.gate_up_block = native_gate_up_block(plan.config);
  if (fallback_db) plan.fallback = dense_fallback_config(o, d, n, k);
  if (!plan.fallback) return plan;
  CheckpointDescription dense = d;
  dense.sparsity = Sparsity::dense();
  LinearConfig& f = *plan.fallback;
  f.relu2_mul_epilogue = relu2_mul_in_epilogue(o, dense, slot, n, k);
  f.residual_epilogue = residual_in_epilogue(o, dense, slot, n, k);
  f.gate_up_block = native_gate_up_block(f);
  if (!dense_fallback_ever_runs(*fallback_db, plan.config, f)) {
    plan.fallback.reset();
    return plan;
  }
  // It runs the stored codes where they are the pruned weight in its row order (2:4 with K' = K),
  // else a copy of its own.
  plan.fallback_copy = make_slide_geometry(k, d.sparsity.group()).k_slid != k ||
                       f.relu2_mul_epilogue != plan.config.relu2_mul_epilogue ||
                       (f.relu2_mul_epilogue && f.gate_up_block != plan.config.gate_up_block);
  plan.fallback_only = dense_fallback_always_runs(*fallback_db, plan.config, f);
  return plan;
}

}  // namespace

DeviceBuffer ModelWeights::upload_bf16(const CheckpointReader& reader, const std::string& name, int64_t numel,
                                       cudaStream_t stream) {
  const TensorRef& t = reader.get(name);
  require(t.info->dtype == DType::BF16 && t.info->numel() == numel,
          reader.directory().string() + ": tensor '" + name + "' must be BF16 with " + std::to_string(numel) +
              " values, found " + std::string(dtype_name(t.info->dtype)) + " " + shape_string(t.info->shape));
  return upload(t.data.data(), t.data.size(), name, stream);
}

ModelWeights::ModelWeights(const std::filesystem::path& dir, const WeightLoadOptions& options, cudaStream_t stream)
    : options_(options) {
  require(options.max_tokens > 0, "model weights: max_tokens must be positive");
  config_ = load_model_config(dir / "config.json");
  const CheckpointReader reader(dir);
  description_ = require_engine_checkpoint(config_, reader, options.backend == GemmBackend::CusparseLt);
  bitnet_tensors(config_);  // validates that the config is BitNet-shaped
  // The host copy of a layer lives until its upload finished (build() syncs per layer).
  std::vector<HostLinear> current;
  build(reader, [&](int64_t layer) -> const std::vector<HostLinear>& {
    current = load_layer_linears(reader, config_, description_, static_cast<int>(layer));
    return current;
  }, stream);
}

ModelWeights::ModelWeights(const HostModel& host, const WeightLoadOptions& options, cudaStream_t stream)
    : options_(options) {
  require(options.max_tokens > 0, "model weights: max_tokens must be positive");
  config_ = host.config();
  description_ = host.description();
  require(options.backend != GemmBackend::CusparseLt || description_.kind == CheckpointKind::SlideSparse,
          host.reader().directory().string() + ": read for the dense backend, not for cuSPARSELt");
  build(host.reader(), [&](int64_t layer) -> const std::vector<HostLinear>& { return host.layer(layer); }, stream);
}

void ModelWeights::build(const CheckpointReader& reader,
                         const std::function<const std::vector<HostLinear>&(int64_t layer)>& layer_linears,
                         cudaStream_t stream) {
  const int64_t hidden = config_.hidden_size, layers = config_.num_hidden_layers;
  embedding_ = upload_bf16(reader, "model.embed_tokens.weight", config_.vocab_size * hidden, stream);
  if (!config_.tie_word_embeddings)
    lm_head_ = upload_bf16(reader, "lm_head.weight", config_.vocab_size * hidden, stream);
  final_norm_ = upload_bf16(reader, "model.norm.weight", hidden, stream);
  for (int64_t layer = 0; layer < layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    LayerNormWeights n;
    norm_buffers_.push_back(upload_bf16(reader, prefix + "input_layernorm.weight", hidden, stream));
    n.input = norm_buffers_.back().as<__nv_bfloat16>();
    norm_buffers_.push_back(upload_bf16(reader, prefix + "self_attn.attn_sub_norm.weight", hidden, stream));
    n.attn_sub = norm_buffers_.back().as<__nv_bfloat16>();
    norm_buffers_.push_back(upload_bf16(reader, prefix + "post_attention_layernorm.weight", hidden, stream));
    n.post = norm_buffers_.back().as<__nv_bfloat16>();
    norm_buffers_.push_back(
        upload_bf16(reader, prefix + "mlp.ffn_sub_norm.weight", config_.intermediate_size, stream));
    n.ffn_sub = norm_buffers_.back().as<__nv_bfloat16>();
    norms_.push_back(n);
  }

  // Fused linears, layer by layer. Each slot's configuration, and whether it keeps a dense fallback
  // (only where the database timed that faster at some row count), is settled at its first weight,
  // while the host codes are at hand to un-slide.
  std::optional<TuningDatabase> fallback_db;
  if (!options_.dense_fallback_db.empty() && options_.backend == GemmBackend::CusparseLt)
    fallback_db = TuningDatabase::load(options_.dense_fallback_db, current_hardware_tag());
  std::array<std::optional<SlotPlan>, 4> plans;
  // Uploads one weight, codes [n, width] and their scales, in the row order of `c` (gate and up rows
  // interleaved for its relu2 * up epilogue), into `buffers` and scales_, and returns it as a linear
  // takes it. Waits for the copies where host bytes they read go away on return: its own interleaved
  // copies, and the caller's when `transient`.
  auto upload_weight = [&](const LinearConfig& c, std::span<const uint8_t> codes, int64_t n, int64_t width,
                           std::span<const uint8_t> scale, std::vector<DeviceBuffer>& buffers, const char* what,
                           bool transient) {
    std::vector<uint8_t> interleaved_codes, interleaved_scale;
    if (c.relu2_mul_epilogue) {
      interleaved_codes = interleave_gate_up_rows(codes, n, width, c.gate_up_block);
      interleaved_scale = interleave_gate_up_rows(scale, n, sizeof(float), c.gate_up_block);
      codes = interleaved_codes;
      scale = interleaved_scale;
    }
    buffers.push_back(upload(codes.data(), codes.size(), what, stream));
    scales_.push_back(upload(scale.data(), scale.size(), std::string(what) + " scale", stream));
    if (transient || c.relu2_mul_epilogue) CUDA_CHECK(cudaStreamSynchronize(stream));
    return LinearWeight{buffers.back().data(), scales_.back().as<float>(), scale_run(as_floats(scale))};
  };
  std::array<std::vector<LinearWeight>, 4> slot_weights, fallback_weights;
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (const HostLinear& h : layer_linears(layer)) {
      const size_t slot = static_cast<size_t>(h.slot);
      if (!plans[slot])
        plans[slot] = plan_slot(options_, description_, fallback_db ? &*fallback_db : nullptr, h.slot, h.n, h.k);
      const SlotPlan& plan = *plans[slot];
      require(plan.config.n == h.n && plan.config.k == h.k,
              "model weights: layer " + std::to_string(layer) + "'s " + std::string(linear_slot_name(h.slot)) +
                  " is " + std::to_string(h.n) + " x " + std::to_string(h.k) + ", layer 0's " +
                  std::to_string(plan.config.n) + " x " + std::to_string(plan.config.k));
      const std::span<const uint8_t> scale{reinterpret_cast<const uint8_t*>(h.scale.data()),
                                           h.scale.size() * sizeof(float)};
      if (!(plan.fallback_only && plan.fallback_copy))  // else nothing runs the slid weight
        slot_weights[slot].push_back(
            upload_weight(plan.config, h.codes, h.n, h.k_gemm, scale, codes_[slot], "linear weight", false));
      if (plan.fallback_copy) {  // the pruned weight [n, k] for the fallback, in its row order
        std::vector<uint8_t> unslid(static_cast<size_t>(h.n * h.k));
        unslide_weight_rows(make_slide_geometry(h.k, description_.sparsity.group()), h.codes.data(), h.k_gemm, h.n,
                            unslid.data());
        fallback_weights[slot].push_back(
            upload_weight(*plan.fallback, unslid, h.n, h.k, scale, fallback_codes_[slot], "un-slid weight", true));
      }
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));  // the layer's host copy may go now
  }
  for (size_t slot = 0; slot < 4; ++slot) {
    require(plans[slot].has_value(), "model weights: no " +
                                         std::string(linear_slot_name(static_cast<LinearSlot>(slot))) + " linear");
    const SlotPlan& plan = *plans[slot];
    std::optional<DenseFallback> fallback;
    if (plan.fallback) fallback = DenseFallback{*plan.fallback, fallback_weights[slot], plan.fallback_only};
    linears_[slot] = std::make_unique<W8A8Linear>(plan.config, slot_weights[slot], stream, fallback);
    // The sparse linear runs its compressed copy; a dense fallback the stored codes (a 2:4 weight with
    // K' = K in its row order) or its own copy.
    if (options_.backend == GemmBackend::CusparseLt && (!plan.fallback || plan.fallback_copy)) codes_[slot].clear();
  }
}

const __nv_bfloat16* ModelWeights::lm_head() const {
  return config_.tie_word_embeddings ? embedding() : lm_head_.as<__nv_bfloat16>();
}

}  // namespace slidesparse
