// How `slidesparse tune` records the prefill-attention variant it found fastest, and how the engine
// reads it back: one tuning-database kernel entry per (head_dim, tokens per step). Header-only so
// the kernels library itself stays free of JSON.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "kernels/attention_prefill.h"

namespace slidesparse {

inline constexpr const char* kAttentionPrefillKernelName = "attention_prefill";

// `cudnn`: whether cuDNN's SDPA (cudnn/cudnn_prefill_attention.h) beat the fastest variant of our
// kernel, which the entry names either way (the fallback for steps cuDNN does not take); absent when
// cuDNN was not timed (not loadable, or refused the shape), so the entry decides nothing about it.
inline nlohmann::json attention_prefill_config_json(const AttentionPrefillConfig& c,
                                                    std::optional<bool> cudnn = std::nullopt) {
  nlohmann::json j = {{"heads_per_cta", c.heads_per_cta}, {"key_tile", c.key_tile}, {"q_in_registers", c.q_in_registers}};
  if (cudnn) j["cudnn"] = *cudnn;
  return j;
}

// An entry without the field (cuDNN not timed, or a database from before the cuDNN path) leaves
// cuDNN's SDPA the default.
inline bool attention_prefill_prefers_cudnn(const nlohmann::json& j) { return j.value("cudnn", true); }

// Missing fields keep the defaults (a database from a build that knew fewer variants).
inline AttentionPrefillConfig attention_prefill_config_from_json(const nlohmann::json& j) {
  AttentionPrefillConfig c;
  c.heads_per_cta = j.value("heads_per_cta", c.heads_per_cta);
  c.key_tile = j.value("key_tile", c.key_tile);
  c.q_in_registers = j.value("q_in_registers", c.q_in_registers);
  return c;
}

}  // namespace slidesparse
