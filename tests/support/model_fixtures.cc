#include "model_fixtures.h"

#include <algorithm>
#include <cmath>

#include "checkpoint/convert.h"
#include "checkpoint/prepare.h"
#include "checkpoint/synth.h"
#include "io/safetensors_reader.h"
#include "test_support.h"

namespace slidesparse::testing {

void write_checkpoints(const std::filesystem::path& dir, const CheckpointSet& set) {
  std::filesystem::path source = set.source;
  if (source.empty()) {
    SynthOptions o;
    o.dims = bitnet_preset("bitnet-tiny");
    if (set.intermediate_size > 0) o.dims.intermediate_size = set.intermediate_size;
    o.seed = set.seed;
    o.output = source = dir / "bf16";
    synth_bitnet(o);
  }
  for (QuantKind kind : set.kinds)
    prepare_w8a8({source, dir / (kind == QuantKind::Int8 ? "int8" : "fp8"), kind, false});
  for (int group : set.groups) {
    ConvertOptions c;
    c.input = dir / "int8";
    c.pattern = Sparsity::two_of(group);
    convert_slidesparse(c);
  }
}

Oracle load_oracle() {
  const CheckpointReader reader(test_data_dir() / "tiny_bitnet_expected.safetensors");
  const TensorRef& ids = reader.get("oracle.input_ids");
  const TensorRef& logits = reader.get("oracle.logits");
  Oracle o;
  o.tokens = ids.info->shape[1];
  o.vocab = logits.info->shape[2];
  const auto flat = tensor_values<int32_t>(ids);
  for (int64_t b = 0; b < ids.info->shape[0]; ++b)
    o.sequences.emplace_back(flat.begin() + b * o.tokens, flat.begin() + (b + 1) * o.tokens);
  o.logits = tensor_values<float>(logits);
  return o;
}

Agreement compare_logits(const std::vector<float>& ours, const std::vector<float>& oracle, int64_t vocab) {
  double square = 0, absolute = 0, diff = 0, max_diff = 0;
  for (size_t i = 0; i < oracle.size(); ++i) {
    square += double(oracle[i]) * oracle[i];
    absolute += std::fabs(oracle[i]);
    const double e = std::fabs(double(ours[i]) - oracle[i]);
    diff += e;
    max_diff = std::max(max_diff, e);
  }
  const int64_t rows = static_cast<int64_t>(oracle.size()) / vocab;
  int64_t agree = 0;
  for (int64_t r = 0; r < rows; ++r) {
    auto top = [&](const std::vector<float>& v) {
      return std::max_element(v.begin() + r * vocab, v.begin() + (r + 1) * vocab) - v.begin();
    };
    agree += top(ours) == top(oracle);
  }
  Agreement a;
  a.max_diff_over_rms = max_diff / std::sqrt(square / oracle.size());
  a.mean_relative = diff / absolute;
  a.argmax = double(agree) / rows;
  return a;
}

void write_pruned_dense(const std::filesystem::path& prepared, const std::filesystem::path& out, int group) {
  ConvertOptions c;
  c.input = prepared;
  c.output = out;
  c.pattern = Sparsity::two_of(group);
  c.slide = false;
  convert_slidesparse(c);
}

}  // namespace slidesparse::testing
