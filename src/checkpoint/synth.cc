#include "checkpoint/synth.h"

#include <algorithm>
#include <vector>

#include "text/placeholder_tokenizer.h"
#include "core/counter_rng.h"
#include "core/parallel.h"
#include "io/safetensors_writer.h"
#include "io/staged_directory.h"
#include "math/numeric_formats.h"

namespace slidesparse {

namespace {

constexpr float kWeightStd = 0.02f;
constexpr float kNormStd = 0.05f;
// Tensors are generated and written in pieces of this many elements, so memory stays flat.
constexpr int64_t kPieceElements = int64_t{32} << 20;

void fill_piece(uint64_t seed, uint64_t stream, int64_t first, int64_t count, float mean, float std,
                uint16_t* out) {
  parallel_for(count, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = float_to_bf16(mean + std * approx_normal(counter_hash(seed, stream, uint64_t(first + i))));
  });
}

}  // namespace

SynthResult synth_bitnet(const SynthOptions& options) {
  const nlohmann::json config_json = bitnet_config_json(options.dims);
  const ModelConfig config = parse_model_config(config_json, "synth");
  const std::vector<ModelTensor> tensors = bitnet_tensors(config);

  StagedDirectory out(options.output, options.force);
  std::vector<TensorDecl> decls;
  for (const auto& t : tensors) decls.push_back({t.name, DType::BF16, t.shape});
  SafetensorsWriter writer(out.path() / "model.safetensors", decls, {{"format", "pt"}});

  SynthResult result;
  std::vector<uint16_t> piece;
  for (const auto& t : tensors) {
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    const bool norm = t.role == TensorRole::Norm;
    const uint64_t stream = stream_id(t.name);
    piece.resize(static_cast<size_t>(std::min(numel, kPieceElements)));
    for (int64_t first = 0; first < numel; first += kPieceElements) {
      const int64_t count = std::min(kPieceElements, numel - first);
      fill_piece(options.seed, stream, first, count, norm ? 1.0f : 0.0f, norm ? kNormStd : kWeightStd,
                 piece.data());
      writer.append(t.name, std::as_bytes(std::span(piece.data(), static_cast<size_t>(count))));
    }
    result.bytes += static_cast<uint64_t>(numel) * 2;
    ++result.tensors;
  }
  writer.finish();
  write_file_atomic(out.path() / "config.json", config_json.dump(2) + "\n");
  write_placeholder_tokenizer(out.path(), config.vocab_size, config.bos_token_id, config.eos_token_id);
  out.commit();
  return result;
}

}  // namespace slidesparse
