// ModelRunner::forward, the BitNet forward pass of one step as the stream sees it (docs/ENGINE.md):
// embedding, per layer the fused norm + quantizer before each W8A8 GEMM, RoPE with the KV-cache
// write, prefill or decode attention, then the final norm, lm_head and the sampled rows' tokens.
// The rest of the runner (buffers, staging, graphs, launches) is in model_runner.cc.
#include "runtime/model_runner.h"

#include "kernels/attention_decode.h"
#include "kernels/attention_prefill.h"
#include "kernels/embedding.h"
#include "kernels/norm_quant.h"
#include "kernels/rope_kv.h"
#include "kernels/sampling.h"

namespace slidesparse {

void ModelRunner::forward(const StepShape& shape, const StagedLayout& staged_at, const CudnnAttentionBatch* cudnn) {
  const int tokens = shape.tokens, samples = shape.samples;
  const int64_t rows = shape.rows;
  const int32_t* staged = staged_device_.as<int32_t>();
  const auto& c = weights_.config();
  const float eps = static_cast<float>(c.rms_norm_eps);
  const QuantKind kind = weights_.description().quant;
  W8A8Linear& qkv = weights_.linear(LinearSlot::Qkv);
  W8A8Linear& o = weights_.linear(LinearSlot::O);
  W8A8Linear& gate_up = weights_.linear(LinearSlot::GateUp);
  W8A8Linear& down = weights_.linear(LinearSlot::Down);
  const RowLaunchConfigs& row_launch = prepared_rows_.at(rows);
  auto* h = residual_.as<__nv_bfloat16>();
  auto* codes = codes_.as<uint8_t>();
  const NormRows hidden_rows{tokens, hidden_}, inter_rows{tokens, inter_};
  // Where each linear's input norm writes: the shared code buffer and the scales it is given, in the
  // layout of the GEMM that runs at these rows (slid, or plain for a dense fallback).
  auto input_of = [&](const W8A8Linear& l, float* scale) {
    return QuantizedRows{kind, l.input_slide(rows), rows, l.input_k(rows), codes, scale};
  };
  void* acc = acc_.data();
  int parity = 0;  // scales alternate: a consumer reads the previous scales while writing the next
  auto next_scale = [&] { return scale_[parity ^= 1].as<float>(); };
  auto gemm = [&](W8A8Linear& l, const float* scale, int layer) {
    l.gemm(rows, codes, scale, acc, workspace_.data(), workspace_.bytes(), stream_, layer);
    return l.output_view(rows, acc, scale, layer);
  };

  AttentionBatch batch;
  batch.num_seqs = shape.seqs;
  batch.query_start = staged + staged_at.query_start;
  batch.seq_len = staged + staged_at.seq_len;
  batch.block_table = staged + staged_at.block_table;
  batch.max_blocks_per_seq = max_blocks_per_seq_;
  batch.max_query_len = shape.max_query_len;
  batch.max_seq_len = shape.max_seq_len;

  auto mark = [&](const char* phase) {
    if (profiler_) profiler_->mark(phase);
  };
  embedding_gather_gpu(weights_.embedding(), vocab_, hidden_, staged + staged_at.tokens,
                       staged + staged_at.carried_rows, sampled_.as<int32_t>(), tokens, h, error_flag_.as<int32_t>(),
                       stream_);
  mark("embedding");
  // o_proj and down_proj may add their output to the residual stream h in their epilogue
  // (LinearConfig::residual_epilogue): the norm after them then reads h alone. Each linear's form is
  // that of the GEMM that runs at these rows (a dense fallback's may differ from the sparse GEMM's).
  const bool o_adds_residual = o.running_config(rows).residual_epilogue;
  const bool down_adds_residual = down.running_config(rows).residual_epilogue;
  const bool gate_up_writes_mlp = gate_up.running_config(rows).relu2_mul_epilogue;
  AccView down_out;
  for (int layer = 0; layer < c.num_hidden_layers; ++layer) {
    const LayerNormWeights& norms = weights_.norms(layer);
    float* scale = next_scale();
    if (layer == 0 || down_adds_residual) {
      rmsnorm_quantize_gpu({h}, hidden_rows, {norms.input, eps}, input_of(qkv, scale), stream_, row_launch.tensor);
      mark(down_adds_residual ? "input tensor norm+quant" : "input norm+quant");
    } else {
      residual_rmsnorm_quantize_gpu(down_out, h, hidden_rows, {norms.input, eps}, input_of(qkv, scale), stream_,
                                    row_launch.residual);
      mark("input norm+quant");
    }
    const AccView qkv_out = gemm(qkv, scale, layer);
    mark("qkv GEMM");
    auto* q = q_.as<__nv_bfloat16>();
    auto* attn = attn_.as<__nv_bfloat16>();
    const auto* positions = staged + staged_at.positions;
    const auto* slots = staged + staged_at.slots;
    if (shape.decode && attention_decode_fuses_rope(qkv_out)) {  // one token per sequence: RoPE in attention
      const DecodeRope rope{qkv_out, positions, slots, rope_cos_.as<__nv_bfloat16>(), rope_sin_.as<__nv_bfloat16>()};
      attention_decode_rope_gpu(rope, cache_layers_[layer], batch, static_cast<int>(heads_), softmax_scale_, attn,
                                decode_workspace_.data(), decode_workspace_.bytes(), stream_, decode_config_);
      mark("rope+kv write+attention");
    } else {
      rope_kv_write_gpu(qkv_out, tokens, positions, slots, rope_cos_.as<__nv_bfloat16>(),
                        rope_sin_.as<__nv_bfloat16>(), static_cast<int>(heads_), cache_layers_[layer], q, stream_,
                        cudnn ? attention_->packed_kv() : nullptr);
      mark("rope+kv write");
      if (shape.decode)
        attention_decode_gpu(q, cache_layers_[layer], batch, static_cast<int>(heads_), softmax_scale_, attn,
                             decode_workspace_.data(), decode_workspace_.bytes(), stream_, decode_config_);
      else if (!cudnn || !attention_->run(q, *cudnn, attn))
        attention_prefill_gpu(q, cache_layers_[layer], batch, static_cast<int>(heads_), softmax_scale_, attn, stream_,
                              row_launch.attention);
      mark("attention");
    }
    scale = next_scale();
    rmsnorm_quantize_gpu({attn}, hidden_rows, {norms.attn_sub, eps}, input_of(o, scale), stream_, row_launch.tensor);
    mark("attn_sub norm+quant");
    if (o_adds_residual) {
      o.gemm(rows, codes, scale, h, workspace_.data(), workspace_.bytes(), stream_, layer);
      mark("o GEMM+residual");
      scale = next_scale();
      rmsnorm_quantize_gpu({h}, hidden_rows, {norms.post, eps}, input_of(gate_up, scale), stream_, row_launch.tensor);
      mark("post norm+quant");
    } else {
      const AccView o_out = gemm(o, scale, layer);
      mark("o GEMM");
      scale = next_scale();
      residual_rmsnorm_quantize_gpu(o_out, h, hidden_rows, {norms.post, eps}, input_of(gate_up, scale), stream_,
                                    row_launch.residual);
      mark("residual+post norm+quant");
    }
    const AccView gate_up_out = gemm(gate_up, scale, layer);
    scale = next_scale();
    if (gate_up_writes_mlp) {  // the GEMM wrote relu2(gate) * up, bf16 [rows, inter]
      mark("gate_up GEMM+relu2*up");
      rmsnorm_quantize_gpu({static_cast<const __nv_bfloat16*>(gate_up_out.data)}, inter_rows, {norms.ffn_sub, eps},
                           input_of(down, scale), stream_, row_launch.mlp_tensor);
      mark("ffn_sub norm+quant");
    } else {
      mark("gate_up GEMM");
      relu2_mul_rmsnorm_quantize_gpu(gate_up_out, inter_rows, {norms.ffn_sub, eps}, input_of(down, scale), stream_,
                                     row_launch.relu2);
      mark("relu2*up+ffn_sub norm+quant");
    }
    if (down_adds_residual) {
      down.gemm(rows, codes, scale, h, workspace_.data(), workspace_.bytes(), stream_, layer);
      mark("down GEMM+residual");
    } else {
      down_out = gemm(down, scale, layer);
      mark("down GEMM");
    }
  }
  // A step of only mid-prompt prefill chunks needs no next token: no final norm, no lm_head (a
  // zero-row GEMM is an invalid launch in cuBLASLt).
  if (samples == 0) return;
  auto* x = final_x_.as<__nv_bfloat16>();
  if (down_adds_residual)
    rmsnorm_rows_gpu(h, staged + staged_at.sample_rows, {samples, hidden_}, {weights_.final_norm(), eps}, x, stream_);
  else
    residual_rmsnorm_rows_gpu(down_out, h, staged + staged_at.sample_rows, {samples, hidden_},
                              {weights_.final_norm(), eps}, x, stream_);
  mark("final norm");
  const int64_t sample_rows = padded_rows(samples);
  lm_head_gemm_.run(weights_.lm_head(), x, logits_.as<float>(), sample_rows, workspace_.data(), workspace_.bytes(),
                    stream_);
  mark("lm_head GEMM");
  sample_rows_gpu(logits_.as<float>(), samples, vocab_, vocab_,
                  reinterpret_cast<const SampleRowParams*>(staged + staged_at.sample_params), sampled_.as<int32_t>(),
                  stream_);
  mark("sampling");
}

}  // namespace slidesparse
