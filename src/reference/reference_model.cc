#include "reference/reference_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "checkpoint/bitnet_layout.h"
#include "core/error.h"
#include "core/parallel.h"
#include "io/safetensors_reader.h"
#include "math/activation.h"
#include "math/attention.h"
#include "math/numeric_formats.h"
#include "math/quantize.h"
#include "math/reference_linear.h"
#include "math/rmsnorm.h"

namespace slidesparse {

namespace {

// A bf16 / f16 / f32 tensor as bf16 bits, checked against the layout's shape. transformers loads
// the model in bf16, so wider norms or embeddings would be rounded to bf16 the same way.
std::vector<uint16_t> load_bf16(const CheckpointReader& reader, const ModelTensor& expected) {
  const TensorRef& t = reader.get(expected.name);
  const std::string where = reader.directory().string() + ": tensor '" + expected.name + "'";
  require(t.info->shape == expected.shape, where + " has shape " + shape_string(t.info->shape) + ", expected " +
                                               shape_string(expected.shape));
  const int64_t n = t.info->numel();
  std::vector<uint16_t> out(static_cast<size_t>(n));
  switch (t.info->dtype) {
    case DType::BF16:
      std::memcpy(out.data(), t.data.data(), out.size() * sizeof(uint16_t));
      break;
    case DType::F16:
    case DType::F32:
      for (int64_t i = 0; i < n; ++i) {
        float v;
        if (t.info->dtype == DType::F32) {
          std::memcpy(&v, t.data.data() + i * 4, 4);
        } else {
          uint16_t bits;
          std::memcpy(&bits, t.data.data() + i * 2, 2);
          v = f16_to_float(bits);
        }
        out[i] = float_to_bf16(v);
      }
      break;
    default:
      fail(where + " has dtype " + std::string(dtype_name(t.info->dtype)) + ", expected BF16, F16 or F32");
  }
  return out;
}

}  // namespace

ReferenceModel::ReferenceModel(const std::filesystem::path& dir) {
  const CheckpointReader reader(dir);
  config_ = load_model_config(reader.directory() / "config.json");
  const std::string where = reader.directory().string();
  require(config_.model_type == "bitnet", where + ": the reference model runs BitNet, config has model_type '" +
                                              config_.model_type + "'");
  require(config_.hidden_act == "relu2",
          where + ": BitNet's MLP activation is relu2, config has '" + config_.hidden_act + "'");
  description_ = describe_checkpoint(config_, reader.directory());
  require(description_.kind == CheckpointKind::PreparedW8A8 || description_.kind == CheckpointKind::SlideSparse,
          where + ": the reference model needs a prepared W8A8 or SlideSparse checkpoint, this is " +
              std::string(checkpoint_kind_name(description_.kind)));

  const std::vector<ModelTensor> layout = bitnet_tensors(config_);
  auto tensor = [&](const std::string& name) -> const ModelTensor& {
    for (const auto& t : layout)
      if (t.name == name) return t;
    fail(where + ": no tensor '" + name + "' in the BitNet layout");
  };
  embedding_ = load_bf16(reader, tensor("model.embed_tokens.weight"));
  final_norm_ = load_bf16(reader, tensor("model.norm.weight"));
  if (!config_.tie_word_embeddings) lm_head_ = load_bf16(reader, tensor("lm_head.weight"));
  for (int i = 0; i < config_.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer layer;
    layer.input_norm = load_bf16(reader, tensor(p + "input_layernorm.weight"));
    layer.attn_sub_norm = load_bf16(reader, tensor(p + "self_attn.attn_sub_norm.weight"));
    layer.post_norm = load_bf16(reader, tensor(p + "post_attention_layernorm.weight"));
    layer.ffn_sub_norm = load_bf16(reader, tensor(p + "mlp.ffn_sub_norm.weight"));
    layer.linears = load_layer_linears(reader, config_, description_, i);
    layers_.push_back(std::move(layer));
  }
  rope_ = make_rope_table(static_cast<int>(config_.head_dim), static_cast<int>(config_.max_position_embeddings),
                          config_.rope_theta);
}

void ReferenceModel::norm_linear(const uint16_t* x, const std::vector<uint16_t>& norm, const HostLinear& linear,
                                 int64_t rows, uint16_t* out) const {
  const QuantKind kind = description_.quant;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  std::vector<uint8_t> codes(static_cast<size_t>(rows * linear.k_gemm));
  std::vector<float> scale_x(static_cast<size_t>(rows));
  if (description_.kind == CheckpointKind::SlideSparse) {
    // The slid weight [N, K'] meets the lifted activation x'[m, j'] = q(x[m, map(j')]).
    const SlideGeometry geometry = make_slide_geometry(linear.k, description_.sparsity.group());
    rmsnorm_quantize_rows(kind, x, norm.data(), rows, linear.k, eps, &geometry, codes.data(), scale_x.data());
  } else {
    rmsnorm_quantize_rows(kind, x, norm.data(), rows, linear.k, eps, nullptr, codes.data(), scale_x.data());
  }
  std::vector<float> y(static_cast<size_t>(rows * linear.n));
  reference_linear_w8a8(kind, codes.data(), scale_x.data(), linear.codes.data(), linear.scale.data(), rows, linear.n,
                        linear.k_gemm, y.data());
  parallel_for(static_cast<int64_t>(y.size()), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = float_to_bf16(y[i]);
  });
}

std::vector<float> ReferenceModel::forward(const std::vector<int32_t>& tokens) const {
  const int64_t t_count = static_cast<int64_t>(tokens.size());
  require(t_count >= 1 && t_count <= config_.max_position_embeddings,
          "reference model: " + std::to_string(t_count) + " tokens, expected 1.." +
              std::to_string(config_.max_position_embeddings));
  const int64_t hidden = config_.hidden_size, inter = config_.intermediate_size, vocab = config_.vocab_size;
  const int heads = static_cast<int>(config_.num_attention_heads);
  const int kv_heads = static_cast<int>(config_.num_key_value_heads);
  const int d = static_cast<int>(config_.head_dim);
  const int64_t q_width = int64_t{heads} * d, kv_width = int64_t{kv_heads} * d;

  std::vector<uint16_t> h(static_cast<size_t>(t_count * hidden));
  for (int64_t t = 0; t < t_count; ++t) {
    require(tokens[t] >= 0 && tokens[t] < vocab, "reference model: token " + std::to_string(tokens[t]) +
                                                     " at position " + std::to_string(t) + " outside the vocab of " +
                                                     std::to_string(vocab));
    std::memcpy(h.data() + t * hidden, embedding_.data() + tokens[t] * hidden, hidden * sizeof(uint16_t));
  }

  // One sequence in one cache block of t_count tokens: block 0, kv head, offset = position.
  HostKvCache cache;
  cache.num_blocks = 1;
  cache.block_size = static_cast<int>(t_count);
  cache.kv_heads = kv_heads;
  cache.head_dim = d;
  cache.k.resize(static_cast<size_t>(t_count * kv_width));
  cache.v.resize(cache.k.size());
  HostAttentionBatch batch;
  batch.query_start = {0, static_cast<int32_t>(t_count)};
  batch.seq_len = {static_cast<int32_t>(t_count)};
  batch.block_table = {0};
  batch.max_blocks_per_seq = 1;
  const float softmax_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));

  std::vector<uint16_t> qkv, q(static_cast<size_t>(t_count * q_width)), attn(q.size()), branch(h.size());
  std::vector<uint16_t> gate_up, act(static_cast<size_t>(t_count * inter));
  for (const Layer& layer : layers_) {
    const HostLinear& qkv_linear = layer.linears[static_cast<int>(LinearSlot::Qkv)];
    qkv.resize(static_cast<size_t>(t_count * qkv_linear.n));
    norm_linear(h.data(), layer.input_norm, qkv_linear, t_count, qkv.data());
    // Split q | k | v and rotate q and k; keys and values go to the cache's [kv head][position] rows.
    parallel_for(t_count, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const uint16_t* row = qkv.data() + t * qkv_linear.n;
        std::memcpy(q.data() + t * q_width, row, q_width * sizeof(uint16_t));
        for (int hd = 0; hd < heads; ++hd) apply_rope(rope_, static_cast<int>(t), q.data() + t * q_width + hd * d);
        for (int kv = 0; kv < kv_heads; ++kv) {
          uint16_t* k = cache.k.data() + (kv * t_count + t) * d;
          std::memcpy(k, row + q_width + kv * d, d * sizeof(uint16_t));
          apply_rope(rope_, static_cast<int>(t), k);
          std::memcpy(cache.v.data() + (kv * t_count + t) * d, row + q_width + kv_width + kv * d,
                      d * sizeof(uint16_t));
        }
      }
    });
    attention_reference(q.data(), cache, batch, heads, softmax_scale, attn.data());
    norm_linear(attn.data(), layer.attn_sub_norm, layer.linears[static_cast<int>(LinearSlot::O)], t_count,
                branch.data());
    add_rows_bf16(h.data(), branch.data(), static_cast<int64_t>(h.size()), h.data());

    const HostLinear& gate_up_linear = layer.linears[static_cast<int>(LinearSlot::GateUp)];
    gate_up.resize(static_cast<size_t>(t_count * gate_up_linear.n));
    norm_linear(h.data(), layer.post_norm, gate_up_linear, t_count, gate_up.data());
    relu2_mul_rows_bf16(gate_up.data(), t_count, inter, act.data());
    norm_linear(act.data(), layer.ffn_sub_norm, layer.linears[static_cast<int>(LinearSlot::Down)], t_count,
                branch.data());
    add_rows_bf16(h.data(), branch.data(), static_cast<int64_t>(h.size()), h.data());
  }

  std::vector<uint16_t> x(h.size());
  rmsnorm_rows_bf16(h.data(), final_norm_.data(), t_count, hidden, static_cast<float>(config_.rms_norm_eps),
                    x.data());
  const std::vector<uint16_t>& head = lm_head_.empty() ? embedding_ : lm_head_;
  std::vector<float> logits(static_cast<size_t>(t_count * vocab));
  std::vector<float> xf(x.size());
  for (size_t i = 0; i < x.size(); ++i) xf[i] = bf16_to_float(x[i]);
  parallel_for(t_count * vocab, std::max<int64_t>(1, (int64_t{1} << 16) / hidden), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / vocab, v = i % vocab;
      const uint16_t* w_bits = head.data() + v * hidden;
      double sum = 0;
      for (int64_t c = 0; c < hidden; ++c) sum += static_cast<double>(xf[t * hidden + c]) * bf16_to_float(w_bits[c]);
      logits[i] = static_cast<float>(sum);
    }
  });
  return logits;
}

}  // namespace slidesparse
