#include "checkpoint/checkpoint_kind.h"

#include <string>

#include "core/error.h"

namespace slidesparse {

std::string_view checkpoint_kind_name(CheckpointKind kind) {
  switch (kind) {
    case CheckpointKind::LatentBf16: return "bf16 latent weights";
    case CheckpointKind::PackedTernary: return "packed ternary (released inference layout)";
    case CheckpointKind::PreparedW8A8: return "prepared W8A8";
    case CheckpointKind::SlideSparse: return "SlideSparse";
  }
  return "?";
}

nlohmann::json w8a8_quantization_config(QuantKind kind, std::string_view source_layout) {
  const bool int8 = kind == QuantKind::Int8;
  const std::string type = int8 ? "int" : "float";
  return {
      {"quant_method", "slidesparse"},
      {"format", int8 ? "w8a8-int8" : "w8a8-fp8-e4m3"},
      {"weights",
       {{"type", type}, {"num_bits", 8}, {"strategy", "tensor"}, {"symmetric", true}, {"dynamic", false},
        {"values", "ternary"}, {"scale_tensor", "weight_scale"}, {"scale_semantics", "multiplies"}}},
      {"input_activations",
       {{"type", type}, {"num_bits", 8}, {"strategy", "token"}, {"symmetric", true}, {"dynamic", true},
        {"qmax", int8 ? 127 : 448}}},
      {"ignore", {"lm_head", "model.embed_tokens"}},
      {"source_layout", source_layout},
  };
}

CheckpointDescription describe_checkpoint(const ModelConfig& config, const std::filesystem::path& dir) {
  CheckpointDescription d;
  const auto qc = config.raw.find("quantization_config");
  if (qc == config.raw.end() || qc->is_null()) return d;
  const std::string method = qc->value("quant_method", "");
  if (method == "bitnet") {
    d.kind = CheckpointKind::PackedTernary;
    return d;
  }
  require(method == "slidesparse",
          dir.string() + ": unsupported quantization_config.quant_method '" + method + "'");
  const std::string format = qc->value("format", "");
  require(format == "w8a8-int8" || format == "w8a8-fp8-e4m3",
          dir.string() + ": unsupported quantization_config.format '" + format + "'");
  d.quant = format == "w8a8-int8" ? QuantKind::Int8 : QuantKind::Fp8E4M3;
  d.kind = CheckpointKind::PreparedW8A8;
  const auto slide_config = dir / kSlideSparseConfigFile;
  if (std::filesystem::exists(slide_config)) {
    const nlohmann::json sc = read_json_file(slide_config);
    require(sc.contains("L") && sc["L"].is_number_integer(), slide_config.string() + ": missing field 'L'");
    const int group = sc["L"].get<int>();
    require(group >= kMinGroup && group <= kMaxGroup && group % 2 == 0,
            slide_config.string() + ": L = " + std::to_string(group) + " is not an even group size in [" +
                std::to_string(kMinGroup) + ", " + std::to_string(kMaxGroup) + "]");
    d.kind = CheckpointKind::SlideSparse;
    d.sparsity = Sparsity::two_of(group);
  }
  return d;
}

}  // namespace slidesparse
