// The engine options shared by `generate` and `bench throughput`.
#pragma once

#include <string>

#include "cli/args.h"
#include "gemm/gemm_types.h"
#include "runtime/llm_engine.h"

namespace slidesparse {

void add_engine_options(ArgParser& p);
EngineOptions engine_options_from(const ArgParser& p);
// "auto" picks cuSPARSELt for a SlideSparse checkpoint and cuBLASLt otherwise.
GemmBackend resolve_backend(const std::string& name, const std::filesystem::path& model);
double parse_double(const std::string& option, const std::string& text);

}  // namespace slidesparse
