// `slidesparse inspect`: a summary of any checkpoint this tool reads or writes (kind, architecture,
// tensors, dtypes, shapes, scales, per-layer zero fraction and Z:L validity), as JSON or text.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace slidesparse {

nlohmann::json inspect_checkpoint(const std::filesystem::path& location);

std::string format_inspection(const nlohmann::json& summary);

}  // namespace slidesparse
