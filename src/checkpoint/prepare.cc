#include "checkpoint/prepare.h"

#include <cmath>
#include <cstring>

#include "checkpoint/bitnet_layout.h"
#include "checkpoint/checkpoint_files.h"
#include "checkpoint/packed_ternary.h"
#include "core/error.h"
#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"
#include "io/staged_directory.h"
#include "math/numeric_formats.h"
#include "math/quantize.h"

namespace slidesparse {

namespace {

DType code_dtype(QuantKind kind) { return kind == QuantKind::Int8 ? DType::I8 : DType::F8_E4M3; }

// The single value of a [1] or [] scale tensor in any float dtype.
float scalar_value(const CheckpointReader& reader, const TensorRef& t) {
  require(t.info->numel() == 1, reader.location().string() + ": tensor '" + t.info->name +
                                    "' must hold one value, has shape " + shape_string(t.info->shape));
  uint16_t half = 0;
  float value = 0;
  switch (t.info->dtype) {
    case DType::BF16: std::memcpy(&half, t.data.data(), 2); return bf16_to_float(half);
    case DType::F16: std::memcpy(&half, t.data.data(), 2); return f16_to_float(half);
    case DType::F32: std::memcpy(&value, t.data.data(), 4); return value;
    default:
      fail(reader.location().string() + ": tensor '" + t.info->name + "' has dtype " +
           std::string(dtype_name(t.info->dtype)) + ", expected a float scale");
  }
}

}  // namespace

PrepareResult prepare_w8a8(const PrepareOptions& options) {
  const CheckpointReader reader(options.input);
  const ModelConfig config = load_model_config(reader.directory() / "config.json");
  require(config.model_type == "bitnet", reader.directory().string() +
                                             ": prepare supports BitNet checkpoints (model_type 'bitnet'), got '" +
                                             config.model_type + "'");
  PrepareResult result;
  result.source = describe_checkpoint(config, reader.directory()).kind;
  require(result.source == CheckpointKind::LatentBf16 || result.source == CheckpointKind::PackedTernary,
          reader.directory().string() + ": already a " + std::string(checkpoint_kind_name(result.source)) +
              " checkpoint; prepare takes the BF16 or the packed ternary BitNet checkpoint");
  const bool packed = result.source == CheckpointKind::PackedTernary;

  const std::vector<ModelTensor> layout = bitnet_tensors(config);
  std::vector<std::string> extra;
  if (config.tie_word_embeddings) extra.push_back("lm_head.weight");  // some exporters keep the tied copy
  for (const auto& t : layout)
    if (packed && t.role == TensorRole::Linear) extra.push_back(weight_scale_name(t.name));
  check_tensor_presence(reader, layout, extra);

  std::vector<TensorDecl> decls;
  for (const auto& t : layout) {
    const TensorRef& in = reader.get(t.name);
    if (t.role != TensorRole::Linear) {
      check_tensor_shape(reader, in, t.shape);
      decls.push_back({t.name, in.info->dtype, t.shape});
      continue;
    }
    if (packed) {
      check_tensor_dtype(reader, in, DType::U8);
      check_tensor_shape(reader, in, {packed_ternary_rows(t.shape[0]), t.shape[1]});
      reader.get(weight_scale_name(t.name));
    } else {
      check_tensor_dtype(reader, in, DType::BF16);
      check_tensor_shape(reader, in, t.shape);
    }
    decls.push_back({t.name, code_dtype(options.kind), t.shape});
    decls.push_back({weight_scale_name(t.name), DType::F32, {1}});
  }

  StagedDirectory out(options.output, options.force);
  SafetensorsWriter writer(out.path() / "model.safetensors", decls, {{"format", "pt"}});
  std::vector<uint8_t> codes;
  for (const auto& t : layout) {
    const TensorRef& in = reader.get(t.name);
    if (t.role != TensorRole::Linear) {
      writer.write(t.name, in.data);
      release_mapped_pages(in.data);
      continue;
    }
    const int64_t numel = t.shape[0] * t.shape[1];
    codes.resize(static_cast<size_t>(numel));
    PreparedLinear stats{t.name, 0, 0, numel};
    if (packed) {
      const float weight_scale = scalar_value(reader, reader.get(weight_scale_name(t.name)));
      require(std::isfinite(weight_scale) && weight_scale > 0,
              reader.location().string() + ": tensor '" + weight_scale_name(t.name) + "' must be positive");
      stats.scale = 1.0f / weight_scale;
      unpack_ternary(options.kind, reinterpret_cast<const uint8_t*>(in.data.data()), t.shape[0], t.shape[1],
                     codes.data());
      for (uint8_t c : codes) stats.zeros += code_is_zero(options.kind, c);
    } else {
      const auto* latent = reinterpret_cast<const uint16_t*>(in.data.data());
      stats.scale = absmean_scale_bf16(latent, numel);
      stats.zeros = ternarize_bf16(options.kind, latent, numel, stats.scale, codes.data());
    }
    release_mapped_pages(in.data);
    writer.write(t.name, std::as_bytes(std::span(codes)));
    writer.write(weight_scale_name(t.name), std::as_bytes(std::span(&stats.scale, 1)));
    result.linears.push_back(stats);
  }
  writer.finish();
  result.tensors_written = static_cast<int64_t>(decls.size());

  nlohmann::json config_out = config.raw;
  config_out["quantization_config"] =
      w8a8_quantization_config(options.kind, packed ? "packed-ternary" : "bf16-latent");
  write_file_atomic(out.path() / "config.json", config_out.dump(2) + "\n");
  copy_side_files(reader.directory(), out.path(), {});
  out.commit();
  return result;
}

}  // namespace slidesparse
