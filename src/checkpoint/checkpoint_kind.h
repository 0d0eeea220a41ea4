// What a checkpoint directory holds, decided from config.json (and slidesparse_config.json): the
// BF16 latent model, the released packed-ternary inference layout, our prepared W8A8 model, or a
// SlideSparse conversion of one.
#pragma once

#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "io/model_config.h"
#include "math/sparsity.h"
#include "math/weight_code.h"

namespace slidesparse {

enum class CheckpointKind { LatentBf16, PackedTernary, PreparedW8A8, SlideSparse };

std::string_view checkpoint_kind_name(CheckpointKind kind);

inline constexpr std::string_view kSlideSparseConfigFile = "slidesparse_config.json";
inline constexpr std::string_view kConversionReportFile = "conversion_report.json";

// The `quantization_config` our prepare step writes: per-tensor symmetric weights (ternary values in
// int8 / float8_e4m3; `weight_scale` multiplies), per-token dynamic symmetric activations.
nlohmann::json w8a8_quantization_config(QuantKind kind, std::string_view source_layout);

struct CheckpointDescription {
  CheckpointKind kind = CheckpointKind::LatentBf16;
  QuantKind quant = QuantKind::Int8;  // PreparedW8A8 and SlideSparse only
  Sparsity sparsity;                  // 2:L for SlideSparse, else dense
};

// Throws Error naming the directory when a quantization_config is present but not understood.
CheckpointDescription describe_checkpoint(const ModelConfig& config, const std::filesystem::path& dir);

}  // namespace slidesparse
