#include "checkpoint/linear_weights.h"

#include <cstring>

#include "checkpoint/bitnet_layout.h"
#include "core/error.h"
#include "math/slide.h"

namespace slidesparse {

namespace {

struct SlotParts {
  LinearSlot slot;
  std::vector<std::string> parts;  // tensor names relative to the layer prefix, stacked in order
};

const std::vector<SlotParts>& slot_parts() {
  static const std::vector<SlotParts> parts = {
      {LinearSlot::Qkv, {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
      {LinearSlot::O, {"self_attn.o_proj"}},
      {LinearSlot::GateUp, {"mlp.gate_proj", "mlp.up_proj"}},
      {LinearSlot::Down, {"mlp.down_proj"}},
  };
  return parts;
}

float scalar_scale(const CheckpointReader& reader, const std::string& name) {
  const TensorRef& t = reader.get(name);
  require(t.info->dtype == DType::F32 && t.info->numel() == 1,
          reader.location().string() + ": tensor '" + name + "' must be one F32 value");
  float v;
  std::memcpy(&v, t.data.data(), sizeof v);
  require(v > 0.0f, reader.location().string() + ": tensor '" + name + "' must be positive");
  return v;
}

}  // namespace

std::string_view linear_slot_name(LinearSlot slot) {
  switch (slot) {
    case LinearSlot::Qkv: return "qkv";
    case LinearSlot::O: return "o";
    case LinearSlot::GateUp: return "gate_up";
    case LinearSlot::Down: return "down";
  }
  return "?";
}

CheckpointDescription require_engine_checkpoint(const ModelConfig& config, const CheckpointReader& reader,
                                                bool sparse_backend) {
  const CheckpointDescription d = describe_checkpoint(config, reader.directory());
  const std::string dir = reader.directory().string();
  if (sparse_backend)
    require(d.kind == CheckpointKind::SlideSparse,
            dir + ": the cuSPARSELt backend needs a SlideSparse checkpoint (slidesparse convert), this is " +
                std::string(checkpoint_kind_name(d.kind)));
  else
    require(d.kind == CheckpointKind::PreparedW8A8,
            dir + ": the cuBLASLt backend needs a prepared W8A8 checkpoint (slidesparse prepare), this is " +
                std::string(checkpoint_kind_name(d.kind)));
  return d;
}

std::vector<HostLinear> load_layer_linears(const CheckpointReader& reader, const ModelConfig& config,
                                           const CheckpointDescription& description, int layer) {
  require(layer >= 0 && layer < config.num_hidden_layers, "layer " + std::to_string(layer) + " out of range");
  const bool slid = description.kind == CheckpointKind::SlideSparse;
  const DType code_dtype = description.quant == QuantKind::Int8 ? DType::I8 : DType::F8_E4M3;
  // Expected [N, K] per tensor from the BitNet layout.
  std::vector<ModelTensor> layout = bitnet_tensors(config);
  auto expected_shape = [&](const std::string& name) {
    for (const auto& t : layout)
      if (t.name == name) return t.shape;
    fail("no tensor '" + name + "' in the BitNet layout");
  };
  const std::string prefix = "model.layers." + std::to_string(layer) + ".";
  std::vector<HostLinear> linears;
  for (const auto& [slot, parts] : slot_parts()) {
    HostLinear l;
    l.slot = slot;
    for (const auto& part : parts) {
      const std::string name = prefix + part + ".weight";
      const std::vector<int64_t> shape = expected_shape(name);
      const int64_t n = shape[0], k = shape[1];
      const int64_t k_gemm = slid ? make_slide_geometry(k, description.sparsity.group()).k_slid : k;
      const TensorRef& w = reader.get(name);
      require(w.info->dtype == code_dtype, reader.location().string() + ": tensor '" + name + "' has dtype " +
                                               std::string(dtype_name(w.info->dtype)) + ", expected " +
                                               std::string(dtype_name(code_dtype)));
      require(w.info->shape == std::vector<int64_t>{n, k_gemm},
              reader.location().string() + ": tensor '" + name + "' has shape " + shape_string(w.info->shape) +
                  ", expected " + shape_string({n, k_gemm}));
      require(l.codes.empty() || l.k == k, "fused parts of " + std::string(linear_slot_name(slot)) + " differ in K");
      l.k = k;
      l.k_gemm = k_gemm;
      l.n += n;
      const auto* bytes = reinterpret_cast<const uint8_t*>(w.data.data());
      l.codes.insert(l.codes.end(), bytes, bytes + w.data.size());
      l.scale.insert(l.scale.end(), static_cast<size_t>(n), scalar_scale(reader, weight_scale_name(name)));
    }
    linears.push_back(std::move(l));
  }
  return linears;
}

}  // namespace slidesparse
