#include "pipeline/pipeline_options.h"

#include "checkpoint/bitnet_layout.h"
#include "core/error.h"

namespace slidesparse {

void apply_quick_profile(PipelineOptions& o) {
  if (o.model.empty()) o.preset = "bitnet-small";
  o.sparsities = {Sparsity::two_of(4), Sparsity::two_of(8)};
  o.low_sparsities = {Sparsity::two_of_inf()};
  o.prefill_ms = {512, 2048};
  o.decode_ms = {64, 256};
  o.kernel_ms = {256, 4096};
  o.tune_coarse_ms = {1024, 4096};
  o.tune_fine = false;
}

std::array<bool, 9> parse_task_mask(const std::string& text) {
  const std::string bad =
      "option '--tasks' expects 9 comma-separated 0/1 flags (e.g. 1,1,0,0,0,0,0,0,0), got '" + text + "'";
  std::array<bool, 9> mask{};
  size_t i = 0;
  for (size_t pos = 0; pos < text.size(); pos += 2) {
    require(i < mask.size() && (text[pos] == '0' || text[pos] == '1'), bad);
    require(pos + 1 == text.size() || text[pos + 1] == ',', bad);
    mask[i++] = text[pos] == '1';
  }
  require((i == mask.size() || i == mask.size() - 1) && !text.ends_with(','), bad);
  if (i == mask.size() - 1) mask.back() = true;  // the eight-flag form of older builds
  return mask;
}

std::string pipeline_model_label(const PipelineOptions& o) {
  if (!o.model.empty() || o.preset == "bitnet-2b") return "BitNet-2B";
  bitnet_preset(o.preset);  // an unknown preset is an error listing the known ones
  if (o.preset == "bitnet-small") return "BitNet-Small";
  if (o.preset == "bitnet-tiny") return "BitNet-Tiny";
  return o.preset;
}

}  // namespace slidesparse
